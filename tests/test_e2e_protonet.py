"""The Prototypical Networks page in Chromium: push the prototypes, play the n_shot animation."""

from __future__ import annotations

import pytest
from st_browser import rerun, run_finished, save_screenshot, stroke, wait_idle

pytestmark = pytest.mark.e2e

MAP = '[data-testid="stPlotlyChart"]:has(.gtitle)'
PLOTS = "[...document.querySelectorAll('.js-plotly-plot')]"
# The push map's traces by name (plotly keeps each chart's data on its div).
MAP_DATA = f"""() => {{
  const plot = {PLOTS}.find(p => (p.layout?.title?.text || '').includes('Embeddings in 2-D by PCA'));
  const trace = name => plot.data.find(t => t.name === name);
  const array = v => Array.from(v?._inputArray ?? v ?? []);  // plotly keeps base64 arrays decoded beside them
  return {{stars: array(trace('prototype').x), text: array(trace('prototype').text),
           outliers: array(trace('outlier').x).length, drawings: array(trace('drawing').x).length}};
}}"""


def test_pushing_the_prototypes_moves_the_map_at_once(app_url, page):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{app_url}/Prototypical_Networks?n_shot=3")
    wait_idle(page)
    page.wait_for_selector(f"{MAP} .main-svg")
    box = page.locator(MAP).first.bounding_box()
    assert box["y"] + box["height"] <= 800, f"the map ends at {box['y'] + box['height']:.0f} px, below the first screen"
    start = page.evaluate(MAP_DATA)
    assert start["text"] == ["0", "1", "2", "3", "4"]

    rerun(page, lambda: page.locator(".st-key-protonet_keep button", has_text="0·1").click())
    ticked = page.evaluate(MAP_DATA)
    assert ticked["stars"][0] != start["stars"][0] and ticked["stars"][1:] == start["stars"][1:]

    page.get_by_role("tab", name="Add an outlier").click()
    rerun(page, lambda: page.get_by_role("button", name="Add as outlier").click())
    assert page.evaluate(MAP_DATA)["outliers"] == 1

    page.get_by_role("tab", name="Draw one").click()
    canvas = page.locator(".st-key-protonet_canvas_0 canvas.upper-canvas")
    canvas.wait_for()
    for attempt in range(3):  # a canvas that is still mounting can drop the first stroke
        finished = run_finished(page)
        stroke(page, canvas, [(0.2, 0.2), (0.5, 0.8), (0.8, 0.2)])
        try:
            page.wait_for_function(finished, timeout=15_000)
            break
        except Exception:
            if attempt == 2:
                raise
    wait_idle(page)
    rerun(page, lambda: page.get_by_role("button", name="Add drawing").click())
    page.wait_for_function(f"({MAP_DATA})().drawings === 1")
    assert "Added: 1 outlier(s), 1 drawing(s)" in page.inner_text('[data-testid="stMain"]')
    page.locator('[data-testid="stMain"]').evaluate("el => el.scrollTo(0, 0)")
    save_screenshot(page, "protonet_push.png")


def test_the_shots_animation_plays_from_one_to_ten_shots(app_url, page):
    page.goto(f"{app_url}/Prototypical_Networks?n_way=20")
    wait_idle(page)
    title = (
        "[...document.querySelectorAll('.gtitle')].map(t => t.textContent).find(t => t.includes('shot(s) per class'))"
    )
    page.wait_for_function(f"({title} || '').startsWith('10 shot(s)')")
    play = page.locator(".updatemenu-button").first
    play.scroll_into_view_if_needed()
    play.click()
    page.wait_for_function(f"({title} || '').startsWith('1 shot(s)')", timeout=30_000)
    page.wait_for_function(f"({title} || '').startsWith('10 shot(s)')", timeout=60_000)
    one_and_ten = page.evaluate(
        f"""() => {{ const plot = {PLOTS}.find(p => p.layout?.sliders?.length);
                     const curve = plot.data.find(t => t.name === 'query accuracy');
                     return Array.from(curve.y._inputArray ?? curve.y); }}"""
    )
    assert len(one_and_ten) == 10 and one_and_ten[-1] > one_and_ten[0]
    save_screenshot(page, "protonet_shots.png")
