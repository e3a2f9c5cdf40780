"""What every page does first and last."""

import streamlit as st

from app.server_limits import apply_torch_threads, read_limits

APP_NAME = "Meta-Learning Playground"
LINK_KEY = "_link_at_arrival"


def page_setup(title: str) -> None:
    """Browser tab title, a local icon (no favicon fetched from a CDN), a wide layout.

    Also keeps the query string the session arrived with: widgets bound to the URL
    silently drop values they cannot take, and ``report_unused_link_values`` says so;
    and applies the host's limits (``app.server_limits``), saying which settings it could not use.
    """
    st.set_page_config(page_title=f"{title} · {APP_NAME}", page_icon="🧪", layout="wide")
    limits, problems = read_limits()
    apply_torch_threads(limits)
    for problem in problems:
        st.sidebar.warning(f"Server setting ignored: {problem}.", icon=":material/settings:")
    if LINK_KEY not in st.session_state:
        st.session_state[LINK_KEY] = dict(st.query_params)


def report_unused_link_values(values: dict[str, object]) -> None:
    """Warn, once per session, about link settings the page could not use."""
    link = st.session_state.get(LINK_KEY)
    if not link:
        return
    st.session_state[LINK_KEY] = {}
    for key, value in values.items():
        raw = link.get(key)
        if raw is not None and raw != str(value):
            st.warning(
                f"The link asked for {key}={raw}, which is not a valid choice here; showing {key}={value} instead."
            )
