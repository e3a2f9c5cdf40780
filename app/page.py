"""What every page does first and last."""

import sys
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app.i18n import DEFAULT, LANGUAGES, NATIVE_NAMES, PARAM, current_language, t
from app.server_limits import apply_torch_threads, limit_problem_text, read_limits

APP_NAME = "Meta-Learning Playground"
LINK_KEY = "_link_at_arrival"
LANGUAGE_SWITCH_KEY = "language_switch"
PRESENT_PARAM = "present"  # ?present=1: larger text, charts and thumbnails, sidebar folded away
PRESENT_SWITCH_KEY = "present_switch"
PRESENT_SCALE = 1.3
RESET_KEY = "page_reset"
# Query parameters that follow the visitor from page to page (the others belong to one page).
CARRIED_PARAMS = (PARAM, PRESENT_PARAM)
ROOT = Path(__file__).resolve().parents[1]

# What "Reset this page" clears: the session-state keys each page owns. An entry ending in "_" is
# a prefix, any other an exact key. The data-set and episode controls belong to every page that
# draws them (their values are only in the URL and the widgets, never shared between pages).
EPISODE_KEYS = ("dataset", "split", "split_scheme", "folder", "n_way", "n_shot", "n_query", "seed", "episode")
PAGE_STATE = {
    "streamlit_app.py": ("home_",),
    "pages/1_Episodes.py": EPISODE_KEYS,
    "pages/2_Prototypical_Networks.py": ("protonet_", "curves_", *EPISODE_KEYS),
    "pages/3_MAML.py": ("maml_", "curves_", *EPISODE_KEYS),
    "pages/4_MAML_regression.py": ("sine_",),
    "pages/5_Relation_Networks.py": ("relation_", "curves_", *EPISODE_KEYS),
    "pages/6_Your_images.py": ("your_", "draw_"),
    "pages/7_Compare.py": ("cmp_", "sweep_live_", *EPISODE_KEYS),
    "pages/8_You_vs_the_model.py": ("game_",),
    "pages/13_MAML_in_2D.py": ("plane_",),
}
# Kept by a reset: the models this session trained (app.models.SESSION_MODELS is outside every
# prefix) and the training panels' runs, snapshots and names, and the images a visitor added.
KEPT_SUFFIXES = ("_training", "_snapshots", "_trained_names")
KEPT_KEYS = ("your_set",)


def key_by_size(key: str, small: bool) -> str:
    """A widget key per size class, for a toggle whose default follows the episode's size (thumbnails on for
    a small episode, off for a big one): the visitor's choice is kept per class, so after a big episode a small
    one shows its images again instead of staying off."""
    return f"{key}_{'small' if small else 'large'}"


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

    Draws the language switch, the large-text toggle (``presentation_switch``), "Reset this page"
    (``reset_button``) and the sidebar's navigation (``navigation_sidebar``). Also keeps
    the query string the session arrived with: widgets bound to the URL silently drop values they
    cannot take, and ``report_unused_link_values`` says so; and applies the host's limits
    (``app.server_limits``), saying which settings it could not use.
    """
    app_name = t("app.name")
    sidebar_state = "collapsed" if presenting() else "auto"
    st.set_page_config(
        page_title=f"{title} · {app_name}", page_icon="🧪", layout="wide", initial_sidebar_state=sidebar_state
    )
    language_switch()
    presentation_switch()
    # The calling page's file names its state (PAGE_STATE): Streamlit runs each page as a module
    # whose __file__ is the page's path, and every page calls page_setup from its top level.
    reset_button(_page_file(sys._getframe(1).f_globals.get("__file__", "")))
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


def presenting() -> bool:
    """Whether this session shows the page for a room (``?present=1``)."""
    return st.query_params.get(PRESENT_PARAM) == "1"


def _store_presenting() -> None:
    if st.session_state[PRESENT_SWITCH_KEY]:
        st.query_params[PRESENT_PARAM] = "1"
    else:
        st.query_params.pop(PRESENT_PARAM, None)


def presentation_switch() -> None:
    """The "Large text" toggle, bound to ``?present=1``; when on, the page's text and images grow
    (``presentation_css``), ``app.charts.show_chart`` scales the charts, and the sidebar starts folded.
    """
    on = presenting()
    raw = st.query_params.get(PRESENT_PARAM)
    if raw is not None and raw != "1":
        st.query_params.pop(PRESENT_PARAM)
    st.session_state[PRESENT_SWITCH_KEY] = on
    st.sidebar.toggle(t("present.toggle"), key=PRESENT_SWITCH_KEY, on_change=_store_presenting, help=t("present.help"))
    if on:
        st.html(f"<style>{presentation_css(PRESENT_SCALE)}</style>")


def presentation_css(scale: float) -> str:
    """Text a room can read: every rem-sized thing grows with the root font; images grow but stay
    inside their column (``zoom`` scales the box; ``max-width`` undoes it at the column's edge); less
    empty space above the title, since the sidebar's button is the only thing there.
    """
    return (
        f"html {{ font-size: {scale * 100:.0f}%; }}\n"
        f'[data-testid="stMain"] [data-testid="stImage"] img {{ zoom: {scale}; max-width: calc(100% / {scale}); }}\n'
        '[data-testid="stMainBlockContainer"] { padding-top: 3rem; }'
    )


def _page_file(path: str) -> str:
    """``path`` relative to the project root (``pages/1_Episodes.py``), or "" when outside it."""
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return ""


def page_keys(page: str, keys: list[str]) -> list[str]:
    """Those of ``keys`` that "Reset this page" clears on ``page`` (see ``PAGE_STATE``)."""
    owned = PAGE_STATE.get(page, ())
    prefixes = tuple(entry for entry in owned if entry.endswith("_"))
    exact = {entry for entry in owned if not entry.endswith("_")}

    def cleared(key: str) -> bool:
        if key in KEPT_KEYS or key.endswith(KEPT_SUFFIXES):
            return False
        return key in exact or key.startswith(prefixes)

    return [key for key in keys if cleared(key)]


# Widgets whose value a page may set through ``st.session_state`` (not buttons, uploads, chat).
SETTABLE_VALUE_TYPES = {
    "bool_value", "int_value", "double_value", "string_value",
    "int_array_value", "double_array_value", "string_array_value",
}  # fmt: skip


def _widget_default(key: str) -> tuple[bool, object]:
    """(True, the default value) of the widget with ``key``, or (False, None) when it is no widget or one
    whose value cannot be set.

    Deleting a widget's key is not enough to reset it: the browser keeps showing, and sends back, the
    old value, and a widget bound to the URL takes it back from there. Setting the default does both.
    Streamlit has no public way to read a widget's default; its deserializer gives it for "no value".
    """
    ctx = get_script_run_ctx()
    try:
        state = ctx.session_state._state
        metadata = state.get_widget_metadata(state.get_widget_id_from_key(key))
        if metadata is None or metadata.value_type not in SETTABLE_VALUE_TYPES:
            return False, None
        return True, metadata.deserializer(None)
    except Exception:  # Streamlit's internals changed: fall back to deleting the key
        return False, None


def _reset_page(page: str) -> None:
    for key in page_keys(page, list(st.session_state.keys())):
        is_widget, default = _widget_default(key)
        if is_widget:
            st.session_state[key] = default
        else:
            del st.session_state[key]
    for key in list(st.query_params.keys()):
        if key in CARRIED_PARAMS or key in st.session_state:  # a bound widget's parameter follows its value
            continue
        try:
            del st.query_params[key]
        except StreamlitAPIException:  # bound to a widget of another page: Streamlit drops it on leaving
            pass


def reset_button(page: str) -> None:
    """ "Reset this page": its controls back to their defaults and its results gone; other pages, the
    language, large text and the models trained in this session stay. The script then reruns (a callback).
    """
    st.sidebar.button(
        t("reset.button"), key=RESET_KEY, on_click=_reset_page, args=(page,), icon=":material/restart_alt:",
        help=t("reset.help"),
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
