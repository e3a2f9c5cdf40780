"""How long one move of a training-scrub slider takes to redraw, for the README.

    python -m benchmarks.redraw_snapshots [--repeats 7] [--no-browser]

Script side (one torch thread, as the server runs on this 2-core machine): what a slider move
reruns, the trace at one snapshot (``core.training.replay``), its figure and the figure's JSON
(what Streamlit sends). ProtoNet maps align each step to the next, so a page computes them all
once per episode and a move only draws: both are timed. The shipped Conv-4 weights stand in for
every snapshot (the time depends on the architecture, not the values). Browser side: on a warm
server, the time from a key press on the sine page's slider to its figure showing the new step.
Medians of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.timing import median_ms
from core.checkpoints import Snapshot, load_checkpoint
from core.datasets import DatasetSpec, load_dataset
from core.episodes import EpisodeSampler
from core.figures.common import embedding_map
from core.figures.maml import inner_loop_curves
from core.figures.sinusoid import fit_at_step_figure, value_by_step_figure
from core.sinusoid import random_task
from core.training.replay import maml_adaptations, protonet_maps, sine_fits

ROOT = Path(__file__).resolve().parents[1]


def _repeated(path: Path) -> tuple[object, list[Snapshot]]:
    model, _ = load_checkpoint(path)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return model, [Snapshot(step, state) for step in range(0, 1000, 100)]


def sine_redraw() -> Callable[[], object]:
    sys.path.insert(0, str(ROOT))
    from app.sinusoid_view import load_pair  # plain function: no Streamlit call runs

    pair = load_pair()
    task = random_task(3)
    x, y = task.points(10, 4)
    steps = [s.step for s in pair["snapshots"]["maml"]]

    def redraw() -> object:
        fits = {
            n: sine_fits(pair[n], [pair["snapshots"][n][1]], task, x, y, (0, 1))[0].curve for n in ("maml", "joint")
        }
        lines = [(n, f.predictions[1].numpy(), "#1f77b4", "solid") for n, f in fits.items()]
        fit = fit_at_step_figure(fits["maml"].grid.numpy(), fits["maml"].truth.numpy(), lines, x[:, 0].numpy(),
                                 y[:, 0].numpy(), "title", "true wave", "points")  # fmt: skip
        curve = value_by_step_figure(
            steps, [("MAML", pair["snapshot_mse"]["maml"], "#1f77b4")], steps[1], "t", "x", "y"
        )
        return fit.to_json(), curve.to_json()

    return redraw


def protonet_work(n_way: int, n_shot: int, n_query: int) -> tuple[Callable[[], object], Callable[[], object]]:
    model, snapshots = _repeated(ROOT / "assets" / "protonet-glyphs")
    dataset = load_dataset(DatasetSpec("glyphs"))
    episode = EpisodeSampler(dataset, "evaluation", n_way, n_shot, n_query, seed=0).episode(0)
    maps = protonet_maps(model, snapshots, episode)

    def draw() -> object:
        shown = maps[3]
        trace = shown.trace
        role = ["support"] * len(trace.support_y) + ["query"] * len(trace.query_y) + ["prototype"] * n_way
        labels = torch.cat([trace.support_y, trace.query_y, torch.arange(n_way)]).numpy()
        predicted = torch.cat([trace.support_y, trace.predictions, torch.arange(n_way)]).numpy()
        return embedding_map(shown.coords, role, labels, predicted, [str(c) for c in range(n_way)], "PCA",
                             regions=True).to_json()  # fmt: skip

    return (lambda: protonet_maps(model, snapshots, episode)), draw


def maml_redraw() -> Callable[[], object]:
    model, snapshots = _repeated(ROOT / "assets" / "maml-glyphs")
    dataset = load_dataset(DatasetSpec("glyphs"))
    episode = EpisodeSampler(dataset, "evaluation", 5, 1, 5, seed=0).episode(0)

    def redraw() -> object:
        trace = maml_adaptations(model, [snapshots[3]], episode)[0].trace
        series = {"query loss": list(trace.query_loss), "support loss": list(trace.support_loss)}
        return inner_loop_curves(series, "title", "loss").to_json()

    return redraw


def browser_slider_ms(repeats: int) -> float | None:
    """Key press on the sine page's scrub slider -> its figure titled with the new step, on a warm server."""
    sys.path.insert(0, str(ROOT / "tests"))
    from st_browser import CHROMIUM, CHROMIUM_ARGS, free_port, start_app, stop_app, wait_idle

    if not Path(CHROMIUM).exists():
        return None
    from playwright.sync_api import sync_playwright

    process = start_app(ROOT, free_port_value := free_port())
    title = '[class*="st-key-sine_scrub_fit"] .gtitle'
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(120_000)
            page.goto(f"http://127.0.0.1:{free_port_value}/MAML_regression")
            wait_idle(page)
            thumb = page.locator('[class*="st-key-sine_scrub_step"] input[type="range"]')
            thumb.scroll_into_view_if_needed()
            times = []
            for index in range(repeats + 1):
                before = page.locator(title).text_content()
                start = time.perf_counter()
                thumb.press("ArrowLeft" if index % 2 == 0 else "ArrowRight")
                page.wait_for_function(f"(document.querySelector('{title}')?.textContent ?? {before!r}) !== {before!r}")
                if index:  # the first move warms the fragment's code path
                    times.append(1000 * (time.perf_counter() - start))
                wait_idle(page)
            browser.close()
    finally:
        stop_app(process)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-browser", action="store_true", help="skip the warm-server measurement")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = [("sine: fits of both networks at one step + both figures", median_ms(sine_redraw(), args.repeats))]
    for shape in ((5, 1, 5), (20, 5, 5)):
        all_maps, draw = protonet_work(*shape)
        name = f"ProtoNet {shape[0]}-way {shape[1]}-shot {shape[2]}-query"
        rows.append((f"{name}: all 10 maps (once per episode)", median_ms(all_maps, args.repeats)))
        rows.append((f"{name}: one step's map figure (a slider move)", median_ms(draw, args.repeats)))
    rows.append(("MAML 5-way 1-shot: inner-loop trace at one step + figure", median_ms(maml_redraw(), args.repeats)))
    if not args.no_browser and (browser := browser_slider_ms(args.repeats)) is not None:
        rows.append(("browser, warm server: sine slider key press -> new figure", browser))
    print("| what one slider move (or episode) costs | median ms |\n|---|---:|")
    for name, ms in rows:
        print(f"| {name} | {ms:.0f} |", flush=True)


if __name__ == "__main__":
    main()
