"""Click-to-result times of the MAML stepper in a real browser, for the README.

    python -m benchmarks.browser_maml_step [--repeats 9] [--url http://127.0.0.1:8501]

Starts the app (or uses ``--url``), opens the MAML page at 1280x800 in Debian's Chromium and
times, from the input to the moment the browser shows its result:

- One step: the click to the new "inner step" value and one more point on the accuracy line
  (measured inside the page: the click and a check on every animation frame, ±17 ms);
- Reset: the click to "0 of 5" with the curves cut back to step 0;
- α, new: a key press on the α slider to a value not traced yet, until the figure's title names
  it (the inner loop is traced then: the slowest interaction);
- α, seen: back to an α traced before (memoised), until the title names it.

Prints the median and the range of each. The server, the browser and everything else on this
machine share its cores: run it on a quiet machine, and read the range as well as the median.
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
from st_browser import CHROMIUM, CHROMIUM_ARGS, RUN_COUNTER_JS, free_port, start_app, stop_app, wait_idle  # noqa: E402

SCREEN = {"width": 1280, "height": 800}
CURVES = '[class*="st-key-maml_curves_"]'
ALPHA = '[class*="st-key-maml_alpha_"] input[type="range"]'
CLICK_UNTIL = """async ([button, curves]) => {
  const text = () => [...document.querySelectorAll('[data-testid="stMetric"]')]
      .find(m => m.innerText.startsWith('inner step'))?.querySelector('[data-testid="stMetricValue"]')?.innerText;
  const lower = document.querySelector(`${curves} .subplot.xy2`) ? 'xy2' : 'xy';  // a one-panel figure: xy
  const points = () => document.querySelectorAll(`${curves} .subplot.${lower} .trace:last-child .point`).length;
  const wanted = () => { const m = /^(\\d+) of/.exec(text() || ''); return m && points() === Number(m[1]) + 1; };
  const before = text();
  const start = performance.now();
  document.querySelector(`.st-key-${button} button`).click();
  while (text() === before || !wanted()) {
    if (performance.now() - start > 60000) throw new Error(`no result 60 s after clicking ${button}`);
    await new Promise(r => requestAnimationFrame(r));
  }
  return performance.now() - start;
}"""


def title(page) -> str:
    return page.evaluate(f"document.querySelector('{CURVES} .gtitle')?.textContent || ''")


def press_until_title(page, key: str) -> tuple[float, str]:
    before = title(page)
    start = time.perf_counter()
    page.locator(ALPHA).press(key)
    page.wait_for_function(
        f"""b => {{ const t = document.querySelector('{CURVES} .gtitle'); return t && t.textContent !== b; }}""",
        arg=before, polling="raf",
    )  # fmt: skip
    return 1000 * (time.perf_counter() - start), title(page)


def summary(name: str, times: list[float]) -> str:
    return f"| {name} | {statistics.median(times):.0f} | {min(times):.0f}–{max(times):.0f} | {len(times)} |"


def measure(url: str, repeats: int) -> None:
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, viewport=SCREEN
        )
        context.add_init_script(RUN_COUNTER_JS)
        page = context.pages[0]
        page.set_default_timeout(120_000)
        page.goto(f"{url}/MAML")
        wait_idle(page)
        page.wait_for_selector(f"{CURVES} .main-svg")
        page.evaluate(CLICK_UNTIL, ["maml_one", CURVES])  # warm-up: the first fragment run
        page.evaluate(CLICK_UNTIL, ["maml_reset", CURVES])
        one_step, reset = [], []
        while len(one_step) < repeats:
            for _ in range(5):
                one_step.append(page.evaluate(CLICK_UNTIL, ["maml_one", CURVES]))
            reset.append(page.evaluate(CLICK_UNTIL, ["maml_reset", CURVES]))
        new_alpha, seen_alpha = [], []
        for _ in range(min(repeats, 7) if page.locator(ALPHA).count() else 0):  # 0.4 up to 10: each α new
            new_alpha.append(press_until_title(page, "ArrowRight")[0])
        for _ in range(len(new_alpha)):  # and back down through the traced ones
            seen_alpha.append(press_until_title(page, "ArrowLeft")[0])
        context.close()
    print(f"MAML stepper in Chromium at 1280x800, {url}: input to visible result, ms")
    print("| interaction | median | range | runs |\n|---|---:|---:|---:|")
    for name, times in (("One step", one_step[:repeats]), ("Reset", reset), ("α, new value", new_alpha),
                        ("α, traced before", seen_alpha)):  # fmt: skip
        if times:  # a page without the α slider (an older version, for comparison) has no α rows
            print(summary(name, times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--url", help="a running app; without it one is started on a free port")
    args = parser.parse_args()
    if args.url:
        measure(args.url.rstrip("/"), args.repeats)
        return
    port = free_port()
    process = start_app(ROOT, port)
    try:
        measure(f"http://127.0.0.1:{port}", args.repeats)
    finally:
        stop_app(process)


if __name__ == "__main__":
    main()
