"""Large text (``?present=1``) and "Reset this page": the style's scaled template, the sidebar toggle,
the charts it enlarges, and a reset that puts one page's controls back and leaves the rest alone."""

from __future__ import annotations

import json
from pathlib import Path

import plotly.graph_objects as go
import pytest
from conftest import open_page
from streamlit.testing.v1 import AppTest

from app.page import NAVIGATION, PAGE_STATE, page_keys
from core.figures.style import BASE_FONT_PX, TEMPLATE_NAME, apply_style, playground_template

ROOT = Path(__file__).resolve().parents[1]
HOME = "streamlit_app.py"
EPISODES = "pages/1_Episodes.py"
ALL_PAGES = [page for _, entries in NAVIGATION for page, _, _ in entries]
# Pages with charts drawn by a bare ``st.plotly_chart``: large text cannot reach those until they go
# through ``app.charts.show_chart`` (see test_every_chart_goes_through_show_chart).


def chart_fonts(at: AppTest) -> list[int]:
    """The base font size of each chart on the page, in order: its own layout's, else its template's."""
    sizes = []
    for chart in at.get("plotly_chart"):
        layout = json.loads(chart.proto.spec)["layout"]
        sizes.append(layout.get("font", {}).get("size") or layout["template"]["layout"]["font"]["size"])
    return sizes


def test_a_scaled_template_scales_every_font_and_the_margins():
    plain, large = playground_template(), playground_template(1.3)
    assert large.layout.font.size == round(1.3 * plain.layout.font.size) > plain.layout.font.size
    assert large.layout.title.font.size > plain.layout.title.font.size
    assert large.layout.xaxis.tickfont.size > plain.layout.xaxis.tickfont.size
    assert large.layout.yaxis.title.font.size > plain.layout.yaxis.title.font.size
    assert large.layout.margin.t > plain.layout.margin.t
    with pytest.raises(ValueError, match="positive"):
        playground_template(0)


def test_apply_style_at_a_scale_keeps_the_figures_own_layout():
    figure = apply_style(go.Figure(layout={"height": 300, "title": {"text": "mine"}}), scale=1.3)
    assert figure.layout.template.layout.font.size == round(1.3 * BASE_FONT_PX)
    assert figure.layout.height == 300 and figure.layout.title.text == "mine"
    assert apply_style(figure).layout.template.layout.font.size == BASE_FONT_PX  # back to the plain one
    assert TEMPLATE_NAME in __import__("plotly.io").io.templates


def test_the_toggle_sets_present_in_the_url_and_home_charts_grow():
    at = open_page()
    plain = chart_fonts(at)
    assert plain == [BASE_FONT_PX] and "present" not in at.query_params
    at.toggle(key="present_switch").set_value(True).run()
    assert at.query_params["present"] == "1" and not at.exception
    assert chart_fonts(at)[0] > plain[0]
    at.toggle(key="present_switch").set_value(False).run()
    assert "present" not in at.query_params and chart_fonts(at) == plain


def test_present_from_the_link_turns_the_toggle_on_and_a_wrong_value_is_dropped():
    at = open_page(present=1)
    assert at.toggle(key="present_switch").value is True
    assert chart_fonts(at)[0] > BASE_FONT_PX
    at = open_page(present="yes")
    assert at.toggle(key="present_switch").value is False and "present" not in at.query_params
    assert chart_fonts(at) == [BASE_FONT_PX]


@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_runs_in_large_text(page):
    at = open_page(None if page == HOME else page, present=1)
    assert at.toggle(key="present_switch").value is True
    assert all(size > BASE_FONT_PX for size in chart_fonts(at))


def test_every_chart_goes_through_show_chart():
    sources = [*(ROOT / "app").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "streamlit_app.py"]
    bare = [path.name for path in sources if path.name != "charts.py" and ".plotly_chart(" in path.read_text()]
    assert not bare, bare


def test_reset_puts_the_episode_controls_back_and_keeps_language_large_text_and_models():
    at = open_page(EPISODES, lang="zh", present=1)
    at.session_state["trained_models"] = {"kept": "a model"}
    at.session_state["maml_step"] = 3  # another page's state
    at.number_input(key="n_way").set_value(7).run()
    at.number_input(key="n_shot").set_value(3).run()
    at.number_input(key="seed").set_value(9).run()
    assert (at.number_input(key="n_way").value, at.number_input(key="n_shot").value) == (7, 3)
    at.button(key="page_reset").click().run()
    assert not at.exception, [e.value for e in at.exception]
    values = [at.number_input(key=key).value for key in ("n_way", "n_shot", "seed", "episode")]
    assert values == [5, 1, 0, 0]
    assert at.query_params["lang"] == "zh" and at.query_params["present"] == "1"
    assert at.session_state["trained_models"] == {"kept": "a model"} and at.session_state["maml_step"] == 3


def test_reset_drops_the_pages_own_link_parameters():
    at = open_page(EPISODES, lang="zh", n_way=7, unknown="x")
    assert at.number_input(key="n_way").value == 7
    at.button(key="page_reset").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.number_input(key="n_way").value == 5
    assert "unknown" not in at.query_params and at.query_params["lang"] == "zh"


def test_page_keys_take_the_pages_prefixes_but_never_trained_models_or_other_pages():
    keys = ["protonet_scrub", "protonet_snapshots", "protonet_trained_names", "protonet_training", "trained_models",
            "maml_alpha", "n_way", "language_switch", "present_switch", "device_choice", "curves_3"]  # fmt: skip
    assert page_keys("pages/2_Prototypical_Networks.py", keys) == ["protonet_scrub", "n_way", "curves_3"]
    assert page_keys("pages/3_MAML.py", keys) == ["maml_alpha", "n_way", "curves_3"]
    assert page_keys("pages/14_Glossary.py", keys) == []
    assert page_keys("pages/6_Your_images.py", ["your_set", "your_mode", "draw_n_way"]) == ["your_mode", "draw_n_way"]


def test_every_page_with_its_own_state_is_in_the_navigation():
    assert set(PAGE_STATE) <= set(ALL_PAGES)
    assert all((ROOT / page).is_file() for page in ALL_PAGES)
