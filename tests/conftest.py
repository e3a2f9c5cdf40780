"""Shared fixtures: an isolated data-set cache, Omniglot when present, the browser gate.

Also the page tests' helpers (``from conftest import open_page``): pytest puts ``tests/`` on
``sys.path`` and registers this file as the module ``conftest``, so the import finds this one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from st_browser import CHROMIUM, CHROMIUM_ARGS, RUN_COUNTER_JS, free_port, is_base_path_probe, start_app, stop_app

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
SHARED_OMNIGLOT = ROOT.parent / "shared" / "data" / "omniglot"
ENTRY = str(ROOT / "streamlit_app.py")


def pytest_configure(config: pytest.Config) -> None:
    # One fresh cache per test run, shared by AppTest and the browser tests' server.
    if "MLP_CACHE_DIR" not in os.environ or os.environ.get("MLP_TEST_OWN_CACHE"):
        os.environ["MLP_CACHE_DIR"] = tempfile.mkdtemp(prefix="mlp-test-cache-")
        os.environ["MLP_TEST_OWN_CACHE"] = "1"
    # Built (or loaded from its cache) before any test, so every test takes the same path through
    # MAML's task-batched pass, not one that switches when a background build finishes.
    from core.algorithms import fused_block

    fused_block.ready(wait=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    if os.environ.pop("MLP_TEST_OWN_CACHE", None):
        shutil.rmtree(os.environ.pop("MLP_CACHE_DIR"), ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "omniglot_path" in getattr(item, "fixturenames", ()):  # decoding Omniglot's 32,460 PNGs: 12-15 s
            item.add_marker(pytest.mark.slow)
    reason = None
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} not found (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright not installed (pip install -r requirements-dev.txt)"
    if reason is None:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI must run the browser tests, but {reason}")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


def omniglot_root() -> Path | None:
    configured = os.environ.get("OMNIGLOT_ROOT")
    root = Path(configured) if configured else SHARED_OMNIGLOT
    return root if (root / "images_background").is_dir() else None


@pytest.fixture(scope="session")
def omniglot_path() -> Path:
    root = omniglot_root()
    if root is None:
        pytest.skip(f"Omniglot not found at {SHARED_OMNIGLOT} or $OMNIGLOT_ROOT (a fresh clone has none)")
    return root


@pytest.fixture(scope="session")
def small_glyphs():
    """A small glyphs data set: 3 background and 2 evaluation alphabets."""
    from core.datasets import GlyphsConfig, load_glyphs

    return load_glyphs(
        GlyphsConfig(n_background_alphabets=3, n_evaluation_alphabets=2, min_characters=8, max_characters=12)
    )


def open_page(page: str | None = None, **query: object) -> AppTest:
    """Run the app with ``query`` as its URL parameters, switch to ``page``, and check nothing raised."""
    from streamlit.testing.v1 import AppTest  # here, not above: the core tests never import streamlit

    at = AppTest.from_file(ENTRY, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = str(value)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def colour_classes(root: Path, n_classes: int = 10, per_class: int = 8) -> Path:
    """A folder data set of plain colour squares, one colour per class."""
    from PIL import Image

    for k in range(n_classes):
        colour = ((37 * k) % 256, (91 * k) % 256, (173 * k) % 256)
        (root / f"c{k}").mkdir()
        for i in range(per_class):
            Image.new("RGB", (30 + i, 30), colour).save(root / f"c{k}" / f"{i}.png")
    return root


# The browser tests' fixtures: one app server and one Chromium per test module, a fresh tab per test
# that fails it on any page error or console error.
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


@pytest.fixture
def page(browser):
    page = browser.new_page()
    page.set_default_timeout(120_000)  # a CI machine with two busy cores can take a minute for a model run
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message) -> None:
        if message.type == "error" and not is_base_path_probe(message.location.get("url", "")):
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    yield page
    page.close()
    assert not errors, errors
