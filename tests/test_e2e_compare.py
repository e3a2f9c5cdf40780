"""Compare and You vs the model as a lecturer shows them: at 1280x800 the figure each page exists for is in
the first screen, its text is large, nothing overlaps or runs off, Plotly's toolbar never covers a title,
and a quick comparison finishes with its intervals shown."""

from __future__ import annotations

import pytest
from st_browser import rerun, run_finished, save_screenshot, wait_idle

pytestmark = pytest.mark.e2e
SCREEN = {"width": 1280, "height": 800}
MAIN = '[data-testid="stMain"]'
CHART = f'{MAIN} [data-testid="stPlotlyChart"]'

# Geometry of the first chart of the page, read from the DOM (plotly draws SVG): font sizes, and the boxes
# of its value labels (annotations right of the plot), its line labels and its error bars.
CHART_GEOMETRY = """() => {
  const chart = document.querySelector('[data-testid="stMain"] [data-testid="stPlotlyChart"]');
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const size = e => parseFloat(getComputedStyle(e).fontSize);
  const notes = [...chart.querySelectorAll('g.annotation')].map(g => ({
    text: g.textContent, box: box(g.querySelector('.annotation-text'))}));
  return {
    top: chart.getBoundingClientRect().top, right: chart.getBoundingClientRect().right,
    title: chart.querySelector('.gtitle').textContent, titleSize: size(chart.querySelector('.gtitle')),
    tickSizes: [...chart.querySelectorAll('.xtick text, .ytick text')].map(size),
    axisTitleSizes: [...chart.querySelectorAll('.xtitle, .ytitle')].map(size),
    values: notes.filter(n => n.text.includes('±')), lines: notes.filter(n => !n.text.includes('±')),
    errorBars: [...chart.querySelectorAll('g.errorbar path')].map(box),
  };
}"""
TABLES = f"""() => [...document.querySelectorAll('{MAIN} [data-testid="stDataFrame"]')].map(frame => {{
  const grid = frame.querySelector('.dvn-scroller'), outer = frame.parentElement.getBoundingClientRect();
  return {{scroll: grid.scrollWidth, client: grid.clientWidth, right: frame.getBoundingClientRect().right,
           container: outer.right}};
}})"""


def overlaps(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def check_first_chart(page) -> dict:
    """The page's main chart: top in the first screen, readable text, labels clear of error bars and lines."""
    page.wait_for_selector(f"{CHART} .gtitle")
    chart = page.evaluate(CHART_GEOMETRY)
    assert 0 <= chart["top"] < SCREEN["height"], chart["top"]
    assert chart["titleSize"] >= 16 and min(chart["axisTitleSizes"]) >= 16, chart
    assert chart["tickSizes"] and min(chart["tickSizes"]) >= 14, chart["tickSizes"]
    assert chart["values"] and chart["errorBars"], chart
    for value in chart["values"]:
        assert value["box"][2] <= chart["right"] + 1, value  # inside the chart, not cut at its edge
        for bar in chart["errorBars"]:
            assert not overlaps(value["box"], bar), (value, bar)
        for line in chart["lines"]:
            assert not overlaps(value["box"], line["box"]), (value, line)
    return chart


def check_no_toolbar_on_hover(page) -> None:
    chart = page.locator(CHART).first
    chart.hover()
    page.wait_for_timeout(300)
    assert page.locator(f"{CHART} .modebar").count() == 0 or not page.locator(f"{CHART} .modebar").first.is_visible()


def check_tables_fit(page) -> None:
    tables = page.evaluate(TABLES)
    assert tables
    for table in tables:
        assert table["scroll"] <= table["client"] + 1, table  # no column hidden to the right
        assert table["right"] <= table["container"] + 1, table


def test_compare_shows_its_chart_first_with_a_table_that_fits(app_url, page):
    page.set_viewport_size(SCREEN)
    page.goto(f"{app_url}/Compare")
    wait_idle(page)
    chart = check_first_chart(page)
    assert chart["title"].startswith("Query accuracy with 95% CI")
    assert any(line["text"].startswith("chance") for line in chart["lines"])
    legend = page.evaluate(
        "[...document.querySelector('[data-testid=\"stMain\"] [data-testid=\"stPlotlyChart\"]')"
        ".querySelectorAll('.legendtext')].map(t => t.textContent)"
    )  # fmt: skip
    assert any("meta-learned" in text for text in legend) and any("baseline" in text for text in legend), legend
    check_tables_fit(page)
    check_no_toolbar_on_hover(page)


def test_a_quick_comparison_shows_the_shipped_result_while_it_runs_then_its_own_interval(app_url, page):
    page.set_viewport_size(SCREEN)
    page.goto(f"{app_url}/Compare")
    wait_idle(page)
    finished = run_finished(page)
    page.get_by_role("button", name="Quick run").click()
    page.wait_for_selector("text=Your run is on its way")
    titles = page.evaluate("[...document.querySelectorAll('.gtitle')].map(t => t.textContent)")
    assert any("shipped result" in title for title in titles), titles
    page.wait_for_function(finished, timeout=180_000)
    wait_idle(page)
    text = page.inner_text(MAIN)
    assert "Quick run:" in text and "intervals are wide (up to ±" in text, text
    chart = check_first_chart(page)
    assert chart["title"] == "Query accuracy with 95% CI"  # the run's own, not the shipped one
    check_tables_fit(page)
    save_screenshot(page, "compare_quick.png")


def test_you_vs_the_model_result_first_and_people_only_where_their_task_applies(app_url, page):
    page.set_viewport_size(SCREEN)
    page.goto(f"{app_url}/You_vs_the_model")
    wait_idle(page)
    main = page.locator(MAIN)
    if not main.get_by_role("radio", name="glyphs").is_checked():
        rerun(page, lambda: main.get_by_text("glyphs", exact=True).click())
    trials = page.get_by_label("trials")
    trials.fill("3")
    rerun(page, lambda: trials.press("Enter"))
    rerun(page, lambda: page.get_by_role("button", name="Start").click())
    for _ in range(3):
        rerun(page, lambda: page.get_by_role("button", name="2", exact=True).click())
    page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    chart = check_first_chart(page)
    assert chart["title"].startswith("You and the models")
    assert [line["text"] for line in chart["lines"]] == ["chance (20%)"]  # a 5-way game: no 20-way people line
    assert "people in Lake et al. (2015): 95.5% on 20-way" in main.inner_text()
    check_no_toolbar_on_hover(page)
    save_screenshot(page, "you_vs_the_model_result.png")
