"""Click-to-Chinese (and back) times of the sidebar language switch in a real browser.

    python -m benchmarks.language_switch [--repeats 9] [--url http://127.0.0.1:8501] [--page /Episodes]

Starts the app (or uses ``--url``), opens the page at 1280x900 in Debian's Chromium, switches the
language once to warm the server up, then times, from the click on 中文 or English to the moment
the page's title reads in the new language: the whole rerun of the page, its widgets and images.
Also times the first catalog load and a cached lookup in this process (the app loads the catalogs
once per process). Prints the median and the range of each. The server, the browser and everything
else on this machine share its cores: read the range as well as the median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from st_browser import CHROMIUM, CHROMIUM_ARGS, RUN_COUNTER_JS, free_port, start_app, stop_app, wait_idle  # noqa: E402

from app.i18n import catalog, text  # noqa: E402

SWITCH = '[data-testid="stSidebar"] button'
SETTLED = """([title]) => { const h = document.querySelector('[data-testid="stMain"] h1');
  return h && h.innerText.includes(title) && !document.querySelector('[data-stale="true"]'); }"""


def switch_to(page, language: str, title: str) -> float:
    start = time.perf_counter()
    page.locator(SWITCH, has_text="中文" if language == "zh" else "English").click()
    page.wait_for_function(SETTLED, arg=[title], polling="raf")
    elapsed = 1000 * (time.perf_counter() - start)
    wait_idle(page)
    return elapsed


def summary(name: str, times: list[float], unit: str = "ms") -> str:
    digits = 0 if unit == "ms" else 2
    low, high, median = min(times), max(times), statistics.median(times)
    return f"| {name} | {median:.{digits}f} {unit} | {low:.{digits}f}–{high:.{digits}f} | {len(times)} |"


def catalog_times(repeats: int) -> list[str]:
    start = time.perf_counter()
    catalog("zh")
    first = 1000 * (time.perf_counter() - start)
    lookups = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(1000):
            text("zh", "episodes.support_many", n_way=5, n_shot=1)
        lookups.append((time.perf_counter() - start) * 1000)  # ms per 1000 lookups = µs per lookup
    return [summary("zh catalog, first load in a process", [first]), summary("one lookup", lookups, "µs")]


def measure(url: str, page_path: str, repeats: int) -> None:
    titles = {"/": ("Meta-Learning Playground", "元学习游乐场"), "/Episodes": ("Episodes", "任务采样"),
              "/Glossary": ("Glossary", "术语表")}[page_path]  # fmt: skip
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        context.add_init_script(RUN_COUNTER_JS)
        page = context.pages[0]
        page.set_default_timeout(120_000)
        page.goto(f"{url}{page_path}")
        wait_idle(page)
        switch_to(page, "zh", titles[1])  # warm-up: the first Chinese run of the page
        switch_to(page, "en", titles[0])
        to_zh, to_en = [], []
        for _ in range(repeats):
            to_zh.append(switch_to(page, "zh", titles[1]))
            to_en.append(switch_to(page, "en", titles[0]))
        context.close()
    print(f"| {page_path}: click to the page in the other language | median | range | runs |\n|---|---:|---:|---:|")
    print(summary("English → 中文", to_zh))
    print(summary("中文 → English", to_en))
    for row in catalog_times(repeats):
        print(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--url")
    parser.add_argument("--page", default="/", choices=["/", "/Episodes", "/Glossary"])
    args = parser.parse_args()
    if args.url:
        measure(args.url.rstrip("/"), args.page, args.repeats)
        return
    port = free_port()
    process = start_app(ROOT, port)
    try:
        measure(f"http://127.0.0.1:{port}", args.page, args.repeats)
    finally:
        stop_app(process)


if __name__ == "__main__":
    main()
