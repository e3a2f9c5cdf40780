"""How fast the Relation Networks page redraws after each interaction, on this machine's CPU (target: 300 ms).

    python -m benchmarks.redraw_relation [--repeats 5]

- core: what the page computes per episode (the trace, the heat map, every pair of the probe's scatter and
  its figure, serialised to JSON as Streamlit sends them) and per probe pick (two images, both orders), for
  the page's default 5-way 1-shot episode with 3 queries per class and a 20-way one;
- browser: from a click to the redrawn page in Chromium against a warm local server: a probe pick, another
  query to inspect and the thumbnails toggle (each part of the page is a fragment: only it reruns).
The load average is printed with the table: on a shared machine it inflates every row.
Medians of ``--repeats`` runs after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from benchmarks.timing import browser_tab, median_ms
from core.algorithms.relation_probe import compare_pairs
from core.checkpoints import load_checkpoint
from core.datasets import GlyphsConfig, load_glyphs
from core.episodes import EpisodeSampler
from core.figures.montage import image_row, to_display
from core.figures.probe import ScatterText, relation_distance_scatter
from core.figures.relation import relation_heatmap

ROOT = Path(__file__).resolve().parents[1]
SHAPES = ((5, 1, 3), (20, 1, 3))  # n_way, n_shot, n_query: the page's default, and 20-way
MAX_PAIRS = 600  # as app.relation_probe
TEXT = ScatterText("title", "x", "y", "same", "other", "reverse", "r(a, b)", "r(b, a)")


def core_rows(repeats: int) -> list[tuple[str, float]]:
    relation, _ = load_checkpoint(ROOT / "assets" / "relationnet-glyphs")
    protonet, _ = load_checkpoint(ROOT / "assets" / "protonet-glyphs")
    relation.eval(), protonet.eval()
    glyphs = load_glyphs(GlyphsConfig())
    rows = []
    for n_way, n_shot, n_query in SHAPES:
        episode = EpisodeSampler(glyphs, "evaluation", n_way, n_shot, n_query).episode(0)
        rows += shape_rows(relation, protonet, episode, repeats)
    return rows


def shape_rows(relation, protonet, episode, repeats: int) -> list[tuple[str, float]]:
    images = torch.cat([episode.support_x, episode.query_x])
    labels = torch.cat([episode.support_y, episode.query_y])
    names = [str(i) for i in range(len(images))]
    classes = [image_row(episode.support_x[episode.support_y == k]) for k in range(episode.n_way)]

    def heat_map() -> None:
        trace = relation.explain(episode)
        relation_heatmap(trace.scores.numpy(), trace.query_y.numpy(), to_display(episode.query_x), classes,
                         height=520).to_json()  # fmt: skip

    def every_pair() -> None:
        comparison = compare_pairs(relation, images, protonet.embed(images), labels, MAX_PAIRS)
        relation_distance_scatter(comparison, names, TEXT, marked=(comparison.most_disputed, "x")).to_json()

    def one_pick() -> None:
        two = images[[0, len(images) - 1]]
        compare_pairs(relation, two, protonet.embed(two), torch.tensor([0, 1]), max_pairs=2)

    shape = f"{episode.n_way}-way {episode.n_shot}-shot, {episode.n_query} queries"
    return [
        (f"core · {shape} · trace + heat map + JSON", median_ms(heat_map, repeats)),
        (f"core · {shape} · every pair scored by both models + scatter + JSON", median_ms(every_pair, repeats)),
        (f"core · {shape} · one probe pick (both orders, both models)", median_ms(one_pick, repeats)),
    ]


def browser_rows(repeats: int) -> list[tuple[str, float]]:
    """Click to finished redraw in Chromium against a real, warm server: what a visitor waits for."""
    sys.path.insert(0, str(ROOT / "tests"))
    from st_browser import free_port, start_app, stop_app, wait_idle

    port = free_port()
    server = start_app(ROOT, port)
    try:
        with browser_tab() as page:
            page.goto(f"http://127.0.0.1:{port}/Relation_Networks")
            wait_idle(page)
            page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')

            def timed(action) -> float:
                before = page.evaluate("window.__st.done")
                start = time.perf_counter()
                action()
                page.wait_for_function(f"window.__st.done > {before}", polling=5)
                wait_idle(page)
                return 1000 * (time.perf_counter() - start)

            def pick(place: str, option: str) -> float:
                box = page.locator('[data-testid="stSelectbox"]').filter(has_text=place)
                box.locator('input[role="combobox"]').click()
                page.keyboard.press("Control+a")
                page.keyboard.type(option)
                return timed(page.get_by_role("option", name=option, exact=True).click)

            a_options = ("s0 · support, class 0", "s2 · support, class 2")
            picks = [pick("a, in the class", a_options[i % 2]) for i in range(repeats + 1)][1:]
            q_options = ("q3: class 1", "q5: class 1")
            queries = [pick("query to inspect", q_options[i % 2]) for i in range(repeats + 1)][1:]
            toggle = page.locator(".st-key-relation_thumbnails label")
            toggles = [timed(toggle.click) for _ in range(repeats + 1)][1:]
    finally:
        stop_app(server)
    return [
        ("browser · probe: pick another image a (click to redrawn)", statistics.median(picks)),
        ("browser · another query to inspect (click to redrawn)", statistics.median(queries)),
        ("browser · images on the axes off/on (click to redrawn)", statistics.median(toggles)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true", help="the core rows only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = core_rows(args.repeats) + ([] if args.no_browser else browser_rows(args.repeats))
    print(f"| measure (median of {args.repeats}, {torch.get_num_threads()} torch thread) | ms |")
    print("|---|---:|")
    for name, milliseconds in rows:
        print(f"| {name} | {milliseconds:.0f} |")
    print(f"\nLoad average (1, 5, 15 min) on {os.cpu_count()} CPUs: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
