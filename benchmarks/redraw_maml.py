"""How long the MAML stepper's server side takes to redraw, on this machine's CPU, for the README.

    python -m benchmarks.redraw_maml [--repeats 7] [--steps 5]

The shipped maml-glyphs model on one 5-way 1-shot episode with 5 queries per class, with the
server's thread count (one fewer than the cores). Parts, then the two interactions they add up to:

- trace at a new α: the inner loop traced step by step (``MAML.explain(..., inner_lr=α)``), paid
  once per (episode, steps, α); the page memoises it, so stepping never pays it again;
- stepper figure / query picture / layer-update figure: what every click redraws, serialised as
  Streamlit sends it (plotly JSON; the picture as a PNG);
- one step (a click on One step, Play's every step, Reset): the three redraws, trace memoised;
- new α (a slider move to an α not seen yet): the trace plus the three redraws.

The browser's own drawing and the websocket are not counted: ``benchmarks/browser_maml_step.py``
times a click to its visible result. Medians of ``--repeats`` runs after one warm-up.
"""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path

import plotly.io as pio
import torch
from PIL import Image

from benchmarks.timing import median_ms
from core.checkpoints import load_checkpoint
from core.datasets import GlyphsConfig, load_glyphs
from core.episodes import EpisodeSampler
from core.figures.maml import marked_predictions, stepper_curves, update_sizes
from core.figures.montage import display_scale
from core.preprocessing import adapt_episode

ROOT = Path(__file__).resolve().parents[1]
TITLES = {"title": "Each inner step", "loss": "cross-entropy", "accuracy": "query accuracy", "step": "inner step",
          "accuracy_name": "query accuracy"}  # fmt: skip
ALPHAS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))  # as app.server_limits does for the server
    maml, _ = load_checkpoint(ROOT / "assets" / "maml-glyphs")
    maml.eval()
    raw = EpisodeSampler(load_glyphs(GlyphsConfig()), "evaluation", 5, 1, 5, seed=0).episode(0)
    episode = adapt_episode(raw, maml.preprocessing)
    trace = maml.explain(episode, args.steps)
    reference = maml.explain(episode, args.steps, inner_lr=1.5)
    shown = args.steps // 2 + 1
    scale = display_scale(episode.query_x.shape[-1], target=56)
    alphas = iter(ALPHAS * (args.repeats + 1))

    def new_trace() -> None:
        maml.explain(episode, args.steps, inner_lr=next(alphas))

    def figure() -> None:
        losses = {"support loss": trace.support_loss, "query loss": trace.query_loss}
        ref = ("query at α = 1.5", reference.query_loss, reference.query_accuracy)
        pio.to_json(stepper_curves(losses, trace.query_accuracy, shown_steps=shown, titles=TITLES, reference=ref),
                    validate=False)  # fmt: skip

    def picture() -> None:
        sheet = marked_predictions(episode.query_x, trace.query_y, trace.predictions[shown], scale, per_row=9)
        Image.fromarray(sheet).save(io.BytesIO(), format="PNG", compress_level=1)  # as app.maml_stepper does

    def updates() -> None:
        pio.to_json(update_sizes(trace.relative_update_norms[shown - 1], "How far step 3 moved"), validate=False)

    parts = {"trace at a new α": new_trace, "stepper figure": figure, "query picture": picture,
             "layer-update figure": updates}  # fmt: skip
    times = {name: median_ms(action, args.repeats) for name, action in parts.items()}
    times["one step (trace memoised)"] = times["stepper figure"] + times["query picture"] + times["layer-update figure"]
    times["new α"] = times["trace at a new α"] + times["one step (trace memoised)"]
    print(f"MAML stepper, server side: {args.steps} inner steps, 5-way 1-shot, 25 queries, "
          f"{torch.get_num_threads()} torch thread(s), medians of {args.repeats}")  # fmt: skip
    print("| part | ms |\n|---|---:|")
    for name, value in times.items():
        print(f"| {name} | {value:.1f} |")


if __name__ == "__main__":
    main()
