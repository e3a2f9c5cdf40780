"""Episode sampling latency and data-set load times (cold decode vs cached), for the README.

    python -m benchmarks.sampling [--episodes 1000] [--omniglot PATH]

Sampling: median over ``--episodes`` episodes of ``EpisodeSampler.episode(i)``, which
picks classes and images and indexes the uint8 tensor. Loading: "cold" decodes or
generates into an empty cache (one run), "cached" reads the cache entry (median of 5).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time

import torch

from core.datasets import DatasetSpec, find_omniglot_root, load_dataset
from core.episodes import EpisodeSampler

SHAPES = [(5, 1, 15), (20, 5, 15)]


def sampling_ms(dataset, split: str, n_way: int, n_shot: int, n_query: int, episodes: int) -> float:
    sampler = EpisodeSampler(dataset, split, n_way, n_shot, n_query, seed=0)
    sampler.episode(0)  # warm-up
    times = []
    for index in range(episodes):
        start = time.perf_counter()
        sampler.episode(index)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def load_seconds(spec: DatasetSpec) -> tuple[float, float]:
    """(cold, cached) load times of ``spec`` in a fresh, empty cache."""
    previous = os.environ.get("MLP_CACHE_DIR")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["MLP_CACHE_DIR"] = cache
        start = time.perf_counter()
        load_dataset(spec)
        cold = time.perf_counter() - start
        cached = []
        for _ in range(5):
            start = time.perf_counter()
            load_dataset(spec)
            cached.append(time.perf_counter() - start)
    if previous is None:
        os.environ.pop("MLP_CACHE_DIR", None)
    else:
        os.environ["MLP_CACHE_DIR"] = previous
    return cold, statistics.median(cached)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=1000, help="episodes per sampling measurement")
    parser.add_argument("--omniglot", default=None, help="Omniglot folder (default: the usual places)")
    args = parser.parse_args()

    specs = {"glyphs": (DatasetSpec("glyphs"), "evaluation")}
    root = args.omniglot or find_omniglot_root()
    if root:
        specs["omniglot (lake)"] = (DatasetSpec("omniglot", str(root), "lake"), "evaluation")
        specs["omniglot (vinyals, rotations)"] = (DatasetSpec("omniglot", str(root), "vinyals"), "test")
    else:
        print("Omniglot not found: only glyphs is measured (set OMNIGLOT_ROOT or pass --omniglot).")

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    print(f"\n| data set | images | cold load (s) | cached load (s) | {' | '.join(_label(s) for s in SHAPES)} |")
    print("|---|---:|---:|---:|" + "---:|" * len(SHAPES))
    for name, (spec, split) in specs.items():
        cold, cached = load_seconds(spec)
        dataset = load_dataset(spec)
        latencies = [sampling_ms(dataset, split, *shape, args.episodes) for shape in SHAPES]
        cells = " | ".join(f"{ms:.3f} ms" for ms in latencies)
        print(f"| {name} | {len(dataset.images)} | {cold:.1f} | {cached:.2f} | {cells} |")
    print(
        f"\nSampling: median of {args.episodes} episodes from the held-out split; loading: one cold run, median of 5."
    )


def _label(shape: tuple[int, int, int]) -> str:
    n_way, n_shot, n_query = shape
    return f"{n_way}-way {n_shot}-shot {n_query}-query"


if __name__ == "__main__":
    main()
