"""Nearest neighbour on raw pixels: the floor every few-shot learner must clear.

    python -m benchmarks.pixel_baseline [--episodes 1000] [--omniglot PATH]

Accuracy with a 95% confidence interval over a fixed set of seeded episodes (seed 0,
15 queries per class) from held-out classes: glyphs' evaluation alphabets, and
Omniglot's Vinyals test split with rotations (the split the papers report on).
"""

from __future__ import annotations

import argparse

from core.compare.baselines import pixel_nearest_neighbour_predict
from core.datasets import DatasetSpec, find_omniglot_root, load_dataset
from core.episodes import EpisodeSampler
from core.evaluation import evaluate_predictor

SETTINGS = [(5, 1), (5, 5), (20, 1), (20, 5)]
PAPER_PIXELS = {(5, 1): 41.7, (5, 5): 63.2, (20, 1): 26.7, (20, 5): 42.6}  # Vinyals et al. 2016, Table 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--omniglot", default=None, help="Omniglot folder (default: the usual places)")
    args = parser.parse_args()

    rows = {"glyphs (evaluation alphabets)": (DatasetSpec("glyphs"), "evaluation")}
    root = args.omniglot or find_omniglot_root()
    if root:
        rows["Omniglot (Vinyals test, rotations)"] = (DatasetSpec("omniglot", str(root), "vinyals"), "test")
    header = " | ".join(f"{n}-way {k}-shot" for n, k in SETTINGS)
    print(f"| pixel nearest neighbour | {header} |\n|---|" + "---:|" * len(SETTINGS))
    for name, (spec, split) in rows.items():
        dataset = load_dataset(spec)
        samplers = [EpisodeSampler(dataset, split, n, k, 15, seed=0) for n, k in SETTINGS]
        cells = [evaluate_predictor(pixel_nearest_neighbour_predict, sampler, args.episodes) for sampler in samplers]
        print(f"| {name} | " + " | ".join(f"{100 * a.mean:.1f} ± {100 * a.ci95:.1f}" for a in cells) + " |")
    print("| Vinyals et al. (2016), pixels, Omniglot | " + " | ".join(f"{PAPER_PIXELS[s]}" for s in SETTINGS) + " |")
    print(f"\n{args.episodes} episodes per cell, 15 queries per class, seed 0; ± is the 95% confidence interval.")


if __name__ == "__main__":
    main()
