"""The two trained baselines on the paper tables' Omniglot split, for the one-table summary.

    python -m benchmarks.baselines_omniglot [--episodes 200] [--epochs 3]

On the Vinyals split with rotations (as the algorithms' paper-table runs): the Conv-4
trained from scratch on each support set (no training beforehand), and the same network
pre-trained by cross-entropy on all training classes, with its test-time steps and rate
chosen on the val classes, then fine-tuned on each support set. Seeded test episodes with
15 queries per class (the first ``--episodes`` of those the algorithms were tested on).
Writes ``benchmarks/results/baselines_omniglot.json``, which ``omniglot_summary`` reads.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from benchmarks.omniglot_runs import vinyals_omniglot
from core.algorithms import FineTuning
from core.compare.baselines import TrainFromScratch
from core.episodes import EpisodeSampler
from core.evaluation import evaluate_predictor
from core.preprocessing import fitted_preprocessing
from core.training.pretraining import choose_adaptation, pretrain

RESULTS = Path(__file__).parent / "results"
SETTINGS = [(5, 1), (5, 5), (20, 1), (20, 5)]


def test_all(predict, dataset, episodes: int) -> dict:
    tests = {}
    for n_way, n_shot in SETTINGS:
        result = evaluate_predictor(predict, EpisodeSampler(dataset, "test", n_way, n_shot, 15, seed=0), episodes)
        tests[f"{n_way}-way {n_shot}-shot"] = {"mean": result.mean, "ci95": result.ci95, "episodes": result.episodes}
        print(f"  {n_way}-way {n_shot}-shot: {result}", flush=True)
    return tests


def pretrained(dataset, epochs: float) -> tuple[FineTuning, dict]:
    torch.manual_seed(0)
    model = FineTuning(fitted_preprocessing(dataset.split_images("train"), bright_on_dark=True))
    start = time.perf_counter()
    for record in pretrain(model, dataset, "train", epochs=epochs):
        if record.step % 200 == 0:
            print(f"  pre-training batch {record.step} of {record.steps}: loss {record.loss:.3f}", flush=True)
    minutes = (time.perf_counter() - start) / 60
    scores = choose_adaptation(model, EpisodeSampler(dataset, "val", 5, 1, 15, seed=100))
    model.eval()
    return model, {"epochs": epochs, "pretraining_minutes": minutes, "test_steps": model.test_steps,
                   "inner_lr": model.inner_lr,
                   "validation": {f"{s} steps at {r}": v for (s, r), v in scores.items()}}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=200, help="test episodes per setting")
    parser.add_argument("--epochs", type=float, default=3, help="pre-training passes over the training images")
    parser.add_argument("--omniglot", default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    dataset = vinyals_omniglot(args.omniglot)
    print("trained from scratch on the support set", flush=True)
    scratch = {"tests": test_all(TrainFromScratch().predict, dataset, args.episodes)}
    print("pre-trained + fine-tuned", flush=True)
    model, info = pretrained(dataset, args.epochs)
    finetuned = {**info, "tests": test_all(model.predict_episode, dataset, args.episodes)}
    result = {"scratch": scratch, "finetune": finetuned, "threads": torch.get_num_threads()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "baselines_omniglot.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
