"""The app in a real browser: pages render, images load, a new episode can be drawn."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pytest
from st_browser import CHROMIUM, CHROMIUM_ARGS, RUN_COUNTER_JS, free_port, rerun, start_app, stop_app, wait_idle

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]
IMAGES = '[data-testid="stImage"] img'


@pytest.fixture(scope="module")
def app_url():
    port = free_port()
    process = start_app(ROOT, port)
    yield f"http://127.0.0.1:{port}"
    stop_app(process)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        context.add_init_script(RUN_COUNTER_JS)
        yield context
        context.close()


def is_base_path_probe(url: str) -> bool:
    """Opened at /Episodes, Streamlit's frontend first probes /Episodes/_stcore/...: a 404 by design."""
    path = urlparse(url).path
    return path.count("/") > 2 and path.rsplit("/", 2)[-2] == "_stcore"


@pytest.fixture
def page(browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message) -> None:
        if message.type == "error" and not is_base_path_probe(message.location.get("url", "")):
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    yield page
    page.close()
    assert not errors, errors


def loaded_images(page) -> int:
    page.wait_for_function(f"[...document.querySelectorAll('{IMAGES}')].every(i => i.complete)")
    return page.evaluate(f"[...document.querySelectorAll('{IMAGES}')].filter(i => i.naturalWidth > 0).length")


def class_names(page) -> list[str]:
    return page.locator('[data-testid="stMain"] [data-testid="stHorizontalBlock"] code').all_inner_texts()


def test_home_then_episodes_then_a_new_episode(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    assert "Meta-Learning Playground" in page.inner_text('[data-testid="stMain"]')
    rerun(page, lambda: page.locator('[data-testid="stSidebarNavLink"]', has_text="Episodes").click())
    assert not page.locator('[data-testid="stException"]').count()
    assert loaded_images(page) == 5 + 5 * 5  # five support strips and 25 query images
    first = class_names(page)
    rerun(page, lambda: page.get_by_role("button", name="New episode").click())
    assert loaded_images(page) == 30
    assert class_names(page) != first
    page.wait_for_url("**episode=1**")


def test_a_pasted_link_shows_the_same_episode(app_url, page):
    link = f"{app_url}/Episodes?n_way=3&n_shot=2&seed=4&episode=7"
    page.goto(link)
    wait_idle(page)
    shown = class_names(page)
    assert len(shown) == 3 and loaded_images(page) == 3 + 3 * 5
    page.goto(app_url)
    wait_idle(page)
    page.goto(link)
    wait_idle(page)
    assert class_names(page) == shown


def test_protonet_training_in_the_browser_can_be_stopped_and_keeps_the_model(app_url, page):
    page.goto(f"{app_url}/Prototypical_Networks")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    rerun(page, lambda: main.get_by_text("train now", exact=True).click())
    episodes = page.get_by_label("training episodes")
    episodes.fill("5000")
    rerun(page, lambda: episodes.press("Enter"))
    page.get_by_role("button", name="Train").click()
    page.wait_for_selector('[data-testid="stProgress"]', timeout=60_000)
    progress = "document.querySelector('[data-testid=\"stProgress\"]')?.innerText || ''"
    page.wait_for_function(f"/episode \\d+ of 5000/.test({progress})", timeout=60_000)
    first = page.evaluate(progress)
    page.wait_for_function(f"{progress} !== {first!r}", timeout=60_000)  # it moves while training runs
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1  # the live curves
    page.get_by_role("button", name="Stop (keep the best weights so far)").click()
    page.wait_for_selector("text=stopped early", timeout=60_000)
    wait_idle(page)
    assert page.get_by_role("button", name="Download checkpoint").count() == 1
    assert "Accuracy on this episode's queries" in page.inner_text('[data-testid="stMain"]')
    page.wait_for_function(  # the embedding map is drawn (plotly titles are SVG text)
        "[...document.querySelectorAll('.gtitle')].some(t => t.textContent.startsWith('Embeddings in 2-D'))"
    )
