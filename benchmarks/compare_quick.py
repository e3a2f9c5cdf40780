"""How long the Compare page's quick run takes, and how many episodes it fits.

    python -m benchmarks.compare_quick [--repeats 3] [--threads 1]

The page's quick run is every model shipped for glyphs plus both baselines on seeded
5-way 1-shot episodes (5 queries per class) of the held-out classes, through
``core.compare.runner.run_for`` with the page's budget (``QUICK_SECONDS``):
it stops after the episode that passes it, with at least ``QUICK_MIN_EPISODES``. Prints
the median wall time of ``--repeats`` runs (models already loaded, the page's drawing
not included), the episodes each fitted, and the widest 95% CI it showed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from benchmarks.compare_shipped import lineup
from core.compare.runner import QUICK_MAX_EPISODES, QUICK_MIN_EPISODES, QUICK_SECONDS, run_for
from core.datasets import DatasetSpec, load_dataset
from core.datasets.roles import assign_roles
from core.episodes import EpisodeSampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset, roles = assign_roles(load_dataset(DatasetSpec("glyphs")))
    contenders = lineup("glyphs", dataset.split_scheme, roles.test, 5)
    seconds, episodes, widest = [], [], []
    for _ in range(args.repeats):
        sampler = EpisodeSampler(dataset, roles.test, 5, 1, 5, seed=0)
        start = time.perf_counter()
        *_, last = run_for(contenders, sampler, QUICK_SECONDS, QUICK_MAX_EPISODES, QUICK_MIN_EPISODES)
        seconds.append(time.perf_counter() - start)
        episodes.append(last.done)
        widest.append(max(100 * r.accuracy.ci95 for r in last.results if r.accuracy))
    print("| contenders | threads | budget s | median s | runs (s) | episodes | widest 95% CI (points) |")
    print("|---:|---:|---:|---:|---|---|---:|")
    print(
        f"| {len(contenders)} | {args.threads} | {QUICK_SECONDS} | {statistics.median(seconds):.1f} | "
        f"{', '.join(f'{s:.1f}' for s in seconds)} | {', '.join(map(str, episodes))} | ±{max(widest):.1f} |"
    )


if __name__ == "__main__":
    main()
