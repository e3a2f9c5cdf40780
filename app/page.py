"""What every page does first and last."""

import streamlit as st

from app.i18n import DEFAULT, LANGUAGES, NATIVE_NAMES, PARAM, current_language, t
from app.server_limits import apply_torch_threads, limit_problem_text, read_limits

APP_NAME = "Meta-Learning Playground"
LINK_KEY = "_link_at_arrival"
LANGUAGE_SWITCH_KEY = "language_switch"
# Query parameters that follow the visitor from page to page (the others belong to one page).
CARRIED_PARAMS = (PARAM,)

# The sidebar's navigation: (section, [(page file, name, icon)]). Titles are the catalog's
# ``nav.<section>`` and ``nav.<name>``. Streamlit's automatic navigation is off
# (.streamlit/config.toml), so these titles are the only ones a visitor sees.
NAVIGATION = [
    ("start", [
        ("streamlit_app.py", "home", ":material/home:"),
        ("pages/1_Episodes.py", "episodes", ":material/grid_view:"),
    ]),
    ("algorithms", [
        ("pages/2_Prototypical_Networks.py", "protonet", ":material/scatter_plot:"),
        ("pages/3_MAML.py", "maml", ":material/timeline:"),
        ("pages/4_MAML_regression.py", "maml_regression", ":material/ssid_chart:"),
        ("pages/13_MAML_in_2D.py", "maml_2d", ":material/explore:"),
        ("pages/5_Relation_Networks.py", "relationnet", ":material/grid_on:"),
    ]),
    ("your_data", [
        ("pages/6_Your_images.py", "your_images", ":material/add_photo_alternate:"),
    ]),
    ("compare_and_play", [
        ("pages/7_Compare.py", "compare", ":material/leaderboard:"),
        ("pages/8_You_vs_the_model.py", "game", ":material/sports_esports:"),
        ("pages/9_Which_algorithm.py", "which_algorithm", ":material/alt_route:"),
    ]),
    ("learn", [
        ("pages/10_Learn_meta-learning.py", "learn_meta_learning", ":material/school:"),
        ("pages/11_Learn_algorithms.py", "learn_algorithms", ":material/functions:"),
        ("pages/12_Learn_applications.py", "learn_applications", ":material/medical_services:"),
        ("pages/14_Glossary.py", "glossary", ":material/translate:"),
    ]),
]  # fmt: skip


def page_setup(title: str) -> None:
    """Browser tab title, a local icon (no favicon fetched from a CDN), a wide layout.

    Draws the language switch and the sidebar's navigation (``navigation_sidebar``). Also keeps
    the query string the session arrived with: widgets bound to the URL silently drop values they
    cannot take, and ``report_unused_link_values`` says so; and applies the host's limits
    (``app.server_limits``), saying which settings it could not use.
    """
    app_name = t("app.name")
    st.set_page_config(page_title=f"{title} · {app_name}", page_icon="🧪", layout="wide")
    language_switch()
    navigation_sidebar()
    limits, problems = read_limits()
    apply_torch_threads(limits)
    for problem in problems:
        st.sidebar.warning(t("limits.ignored", problem=limit_problem_text(problem)), icon=":material/settings:")
    if LINK_KEY not in st.session_state:
        st.session_state[LINK_KEY] = dict(st.query_params)


def _store_language() -> None:
    st.query_params[PARAM] = st.session_state[LANGUAGE_SWITCH_KEY]


def language_switch() -> None:
    """English / 中文 at the top of the sidebar, written to the URL so that a shared link keeps it.

    A first visit without ``?lang=`` follows the browser's language; a language other than the
    default then goes into the URL too.
    """
    raw = st.query_params.get(PARAM)
    language = current_language()
    if raw is not None and raw not in LANGUAGES:
        st.sidebar.warning(t("page.bad_lang", value=raw, language=NATIVE_NAMES[language]))
    if raw != language and (raw is not None or language != DEFAULT):
        st.query_params[PARAM] = language
    st.session_state[LANGUAGE_SWITCH_KEY] = language
    st.sidebar.segmented_control(
        t("page.language"), LANGUAGES, format_func=NATIVE_NAMES.get, key=LANGUAGE_SWITCH_KEY,
        on_change=_store_language, selection_mode="single", required=True,
    )  # fmt: skip


def carried_params() -> dict[str, str]:
    """The query parameters of this URL that every page link keeps (``CARRIED_PARAMS``)."""
    return {key: st.query_params[key] for key in CARRIED_PARAMS if key in st.query_params}


def navigation_sidebar() -> None:
    """Every page under a section caption, as links that keep ``carried_params``."""
    carried = carried_params() or None
    for section, entries in NAVIGATION:
        st.sidebar.caption(t(f"nav.{section}"))
        for page, name, icon in entries:
            st.sidebar.page_link(page, label=t(f"nav.{name}"), icon=icon, query_params=carried)
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
            st.warning(t("page.unused_link_value", key=key, raw=raw, value=value))
