"""The Relation Networks page in a real browser: the heat map in the first screen, readable text, the probe."""

from __future__ import annotations

import pytest
from st_browser import rerun, save_screenshot, wait_idle

pytestmark = pytest.mark.e2e
PROJECTOR = {"width": 1280, "height": 800}
CHART = '[data-testid="stPlotlyChart"]'
# The rendered size in px of every text of a chart (SVG text is scaled with its drawing).
# For each box of the Graphviz diagram: does every line of its text fit inside it (the layout guesses text widths,
# and guesses Chinese too narrow)?
TEXT_INSIDE = """root => [...root.querySelectorAll('g.node')].map(node => {
  const box = node.querySelector('path, polygon, ellipse').getBBox();
  return [...node.querySelectorAll('text')].every(t => { const line = t.getBBox();
    return line.x >= box.x - 0.5 && line.x + line.width <= box.x + box.width + 0.5; });
})"""
TEXT_PX = """root => [...root.querySelectorAll('svg text')].filter(t => t.textContent.trim()).map(t => {
  const scale = t.getScreenCTM(); return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(scale.a, scale.b);
})"""


def open_relation_page(app_url: str, page, query: str = "") -> None:
    page.set_viewport_size(PROJECTOR)
    page.goto(f"{app_url}/Relation_Networks?{query}")
    wait_idle(page)
    page.wait_for_selector(f"{CHART} .main-svg")


def heatmap(page):
    return page.locator(CHART).filter(has=page.locator(".gtitle", has_text="Relation scores, query × class"))


def scatter(page):
    return page.locator(CHART).filter(has=page.locator(".gtitle", has_text="Every pair of this episode"))


def score(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def pick(page, place: str, option: str) -> None:
    """Choose ``option`` in the probe's selectbox whose label starts with ``place``."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=place)
    box.locator('input[role="combobox"]').click()
    page.keyboard.press("Control+a")
    page.keyboard.type(option)  # typing opens the list, filtered to this option
    rerun(page, lambda: page.get_by_role("option", name=option, exact=True).click())


def probe_markers(page) -> list[float]:
    """The y values of the scatter's last trace: the probed r(a, b) and r(b, a), as plotly drew them."""
    return scatter(page).evaluate("el => el.querySelector('.js-plotly-plot').data.at(-1).y")


@pytest.mark.parametrize("query", ["", "n_way=20&n_query=3"])
def test_heat_map_fits_the_first_screen_of_a_projector(app_url, page, query):
    open_relation_page(app_url, page, query)
    box = heatmap(page).bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PROJECTOR["height"], box
    assert min(heatmap(page).evaluate(TEXT_PX)) >= 14


def test_architecture_diagram_and_probe_scatter_text_are_readable(app_url, page):
    open_relation_page(app_url, page)
    page.wait_for_selector('[data-testid="stGraphVizChart"] svg text')
    diagram = page.locator('[data-testid="stGraphVizChart"]').evaluate(TEXT_PX)
    assert diagram and min(diagram) >= 14, diagram
    assert all(page.locator('[data-testid="stGraphVizChart"]').evaluate(TEXT_INSIDE))
    assert min(scatter(page).evaluate(TEXT_PX)) >= 14


def test_picking_two_images_changes_both_scores_and_the_scatter(app_url, page):
    open_relation_page(app_url, page)
    scatter(page).scroll_into_view_if_needed()
    before = (score(page, "r(a, b)"), score(page, "r(b, a)"))
    assert before[0] != before[1]  # it opens on a pair whose two orders differ
    markers = probe_markers(page)
    a, b = (chosen(page, place) for place in ("a, in the class", "b, in the query"))
    pick(page, "a, in the class", b)  # the same two images, the other way round
    pick(page, "b, in the query", a)
    assert (score(page, "r(a, b)"), score(page, "r(b, a)")) == (before[1], before[0])
    assert probe_markers(page) == markers[::-1]
    assert "relation_probe_a=" + b.split(" ")[0] in page.url  # a link shows this pair
    page.set_viewport_size({"width": 1280, "height": 900})
    save_screenshot(page, "relation_probe.png")
    pick(page, "b, in the query", "q1 · query, class 0" if a.startswith("q0 ") else "q0 · query, class 0")
    assert (score(page, "r(a, b)"), score(page, "r(b, a)")) != (before[1], before[0])
    assert probe_markers(page) != markers[::-1]


def chosen(page, place: str) -> str:
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=place)
    return box.locator('input[role="combobox"]').input_value()


def test_a_drawing_takes_the_class_place_and_is_scored_both_ways(app_url, page):
    open_relation_page(app_url, page)
    pick(page, "a, in the class", "your drawing")
    assert page.get_by_text("Draw on the canvas").count() == 1
    canvas = page.locator("canvas.upper-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()

    def stroke() -> None:
        page.mouse.move(box["x"] + 60, box["y"] + 40)
        page.mouse.down()
        for step in range(1, 21):
            page.mouse.move(box["x"] + 60 + 4 * step, box["y"] + 40 + 7 * step)
        page.mouse.up()

    rerun(page, stroke)
    page.wait_for_selector('[data-testid="stMetric"]:has-text("r(b, a)")')
    forward, backward = float(score(page, "r(a, b)")), float(score(page, "r(b, a)"))
    assert 0 <= forward <= 1 and 0 <= backward <= 1
    assert [f"{v:.3f}" for v in probe_markers(page)] == [f"{forward:.3f}", f"{backward:.3f}"]


def test_in_chinese_the_heat_map_fits_the_first_screen_and_the_diagram_stays_readable(app_url, page):
    open_relation_page(app_url, page, "lang=zh")
    chinese_heatmap = page.locator(CHART).filter(has=page.locator(".gtitle", has_text="关系得分（查询样本 × 类别）"))
    box = chinese_heatmap.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PROJECTOR["height"], box
    page.wait_for_selector('[data-testid="stGraphVizChart"] svg text')
    diagram = page.locator('[data-testid="stGraphVizChart"]')
    assert "嵌入模块 f_φ" in diagram.inner_text()
    sizes = diagram.evaluate(TEXT_PX)
    assert sizes and min(sizes) >= 14, sizes
    assert all(diagram.evaluate(TEXT_INSIDE)), diagram.inner_text()
