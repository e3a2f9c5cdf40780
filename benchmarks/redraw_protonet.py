"""How fast the Prototypical Networks page redraws after a push, on this machine's CPU (target: under 300 ms).

    python -m benchmarks.redraw_protonet [--repeats 5]

- core: one push (prototypes, predictions, 80x80 regions), the map built and serialised to JSON as
  Streamlit sends it, for three episode shapes with the shipped glyphs model;
- server: everything the server recomputes after a push (the push, the map with thumbnails, the distance and
  probability heat maps, one query's bars), serialised;
- new episode: what a change of episode adds once (embedding, plane, the n_shot animation's 10 frames);
- browser: from a click to the redrawn page in Chromium against a warm local server (a push reruns only
  the part of the page it changes: the map, its controls, the distances and the inspected query).
Medians of ``--repeats`` runs after one warm-up. The header prints the load average: on a shared machine
the browser rows (Chromium's own drawing included) grow with it far more than the server rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import plotly.io
import torch

from benchmarks.timing import browser_tab, median_ms
from core.algorithms.prototype_push import Push, as_prototype_trace, push, push_space, same_classes_episode, settle
from core.checkpoints import load_checkpoint
from core.datasets import GlyphsConfig, load_glyphs
from core.episodes import EpisodeSampler
from core.figures.common import matrix_heatmap, probability_bars
from core.figures.montage import to_display
from core.figures.prototypes import ROLES, prototype_map, shots_animation

ROOT = Path(__file__).resolve().parents[1]
LEGEND = {role: role for role in ROLES}
SHAPES = ((5, 1, 5), (5, 5, 5), (20, 5, 5))  # n_way, n_shot, n_query


def core_rows(repeats: int) -> list[tuple[str, float]]:
    model, _ = load_checkpoint(ROOT / "assets" / "protonet-glyphs")
    model.eval()
    glyphs = load_glyphs(GlyphsConfig())
    rows = []
    for n_way, n_shot, n_query in SHAPES:
        rows += shape_rows(
            model, glyphs, EpisodeSampler(glyphs, "evaluation", n_way, n_shot, n_query).episode(0), repeats
        )
    return rows


def shape_rows(model, glyphs, episode, repeats: int) -> list[tuple[str, float]]:
    space = push_space(model, episode)
    change = Push(kept=tuple(i != 0 for i in range(len(episode.support_y))), outliers=((1, 0),))
    names = [str(k) for k in range(episode.n_way)]
    shape = f"{episode.n_way}-way {episode.n_shot}-shot"

    pictures = to_display(torch.cat([episode.support_x, episode.query_x]), 1)

    def whole_redraw() -> None:
        """What the server recomputes after a push: the push, the map with its thumbnails, the distance and
        probability heat maps and one query's bars, each serialised as Streamlit sends it."""
        trace = push(space, change)
        as_model = as_prototype_trace(trace, space, model)
        coords = np.concatenate([trace.member_coords, trace.query_coords])
        thumbnails = [(float(x), float(y), p) for (x, y), p in zip(coords, pictures[1:], strict=False)]
        rows, columns = [f"q{i}" for i in range(len(episode.query_y))], names
        for figure in (prototype_map(trace, names, "title", LEGEND, thumbnails),
                       matrix_heatmap(as_model.distances.numpy(), rows, columns, "d", "d"),
                       matrix_heatmap(as_model.probabilities.numpy(), rows, columns, "p", "p"),
                       probability_bars(as_model.probabilities[0].numpy(), names, 0, "bars")):  # fmt: skip
            plotly.io.to_json(figure.to_dict(), validate=False)

    def new_episode() -> None:
        more = same_classes_episode(glyphs, episode, 10)
        shots_animation(settle(push_space(model, more), 10), names, LEGEND, "{n_shot} {accuracy}", "a", "p").to_json()
        push_space(model, episode)

    return [
        (f"core · {shape} · push", median_ms(lambda: push(space, change), repeats)),
        (f"core · {shape} · push + map + JSON",
         median_ms(lambda: prototype_map(push(space, change), names, "title", LEGEND).to_json(), repeats)),
        (f"server · {shape} · a push's whole redraw (map, heat maps, bars)", median_ms(whole_redraw, repeats)),
        (f"new episode · {shape} · embed + plane + 10-frame animation", median_ms(new_episode, repeats)),
    ]  # fmt: skip


def browser_rows(repeats: int) -> list[tuple[str, float]]:
    """Click to finished redraw in Chromium against a real, warm server: what a visitor waits for."""
    sys.path.insert(0, str(ROOT / "tests"))
    from st_browser import free_port, start_app, stop_app, wait_idle

    port = free_port()
    server = start_app(ROOT, port)
    try:
        with browser_tab() as page:
            page.goto(f"http://127.0.0.1:{port}/Prototypical_Networks?n_shot=5")
            wait_idle(page)

            def timed(action) -> float:
                before = page.evaluate("window.__st.done")
                start = time.perf_counter()
                action()
                page.wait_for_function(f"window.__st.done > {before}", polling=5)
                wait_idle(page)
                return 1000 * (time.perf_counter() - start)

            pill = page.locator(".st-key-protonet_keep button", has_text="0·1")
            ticks = [timed(pill.click) for _ in range(repeats + 1)][1:]  # out, in, out, ...
            page.get_by_role("tab", name="Add an outlier").click()
            add = page.get_by_role("button", name="Add as outlier")
            outliers = [timed(add.click) for _ in range(repeats + 1)][1:]
            page.get_by_role("tab", name="Support set").click()
            options = [page.locator(".st-key-protonet_regions").get_by_text(text, exact=True)
                       for text in ("the model's, on the plane", "nearest ★")]  # fmt: skip
            switches = [timed(options[i % 2].click) for i in range(repeats + 1)][1:]
    finally:
        stop_app(server)
    return [("browser · tick a support image out or in (click to redrawn)", statistics.median(ticks)),
            ("browser · add an outlier (click to redrawn)", statistics.median(outliers)),
            ("browser · switch the shaded regions (click to redrawn)", statistics.median(switches))]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = core_rows(args.repeats) + browser_rows(args.repeats)
    width = max(len(name) for name, _ in rows)
    load = os.getloadavg()[0]
    print(
        f"{'what (glyphs, shipped model; load average ' + f'{load:.1f} on {os.cpu_count()} cores)':<{width}}  median ms"
    )
    for name, ms in rows:
        print(f"{name:<{width}}  {ms:9.1f}")


if __name__ == "__main__":
    main()
