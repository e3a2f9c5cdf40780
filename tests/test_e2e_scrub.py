"""The training replay in a real browser: train a tiny model, open the replay, slide back to the start."""

from __future__ import annotations

import pytest
from st_browser import rerun, save_screenshot, train_in_page, wait_idle

pytestmark = pytest.mark.e2e


SCRUB = '[class*="st-key-protonet_replay_step"]'
MAP_TITLE = '[class*="st-key-protonet_replay_map"] .gtitle'


def map_title_starts_with(prefix: str) -> str:
    """A JS condition: the replayed map's Plotly title (SVG text) starts with ``prefix``."""
    return f"document.querySelector('{MAP_TITLE}')?.textContent.startsWith({prefix!r})"


def test_the_protonet_replay_slides_from_the_trained_map_to_the_untrained_one(app_url, page):
    train_in_page(page, app_url, "Prototypical_Networks", "training episodes", 6)
    main = page.locator('[data-testid="stMain"]')
    replay = main.get_by_text("Replay training", exact=True)
    replay.wait_for(timeout=120_000)
    wait_idle(page)
    rerun(page, lambda: replay.click())  # opening it computes the replay
    page.wait_for_function(map_title_starts_with("Step 6: accuracy"), timeout=60_000)
    thumb = page.locator(f'{SCRUB} input[type="range"]')
    thumb.scroll_into_view_if_needed()
    rerun(page, lambda: (thumb.focus(), page.keyboard.press("Home")))  # the first kept step: untrained
    page.wait_for_function(map_title_starts_with("Step 0: accuracy"), timeout=60_000)
    assert not page.locator('[data-testid="stException"]').count()
    page.locator(SCRUB).scroll_into_view_if_needed()
    save_screenshot(page, "protonet_replay.png")


def test_the_maml_replay_redraws_the_inner_loop_from_an_earlier_initialisation(app_url, page):
    train_in_page(page, app_url, "MAML", "outer steps (meta-batches)", 3)
    main = page.locator('[data-testid="stMain"]')
    replay = main.get_by_text("Replay meta-training", exact=True)
    replay.wait_for(timeout=120_000)
    wait_idle(page)
    rerun(page, lambda: replay.click())  # opening it computes the replay
    loss_title = '[class*="st-key-maml_replay_loss"] .gtitle'
    page.wait_for_function(f"document.querySelector('{loss_title}')?.textContent.startsWith('Step 3: query loss')")
    thumb = page.locator('[class*="st-key-maml_replay_step"] input[type="range"]')
    thumb.scroll_into_view_if_needed()
    rerun(page, lambda: (thumb.focus(), page.keyboard.press("Home")))
    page.wait_for_function(f"document.querySelector('{loss_title}')?.textContent.startsWith('Step 0: query loss')")
    assert page.locator('[class*="st-key-maml_replay_loss"] .scatterlayer .trace').count() == 2  # and the last step's
    assert not page.locator('[data-testid="stException"]').count()
    page.locator('[class*="st-key-maml_replay_step"]').scroll_into_view_if_needed()
    save_screenshot(page, "maml_replay.png")
