"""The MAML stepper in a real browser at 1280x800: its figure and controls in the first screen, the
α slider redrawing the per-step curves, and mistakes marked in colour on the query pictures.

Speed is not asserted here: ``benchmarks/browser_maml_step.py`` measures click-to-result times.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from st_browser import rerun, save_screenshot, wait_idle

pytestmark = pytest.mark.e2e

SCREEN = {"width": 1280, "height": 800}
CURVES = '[class*="st-key-maml_curves_"]'
ALPHA_THUMB = '[class*="st-key-maml_alpha_"] input[type="range"]'
PREDICTIONS = '[data-testid="stImage"] img'


def open_maml(app_url: str, page) -> None:
    page.set_viewport_size(SCREEN)
    page.goto(f"{app_url}/MAML")
    wait_idle(page)
    page.wait_for_selector(f"{CURVES} .main-svg")


def curves_state(page) -> dict:
    """The stepper figure's title and the drawn paths of its lines: what a visitor sees change."""
    return page.evaluate(
        f"""() => {{
        const chart = document.querySelector('{CURVES}');
        return {{title: chart.querySelector('.gtitle').textContent,
                 paths: [...chart.querySelectorAll('.scatterlayer path.js-line')].map(p => p.getAttribute('d'))}};
    }}"""
    )


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def marked_pixels(page) -> tuple[int, int]:
    """How many strongly red and strongly green pixels the query picture shows."""
    picture = np.asarray(Image.open(io.BytesIO(page.locator(PREDICTIONS).first.screenshot())).convert("RGB"))
    red, green, blue = (picture[..., i].astype(int) for i in range(3))
    return int(((red > 180) & (green < 80) & (blue < 80)).sum()), int(((green > 130) & (red < 90) & (blue < 90)).sum())


def test_the_stepper_figure_and_its_play_and_one_step_buttons_are_in_the_first_screen(app_url, page):
    open_maml(app_url, page)
    for name in ("Play", "One step"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= SCREEN["height"], (name, box)
    chart = page.locator(CURVES).bounding_box()
    assert chart["y"] + chart["height"] <= SCREEN["height"], chart
    before = metric(page, "inner step")
    rerun(page, lambda: page.get_by_role("button", name="One step").click())
    assert (before, metric(page, "inner step")) == ("0 of 5", "1 of 5")


def test_moving_alpha_redraws_the_per_step_curves_and_mistakes_are_marked_in_red(app_url, page):
    open_maml(app_url, page)
    red_at_start, green_at_start = marked_pixels(page)
    assert red_at_start > 1000  # the initialisation gets most queries wrong: red frames and labels
    rerun(page, lambda: page.get_by_role("button", name="Play").click())
    assert metric(page, "inner step") == "5 of 5"
    red_adapted, green_adapted = marked_pixels(page)
    assert green_adapted > green_at_start and red_adapted < red_at_start  # adapted: mostly right, green
    trained = curves_state(page)
    assert trained["title"].endswith("α = 0.4")
    thumb = page.locator(ALPHA_THUMB)
    assert "meta-trained" in thumb.get_attribute("aria-valuetext")
    for _ in range(4):  # 0.4 -> 0.5 -> 0.7 -> 1 -> 1.5
        rerun(page, lambda: thumb.press("ArrowRight"))
    larger = curves_state(page)
    assert larger["title"].endswith("α = 1.5"), larger["title"]
    assert larger["paths"] != trained["paths"]
    assert len(larger["paths"]) > len(trained["paths"])  # the meta-trained α's curves stay, in grey
    assert "the support loss grew at step" in page.inner_text('[data-testid="stMain"]')
    save_screenshot(page, "maml_alpha.png")
