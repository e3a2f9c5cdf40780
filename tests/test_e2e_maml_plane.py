"""MAML in 2-D in a real browser at 1280x800: the plane is in the first screen, and α, a click on the
plane and Step each change what it draws."""

from __future__ import annotations

import pytest
from st_browser import rerun, save_screenshot, wait_idle

pytestmark = pytest.mark.e2e
CHART = '[data-testid="stPlotlyChart"]'


def slider(page, label: str):
    return page.locator('[data-testid="stSlider"]', has_text=label).get_by_role("slider")


def slider_value(page, label: str) -> float:
    return float(
        page.locator('[data-testid="stSlider"]', has_text=label).get_by_test_id("stSliderThumbValue").inner_text()
    )


def open_plane(app_url: str, page) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{app_url}/MAML_in_2D")
    wait_idle(page)
    page.wait_for_selector(f"{CHART} .main-svg")
    assert not page.locator('[data-testid="stException"]').count()


def words(page) -> str:
    return page.locator('[data-testid="stMarkdown"]', has_text="What you see").inner_text()


def test_the_plane_is_in_the_first_screen_and_alpha_redraws_it(app_url, page):
    open_plane(app_url, page)
    box = page.locator(CHART).first.bounding_box()
    assert box["y"] < 200 and box["y"] + box["height"] <= 800, box
    titles = page.locator(f"{CHART} .gtitle").first.text_content()
    assert "inner steps" in titles
    assert "α = 0.4" in words(page)
    rerun(page, lambda: slider(page, "inner learning rate α").press("ArrowRight"))
    assert "α = 0.45" in words(page)
    save_screenshot(page, "maml_in_2d.png")


def test_a_click_on_the_plane_moves_theta_and_step_meta_trains(app_url, page):
    open_plane(app_url, page)
    assert slider_value(page, "θ₁") == 3.5
    plot = page.locator(f"{CHART} .nsewdrag").first.bounding_box()
    # Left of the middle: θ₁ < 0 after the click (the grid point nearest the pointer).
    rerun(page, lambda: page.mouse.click(plot["x"] + 0.2 * plot["width"], plot["y"] + 0.5 * plot["height"]))
    assert slider_value(page, "θ₁") < -1.5
    assert page.locator('[data-testid="stMetricValue"]').inner_text() == "0 of 40"
    rerun(page, lambda: page.get_by_role("button", name="Step").click())
    assert page.locator('[data-testid="stMetricValue"]').inner_text() == "1 of 40"
    page.wait_for_selector(f"{CHART} >> nth=1")  # the loss curves appear after the first outer step
