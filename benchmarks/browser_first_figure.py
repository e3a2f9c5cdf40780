"""Time from navigation to each page's first figure in a real browser, on a warm server.

    python -m benchmarks.browser_first_figure [--repeats 3] [--url http://127.0.0.1:8501] [--only Episodes]

Starts the app (or uses ``--url``), reads every page's address from Home's sidebar, and opens
each page at 1280x800 in Debian's Chromium: once to warm the server's caches (data sets, models,
traced figures; not timed), then ``--repeats`` more times, timing from ``page.goto`` to the
moment its main figure is drawn:

- a Plotly chart in the page's main area has drawn its SVG (``.main-svg``), or
- an image in the main area has loaded (``naturalWidth > 0``),

whichever the warm-up visit found first on that page; a page with neither (text only) is timed
to the end of its script run with its title shown. Prints the median and range per page as a
Markdown table and, without ``--only``, writes it to benchmarks/results/browser_first_figure.md.
The server, the browser and everything else on this machine share its cores: run it on a quiet
machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin, urlparse

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "browser_first_figure.md"
sys.path.insert(0, str(ROOT / "tests"))
from st_browser import CHROMIUM, CHROMIUM_ARGS, IDLE, RUN_COUNTER_JS, free_port, start_app, stop_app, wait_idle  # noqa: E402

SCREEN = {"width": 1280, "height": 800}
SIDEBAR_LINK = '[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"]'
CHART = '[data-testid="stMain"] [data-testid="stPlotlyChart"] .main-svg'
IMAGE = '[data-testid="stMain"] [data-testid="stImage"] img'
DRAWN = {
    "chart": f"() => !!document.querySelector('{CHART}')",
    "image": f"() => [...document.querySelectorAll('{IMAGE}')].some(i => i.complete && i.naturalWidth > 0)",
    "text only": f"() => !!document.querySelector('{IDLE}') && !!document.querySelector('[data-testid=\"stMain\"] h1')",
}


def page_paths(page, url: str) -> list[tuple[str, str]]:
    """(title, path) of every page linked in the sidebar, Home first."""
    page.goto(url)
    wait_idle(page)
    links = page.locator(SIDEBAR_LINK)
    found = [(links.nth(i).inner_text().strip(), links.nth(i).get_attribute("href")) for i in range(links.count())]
    return [(title.splitlines()[-1], urlparse(urljoin(f"{url}/", href)).path) for title, href in found]


def figure_kind(page) -> str:
    """What the warm-up visit drew first in the main area: a chart, an image, or neither."""
    wait_idle(page)
    for kind in ("chart", "image"):
        if page.evaluate(DRAWN[kind]):
            return kind
    return "text only"


def time_visit(page, address: str, kind: str) -> float:
    start = time.perf_counter()
    page.goto(address, wait_until="commit")
    page.wait_for_function(DRAWN[kind], polling="raf")
    elapsed = 1000 * (time.perf_counter() - start)
    wait_idle(page)  # let the run finish before the next navigation
    return elapsed


def measure(url: str, repeats: int, only: list[str]) -> str:
    rows = []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, viewport=SCREEN
        )
        context.add_init_script(RUN_COUNTER_JS)
        page = context.pages[0]
        page.set_default_timeout(180_000)
        for title, path in page_paths(page, url):
            if only and not any(name.lower() in f"{title} {path}".lower() for name in only):
                continue
            address = f"{url}{path}"
            page.goto(address)  # the first visit: caches warm up, and it shows what the page draws
            kind = figure_kind(page)
            times = [time_visit(page, address, kind) for _ in range(repeats)]
            rows.append(f"| {title} | {kind} | {statistics.median(times):.0f} | "
                        f"{min(times):.0f}–{max(times):.0f} | {len(times)} |")  # fmt: skip
            print(rows[-1], flush=True)
        context.close()
    header = (
        f"Navigation (`page.goto`, second and later visits on a warm server) to the first figure drawn, "
        f"Chromium at 1280x800, {url}, ms\n\n"
        "| page | first figure | median | range | visits |\n|---|---|---:|---:|---:|"
    )
    return "\n".join([header, *rows]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--url", help="a running app; without it one is started on a free port")
    parser.add_argument("--only", nargs="*", default=[], help="pages whose title or address contains one of these")
    args = parser.parse_args()
    if args.url:
        table = measure(args.url.rstrip("/"), args.repeats, args.only)
    else:
        port = free_port()
        process = start_app(ROOT, port)
        try:
            table = measure(f"http://127.0.0.1:{port}", args.repeats, args.only)
        finally:
            stop_app(process)
    print(table)
    if not args.only:  # the results file holds every page
        RESULTS.write_text(table, encoding="utf-8")
        print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
