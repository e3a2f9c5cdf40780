"""Draw live in Chromium: from the mouse-up that ends a stroke on the query canvas to the new prediction.

    python -m benchmarks.browser_draw_live [--repeats 10]

Starts the app, opens Your images at 1280x800, switches to Draw live (two classes, the page's
Omniglot model where it is present), draws one example of each class, then draws strokes on the
query canvas. Each stroke is timed from its mouse-up until the run it triggers has finished and the
page has settled (the prediction drawn); the page's own "Classified in N ms" gives the part spent
computing. Medians are printed as a markdown table.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time

from benchmarks.timing import ROOT, browser_tab

QUERY_STROKES = ([(0.5, 0.1), (0.5, 0.9)], [(0.2, 0.5), (0.8, 0.5)], [(0.2, 0.2), (0.8, 0.8)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from st_browser import free_port, rerun, start_app, stop_app, stroke, wait_idle

    port = free_port()
    server = start_app(ROOT, port)
    waits, computing = [], []
    try:
        with browser_tab() as page:
            page.goto(f"http://127.0.0.1:{port}/Your_images")
            wait_idle(page)
            rerun(page, lambda: page.get_by_role("radio", name="Draw live").click())
            canvases = page.locator("canvas.upper-canvas")
            canvases.nth(2).wait_for()
            class_strokes = ([(0.2, 0.5), (0.5, 0.2), (0.8, 0.5), (0.5, 0.8)], [(0.5, 0.1), (0.5, 0.9)])
            for index, points in enumerate(class_strokes):
                for attempt in range(3):  # a canvas that is still mounting can drop its first stroke
                    try:
                        rerun(page, lambda i=index, p=points: stroke(page, canvases.nth(i), p), timeout_ms=15_000)
                        break
                    except PlaywrightTimeout:
                        if attempt == 2:
                            raise
            query = canvases.nth(2)
            query.scroll_into_view_if_needed()
            strokes = 0
            while len(waits) < args.repeats and strokes < 3 * args.repeats + 3:
                points = QUERY_STROKES[strokes % len(QUERY_STROKES)]
                strokes += 1
                box = query.bounding_box()
                page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
                page.mouse.down()
                page.mouse.move(
                    box["x"] + points[1][0] * box["width"], box["y"] + points[1][1] * box["height"], steps=6
                )
                before = page.evaluate("window.__st.done")
                start = time.perf_counter()
                page.mouse.up()
                try:
                    page.wait_for_function(f"window.__st.done > {before}", polling=5, timeout=15_000)
                except PlaywrightTimeout:  # a stroke the canvas dropped (still mounting): draw another
                    continue
                wait_idle(page)
                elapsed = 1000 * (time.perf_counter() - start)
                shown = re.search(r"Classified in (\d+) ms", page.inner_text('[data-testid="stMain"]'))
                if shown and strokes > 1:  # the first prediction warms the model: not counted
                    waits.append(elapsed)
                    computing.append(float(shown.group(1)))
    finally:
        stop_app(server)
    print(f"Draw live in Chromium at 1280x800, {len(waits)} query strokes, ms")
    print("| from mouse-up | median | range |\n|---|---:|---:|")
    print(f"| to the new prediction on screen | {statistics.median(waits):.0f} | {min(waits):.0f}–{max(waits):.0f} |")
    print(f"| of which classifying (the page's own timer) | {statistics.median(computing):.0f} | "
          f"{min(computing):.0f}–{max(computing):.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
