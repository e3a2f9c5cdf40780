"""What the redraw benchmarks share: a warmed-up median, and a Chromium tab on the app."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def median_ms(action: Callable[[], object], repeats: int) -> float:
    """Median milliseconds of ``action`` over ``repeats`` calls, after one untimed call (lazy imports, caches)."""
    action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


@contextmanager
def browser_tab(width: int = 1280, height: int = 800) -> Iterator[object]:
    """A Chromium tab (Debian's, headless) counting the app's script runs, as the browser tests do."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from st_browser import CHROMIUM, CHROMIUM_ARGS, RUN_COUNTER_JS

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )  # fmt: skip
        context.add_init_script(RUN_COUNTER_JS)
        page = context.pages[0]
        page.set_default_timeout(120_000)
        try:
            yield page
        finally:
            context.close()
