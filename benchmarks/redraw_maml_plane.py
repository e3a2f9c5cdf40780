"""How long MAML in 2-D takes to redraw after one interaction, on this machine's CPU (target: under 300 ms).

    python -m benchmarks.redraw_maml_plane [--repeats 20]

Two tables of medians:

- the core and figure work of one interaction, in-process: the snapshot at θ (inner paths and both
  meta-gradients), the fixed points, the plane figure and its JSON (what Streamlit sends), and for a
  meta-training Step also the two outer steps, the two trajectories' losses and the loss figure;
- the whole page script rerun on a warm server (Streamlit's AppTest, after a first run has imported
  everything): θ moved, α moved, Step pressed. The browser's drawing is not included.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from core.figures.plane import plane_figure, training_losses
from core.toys.maml_plane import FAMILIES, TaskFamily, outer_step, quadratic_fixed_points, snapshot, trajectory

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/13_MAML_in_2D.py"


def median_ms(action: Callable[[int], object], repeats: int) -> float:
    action(0)  # warm-up
    times = []
    for index in range(1, repeats + 1):
        start = time.perf_counter()
        action(index)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def core_rows(repeats: int) -> list[tuple[str, float]]:
    from app.maml_plane_view import plane_labels

    labels = plane_labels()
    rows = []
    for name, family in FAMILIES.items():

        def targets(family: TaskFamily) -> tuple | None:
            return quadratic_fixed_points(family, family.alpha, 1) if family.kind == "quadratic" else None

        def move(index: int, family: TaskFamily = family) -> None:
            theta = torch.tensor([family.start[0] - 0.05 * index, family.start[1]], dtype=torch.float64)
            shot = snapshot(family, theta, family.alpha, 1)
            plane_figure(family, shot, labels, theta[None], theta[None], targets(family), family.beta).to_json()

        def step(index: int, family: TaskFamily = family) -> None:
            points = {"second_order": [torch.tensor(family.start, dtype=torch.float64)]}
            points["joint"] = list(points["second_order"])
            for _ in range(1 + index % 5):  # a run a few steps in, as after some clicks on Step
                for method, path in points.items():
                    path.append(outer_step(family, path[-1], method, family.alpha, 1, family.beta))
            paths = {method: torch.stack(path) for method, path in points.items()}
            shot = snapshot(family, paths["second_order"][-1], family.alpha, 1)
            figure = plane_figure(
                family, shot, labels, paths["second_order"], paths["joint"], targets(family), family.beta
            )
            figure.to_json()
            runs = {m: trajectory(family, p, m, family.alpha, 1) for m, p in paths.items()}
            curves = {m: (run.loss_before, run.loss_after, "#000") for m, run in runs.items()}
            training_losses(curves, "t", "x", "y", "{name}", "{name}").to_json()

        rows.append((f"{name}: move θ (core + figure + JSON)", median_ms(move, repeats)))
        rows.append((f"{name}: Step, up to 5 outer steps (core + figures + JSON)", median_ms(step, repeats)))
    return rows


def page_rows(repeats: int) -> list[tuple[str, float]]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page(PAGE).run()
    if at.exception:
        raise RuntimeError(f"the page raised: {[e.value for e in at.exception]}")

    def move_theta(index: int) -> None:
        at.slider(key="plane_x").set_value(round(3.5 - 0.05 * (index % 40), 2)).run()

    def move_alpha(index: int) -> None:
        at.slider(key="plane_alpha").set_value(round(0.2 + 0.05 * (index % 10), 2)).run()

    def press_step(index: int) -> None:
        at.button(key="plane_one").click().run()

    return [
        ("whole page rerun: move θ", median_ms(move_theta, repeats)),
        ("whole page rerun: move α", median_ms(move_alpha, repeats)),
        ("whole page rerun: Step", median_ms(press_step, repeats)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20, help="timed repetitions per row (after one warm-up)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; medians of {args.repeats} runs")
    rows = core_rows(args.repeats) + page_rows(args.repeats)
    width = max(len(name) for name, _ in rows)
    print(f"| {'interaction'.ljust(width)} | median ms |")
    print(f"|{'-' * (width + 2)}|----------:|")
    for name, milliseconds in rows:
        print(f"| {name.ljust(width)} | {milliseconds:9.1f} |")


if __name__ == "__main__":
    main()
