"""MAML against joint training on the sine waves of Finn et al. (2017), section 5.1, for the README.

    python -m benchmarks.sinusoid [--tasks 50]

The page's defaults (2000 steps of 25 tasks, Adam at 1e-3, one inner step at 0.01); for K = 5
and 10, both networks are meta-trained or trained jointly, then fine-tuned on K points of
held-out tasks with the same plain gradient steps; the MSE is measured on 200 points of the
true curve over [-5, 5] and averaged over the tasks.
"""

from __future__ import annotations

import argparse
import time

from core.sinusoid import SineTrainConfig, joint_train, mean_grid_mse, meta_train, regressor

STEPS = (0, 1, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=50, help="held-out tasks per cell")
    args = parser.parse_args()
    print("| K | network | training s | MSE before | after 1 step | after 10 steps |\n|---:|---|---:|---:|---:|---:|")
    for n_shot in (10, 5):
        config = SineTrainConfig(n_shot=n_shot)
        for name, trainer in (("MAML", meta_train), ("joint training", joint_train)):
            model = regressor(config.seed)
            start = time.perf_counter()
            for _ in trainer(model, config):
                pass
            seconds = time.perf_counter() - start
            errors = mean_grid_mse(model, n_shot, STEPS, n_tasks=args.tasks)
            print(f"| {n_shot} | {name} | {seconds:.0f} | " + " | ".join(f"{e:.2f}" for e in errors) + " |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
