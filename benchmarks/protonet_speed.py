"""Speed of Prototypical Networks on this machine's CPU, for the README.

    python -m benchmarks.protonet_speed [--checkpoint assets/protonet-omniglot]

- training throughput: 60-way 5-shot 5-query Omniglot-sized episodes per second (median of 20 steps);
- evaluation: seconds for 1000 seeded 5-way 1-shot 15-query episodes (target: under 30 s);
- prediction: milliseconds for ``Learner.predict`` of 100 query images against a 20-way 5-shot support
  set, preprocessing included (median of 20; target: under 200 ms).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from core import load_learner
from core.algorithms import PrototypicalNetworks
from core.datasets import DatasetSpec, find_omniglot_root, load_dataset
from core.episodes import EpisodeSampler
from core.evaluation import evaluate
from core.preprocessing import Preprocessing

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=str(ASSETS / "protonet-omniglot"), help="model for the prediction")
    args = parser.parse_args()
    root = find_omniglot_root()
    spec = DatasetSpec("omniglot", str(root), "vinyals") if root else DatasetSpec("glyphs")
    dataset = load_dataset(spec)
    train_split, test_split = ("train", "test") if root else ("background", "evaluation")
    print(
        f"data: {dataset.name} ({dataset.split_scheme}); torch {torch.__version__}, {torch.get_num_threads()} threads"
    )

    model = PrototypicalNetworks(Preprocessing())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    sampler = EpisodeSampler(dataset, train_split, 60, 5, 5, seed=0)
    steps = []
    for index in range(22):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss, _ = model.episode_loss(sampler.episode(index))
        loss.backward()
        optimizer.step()
        steps.append(time.perf_counter() - start)
    print(f"training, 60-way 5-shot 5-query: {1 / statistics.median(steps[2:]):.2f} episodes/s")

    test = EpisodeSampler(dataset, test_split, 5, 1, 15, seed=0)
    start = time.perf_counter()
    evaluate(model, test, 1000)
    print(f"evaluation, 1000 5-way 1-shot 15-query episodes: {time.perf_counter() - start:.1f} s")

    learner = load_learner(args.checkpoint)
    episode = EpisodeSampler(dataset, test_split, 20, 5, 5, seed=0).episode(0)
    labels = [dataset.class_names[episode.class_ids[y]] for y in episode.support_y.tolist()]
    times = []
    for _ in range(22):
        start = time.perf_counter()
        learner.predict(episode.support_x, labels, episode.query_x)
        times.append(time.perf_counter() - start)
    print(f"prediction, 100 queries vs a 20-way 5-shot support set: {1000 * statistics.median(times[2:]):.0f} ms")


if __name__ == "__main__":
    main()
