"""Reproduce Table 1 of Snell et al. (2017), Omniglot, with Prototypical Networks.

    python -m benchmarks.protonet_omniglot [--episodes 3000] [--omniglot PATH]

Vinyals split with rotations. One model per shot, trained as the paper does: 60-way
episodes with 5 queries per class, the same shot as at test, Adam at 1e-3 halved every
2000 episodes; the weights that validate best (5-way, on the val classes) are kept.
(The paper then retrains on train+val; we do not.) Each model is tested on 1000
seeded 5-way and 20-way episodes of the test classes with 15 queries per class, and
nearest neighbour on pixels is scored on exactly the same episodes.

Writes ``benchmarks/results/protonet_omniglot.{md,json}``, and the two checkpoints under
``benchmarks/results/checkpoints/`` (not committed; ``python -m core eval`` reads them).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from benchmarks.omniglot_runs import vinyals_omniglot
from core.algorithms import PrototypicalNetworks
from core.checkpoints import save_checkpoint
from core.compare.baselines import pixel_nearest_neighbour_predict
from core.episodes import EpisodeSampler
from core.evaluation import evaluate, evaluate_predictor
from core.preprocessing import fitted_preprocessing
from core.training import TrainConfig, train

PAPER = {(5, 1): 98.8, (5, 5): 99.7, (20, 1): 96.0, (20, 5): 98.9}
RESULTS = Path(__file__).parent / "results"


def train_one(dataset, n_shot: int, episodes: int, out: Path) -> dict:
    torch.manual_seed(n_shot)
    model = PrototypicalNetworks(fitted_preprocessing(dataset.split_images("train"), bright_on_dark=True))
    sampler = EpisodeSampler(dataset, "train", 60, n_shot, 5, seed=n_shot)
    validation = EpisodeSampler(dataset, "val", 5, n_shot, 15, seed=100)
    run = train(model, sampler, TrainConfig(episodes=episodes, validate_every=500, validation_episodes=200), validation)
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    for record in run:
        if record.val_accuracy is not None:
            print(
                f"  {n_shot}-shot step {record.step}: loss {record.loss:.3f}, val {100 * record.val_accuracy:.2f}%"
                f"{' (best)' if record.best else ''}, {record.step / record.seconds:.2f} episodes/s",
                flush=True,
            )
    cpu_minutes = (time.process_time() - cpu_start) / 60
    wall_minutes = (time.perf_counter() - wall_start) / 60
    info = {
        "n_shot": n_shot,
        "training_episodes": episodes,
        "best_step": run.best_step,
        "best_val_accuracy": run.best_accuracy,
        "cpu_minutes": cpu_minutes,
        "wall_minutes": wall_minutes,
        "episodes_per_second": episodes / run.seconds,
        "threads": torch.get_num_threads(),
    }
    tests = {}
    for n_way in (5, 20):
        result = evaluate(model, EpisodeSampler(dataset, "test", n_way, n_shot, 15, seed=0), 1000)
        tests[f"{n_way}-way {n_shot}-shot"] = {"mean": result.mean, "ci95": result.ci95, "episodes": result.episodes}
    save_checkpoint(out / "checkpoints" / f"protonet-omniglot-vinyals-{n_shot}shot", model, {
        "dataset": "omniglot", "split_scheme": dataset.split_scheme, "train_split": "train",
        "training": {"n_way": 60, "n_shot": n_shot, "n_query": 5, **info},
        "test_accuracy": tests,
    })  # fmt: skip
    return {**info, "tests": tests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=3000, help="training episodes per model")
    parser.add_argument("--omniglot", default=None, help="Omniglot folder (default: the usual places)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results and checkpoints go")
    args = parser.parse_args()
    dataset = vinyals_omniglot(args.omniglot)
    runs = {shot: train_one(dataset, shot, args.episodes, args.out) for shot in (1, 5)}
    pixels = {}
    for n_way, n_shot in [(5, 1), (5, 5), (20, 1), (20, 5)]:
        sampler = EpisodeSampler(dataset, "test", n_way, n_shot, 15, seed=0)  # the same episodes as the models'
        pixels[(n_way, n_shot)] = evaluate_predictor(pixel_nearest_neighbour_predict, sampler, 1000)
    settings = [(5, 1), (5, 5), (20, 1), (20, 5)]
    ours = {s: runs[s[1]]["tests"][f"{s[0]}-way {s[1]}-shot"] for s in settings}
    lines = [
        "| Omniglot (Vinyals test split) | " + " | ".join(f"{n}-way {k}-shot" for n, k in settings) + " |",
        "|---|" + "---:|" * len(settings),
        "| Prototypical Networks, ours | " + " | ".join(
            f"{100 * ours[s]['mean']:.1f} ± {100 * ours[s]['ci95']:.1f}" for s in settings) + " |",
        "| Prototypical Networks, paper | " + " | ".join(f"{PAPER[s]}" for s in settings) + " |",
        "| pixel nearest neighbour, same episodes | " + " | ".join(
            f"{100 * pixels[s].mean:.1f} ± {100 * pixels[s].ci95:.1f}" for s in settings) + " |",
        "",
        "| model | training episodes | best at | CPU minutes | wall minutes | training episodes/s (60-way) |",
        "|---|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for shot, run in runs.items():
        lines.append(
            f"| 60-way {shot}-shot | {run['training_episodes']} | {run['best_step']} | "
            f"{run['cpu_minutes']:.1f} | {run['wall_minutes']:.1f} | {run['episodes_per_second']:.2f} |"
        )
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "protonet_omniglot.md").write_text(text + "\n")
    (args.out / "protonet_omniglot.json").write_text(json.dumps({"runs": runs, "pixels": {
        f"{n}-way {k}-shot": vars(a) for (n, k), a in pixels.items()}}, indent=2) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
