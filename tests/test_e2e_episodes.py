"""Episodes in a real browser: a 20-way 5-shot support set fits one 1280x800 screen, names stay on one line."""

from __future__ import annotations

import pytest
from conftest import omniglot_root
from st_browser import loaded_images, save_screenshot, wait_idle

pytestmark = pytest.mark.e2e
TILE_IMAGES = '[data-testid="stMain"] [data-testid="stHorizontalBlock"] [data-testid="stImage"] img'
NAMES = '[data-testid="stMain"] .mlp-class-name'


def open_episodes(page, app_url: str, query: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{app_url}/Episodes?{query}")
    wait_idle(page)
    loaded_images(page)


def test_a_20_way_5_shot_support_set_fits_the_first_screen(app_url, page):
    open_episodes(page, app_url, "n_way=20&n_shot=5")
    tiles = page.locator(TILE_IMAGES)
    assert tiles.count() == 20
    bottoms = [box["y"] + box["height"] for box in (tiles.nth(i).bounding_box() for i in range(20))]
    assert max(bottoms) <= 800, f"the lowest class strip ends at {max(bottoms):.0f} px"
    widths = [tiles.nth(i).bounding_box()["width"] for i in range(20)]
    assert min(widths) >= 100, "the strips are still big enough to see the characters"
    save_screenshot(page, "episodes-20way-5shot.png")


def test_class_names_stay_on_one_line_with_the_full_name_on_hover(app_url, page):
    open_episodes(page, app_url, "n_way=20&n_shot=5")
    names = page.locator(NAMES)
    assert names.count() == 20
    for i in range(20):
        heading = names.nth(i)
        code = heading.locator("code")
        assert heading.get_attribute("title") == code.text_content()
        lines = heading.evaluate("e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)")
        assert lines < 1.5, f"{code.text_content()!r} takes {lines:.1f} lines"


def test_episodes_opens_on_omniglot_when_it_is_present(app_url, page):
    if omniglot_root() is None:
        pytest.skip("Omniglot is not here: Episodes opens on glyphs")
    root = omniglot_root()
    open_episodes(page, app_url, "n_way=5")
    names = page.locator(f"{NAMES} code").all_text_contents()
    alphabets = {name.split("/")[0] for name in names}
    assert len(names) == 5 and all((root / "images_evaluation" / alphabet).is_dir() for alphabet in alphabets), names
