"""Large text and "Reset this page" in a real browser at a projector's 1280x800: the sidebar folds away,
charts, text and thumbnails grow, links keep ``present=1``, and a reset puts a page's controls back."""

from __future__ import annotations

import re

import pytest
from st_browser import loaded_images, rerun, save_screenshot, wait_idle

pytestmark = pytest.mark.e2e
SIDEBAR = '[data-testid="stSidebar"]'
SIDEBAR_LINK = f'{SIDEBAR} [data-testid="stPageLink-NavLink"]'
OPEN_SIDEBAR = '[data-testid="stExpandSidebarButton"]'
N_WAY = f'{SIDEBAR} [data-testid="stNumberInput"] input[aria-label^="n_way"]'
# What the visitor sees of each: a chart's tick label, the page's text, a thumbnail, the sidebar.
MEASURE = """() => { const size = s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize);
  const width = s => document.querySelector(s).getBoundingClientRect().width;
  const sidebar = document.querySelector('[data-testid="stSidebar"]').getBoundingClientRect();
  return {tick: size('.js-plotly-plot .xtick text'), text: size('[data-testid="stMain"] p'),
          thumbnail: width('[data-testid="stMain"] [data-testid="stImage"] img'),
          sidebar_right: sidebar.right, page_width: document.documentElement.scrollWidth}; }"""


@pytest.fixture
def projector(page):
    page.set_viewport_size({"width": 1280, "height": 800})
    return page


def open_home(page, url: str) -> dict:
    page.goto(url)
    wait_idle(page)
    loaded_images(page)
    page.wait_for_selector(".js-plotly-plot .xtick text")
    return page.evaluate(MEASURE)


def test_large_text_folds_the_sidebar_and_scales_charts_text_and_thumbnails(app_url, projector):
    plain = open_home(projector, app_url)
    assert plain["sidebar_right"] > 200  # open beside the page
    large = open_home(projector, f"{app_url}/?present=1")
    save_screenshot(projector, "present_home.png")
    assert large["sidebar_right"] <= 0  # folded away, left of the window
    assert large["tick"] >= 1.25 * plain["tick"]
    assert large["text"] >= 1.25 * plain["text"]
    assert large["thumbnail"] >= 1.25 * plain["thumbnail"]
    assert large["page_width"] == 1280  # nothing pushed past the window's edge
    links = projector.locator(SIDEBAR_LINK)
    assert links.count() > 10
    assert all("present=1" in (links.nth(i).get_attribute("href") or "") for i in range(links.count()))


def test_the_toggle_reaches_through_the_folded_sidebar_and_a_link_keeps_large_text(app_url, projector):
    projector.goto(f"{app_url}/Episodes")
    wait_idle(projector)
    rerun(projector, lambda: projector.locator(f"{SIDEBAR} label", has_text="Large text").click())
    projector.wait_for_url(re.compile(r"[?&]present=1"))
    projector.wait_for_function(
        "() => document.querySelector('[data-testid=\"stSidebar\"]').getBoundingClientRect().right <= 0"
    )
    projector.locator(OPEN_SIDEBAR).click()
    projector.wait_for_function(
        "() => document.querySelector('[data-testid=\"stSidebar\"]').getBoundingClientRect().right > 200"
    )
    rerun(projector, lambda: projector.locator(SIDEBAR_LINK, has_text="Glossary").click())
    projector.wait_for_url(re.compile(r"/Glossary\?present=1$"))
    assert projector.locator(f"{SIDEBAR} input[role='switch']").is_checked()


def test_reset_returns_the_episodes_page_to_its_defaults_and_keeps_the_language(app_url, projector):
    projector.goto(f"{app_url}/Episodes?lang=en&n_shot=2")
    wait_idle(projector)
    box = projector.locator(N_WAY)
    rerun(projector, lambda: (box.fill("7"), box.press("Enter")))
    projector.wait_for_url(re.compile(r"n_way=7"))
    assert "7-way 2-shot" in projector.inner_text('[data-testid="stMain"]')
    rerun(projector, lambda: projector.get_by_role("button", name="Reset this page", exact=True).click())
    projector.wait_for_url(re.compile(r"/Episodes\?lang=en$"))
    assert projector.locator(N_WAY).input_value() == "5"
    assert "5-way 1-shot" in projector.inner_text('[data-testid="stMain"]')
    assert loaded_images(projector) == 5 + 5 * 5
