"""The MAML regression page in a real browser: the comparison in the first screen, training replayed by a slider."""

from __future__ import annotations

import pytest
from st_browser import rerun, save_screenshot, wait_idle

pytestmark = pytest.mark.e2e
PROJECTOR = {"width": 1280, "height": 800}
MAIN = '[data-testid="stMain"]'
SCRUB = '[class*="st-key-sine_scrub_step"]'
SCRUB_FIT = '[class*="st-key-sine_scrub_fit"]'


def _fit_lines(page) -> tuple[str, list[str]]:
    """The scrub figure's title and the path of each of its lines."""
    figure = page.locator(SCRUB_FIT)
    title = figure.locator(".gtitle").text_content()
    return title, figure.locator(".scatterlayer .js-line").evaluate_all("ps => ps.map(p => p.getAttribute('d'))")


def test_the_comparison_is_in_the_first_screen_and_the_scrub_slider_replays_training(app_url, page):
    page.set_viewport_size(PROJECTOR)
    page.goto(f"{app_url}/MAML_regression")
    wait_idle(page)
    page.wait_for_selector(f"{MAIN} [data-testid='stPlotlyChart'] .main-svg")
    assert not page.locator('[data-testid="stException"]').count()
    comparison = page.locator(f"{MAIN} [data-testid='stPlotlyChart']").first
    assert "MAML" in comparison.locator(".gtitle").text_content()
    assert comparison.bounding_box()["y"] < PROJECTOR["height"], "the comparison starts below the first screen"

    page.locator(SCRUB).scroll_into_view_if_needed()
    page.wait_for_selector(f"{SCRUB_FIT} .main-svg")
    title, lines = _fit_lines(page)
    assert title.startswith("At meta-iteration 5,000 of 5,000")
    thumb = page.locator(f'{SCRUB} input[type="range"]')
    rerun(page, lambda: (thumb.focus(), page.keyboard.press("Home")))
    page.wait_for_function(
        f"document.querySelector('{SCRUB_FIT} .gtitle')?.textContent.startsWith('At meta-iteration 0 of')"
    )
    start_title, start_lines = _fit_lines(page)
    assert start_title.startswith("At meta-iteration 0 of 5,000")
    assert len(start_lines) == len(lines) and start_lines != lines  # the fits themselves moved, not only the title

    rerun(page, lambda: (thumb.focus(), page.keyboard.press("ArrowRight")))
    page.wait_for_function(
        f"!document.querySelector('{SCRUB_FIT} .gtitle')?.textContent.startsWith('At meta-iteration 0 ')"
    )
    assert not page.locator('[data-testid="stException"]').count()
    page.locator(SCRUB).scroll_into_view_if_needed()
    save_screenshot(page, "sine_scrub.png")
