"""What every page does first and last."""

import streamlit as st

from app.server_limits import apply_torch_threads, read_limits

APP_NAME = "Meta-Learning Playground"
LINK_KEY = "_link_at_arrival"
# Query parameters that follow the visitor from page to page (the others belong to one page).
CARRIED_PARAMS = ("lang",)

# The sidebar's navigation: (section caption, [(page file, title, icon)]). Streamlit's automatic
# navigation is off (.streamlit/config.toml), so these titles are the only ones a visitor sees.
NAVIGATION = [
    ("Start", [
        ("streamlit_app.py", "Home", ":material/home:"),
        ("pages/1_Episodes.py", "Episodes", ":material/grid_view:"),
    ]),
    ("Algorithms", [
        ("pages/2_Prototypical_Networks.py", "Prototypical Networks", ":material/scatter_plot:"),
        ("pages/3_MAML.py", "MAML", ":material/timeline:"),
        ("pages/4_MAML_regression.py", "MAML regression", ":material/ssid_chart:"),
        ("pages/5_Relation_Networks.py", "Relation Networks", ":material/grid_on:"),
    ]),
    ("Your data", [
        ("pages/6_Your_images.py", "Your images", ":material/add_photo_alternate:"),
    ]),
    ("Compare and play", [
        ("pages/7_Compare.py", "Compare", ":material/leaderboard:"),
        ("pages/8_You_vs_the_model.py", "You vs the model", ":material/sports_esports:"),
        ("pages/9_Which_algorithm.py", "Which algorithm?", ":material/alt_route:"),
    ]),
    ("Learn", [
        ("pages/10_Learn_meta-learning.py", "Meta-learning", ":material/school:"),
        ("pages/11_Learn_algorithms.py", "Algorithms, step by step", ":material/functions:"),
        ("pages/12_Learn_applications.py", "Applications", ":material/medical_services:"),
    ]),
]  # fmt: skip


def page_setup(title: str) -> None:
    """Browser tab title, a local icon (no favicon fetched from a CDN), a wide layout.

    Draws the sidebar's navigation (``navigation_sidebar``). Also keeps the query string the session
    arrived with: widgets bound to the URL silently drop values they cannot take, and
    ``report_unused_link_values`` says so; and applies the host's limits (``app.server_limits``),
    saying which settings it could not use.
    """
    st.set_page_config(page_title=f"{title} · {APP_NAME}", page_icon="🧪", layout="wide")
    navigation_sidebar()
    limits, problems = read_limits()
    apply_torch_threads(limits)
    for problem in problems:
        st.sidebar.warning(f"Server setting ignored: {problem}.", icon=":material/settings:")
    if LINK_KEY not in st.session_state:
        st.session_state[LINK_KEY] = dict(st.query_params)


def carried_params() -> dict[str, str]:
    """The query parameters of this URL that every page link keeps (``CARRIED_PARAMS``)."""
    return {key: st.query_params[key] for key in CARRIED_PARAMS if key in st.query_params}


def navigation_sidebar() -> None:
    """Every page under a section caption, as links that keep ``carried_params``."""
    carried = carried_params() or None
    for caption, entries in NAVIGATION:
        st.sidebar.caption(caption)
        for page, title, icon in entries:
            st.sidebar.page_link(page, label=title, icon=icon, query_params=carried)
    st.sidebar.divider()


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
