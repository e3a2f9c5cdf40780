"""Reproduce Sung et al.'s (2018) Omniglot table with Relation Networks.

    python -m benchmarks.relationnet_omniglot [--only 5way1shot ...] [--episodes-5way 3000] [--omniglot PATH]

Vinyals split with rotations. One model per setting, as the paper: trained on episodes of
the same n_way and n_shot with the paper's queries per class (19, 15, 10, 5 for 5-way
1-shot, 5-way 5-shot, 20-way 1-shot, 20-way 5-shot), MSE against the one-hot match
matrix, Adam at 1e-3; the weights that validate best (same setting, val classes) are
kept. The paper trains 1,000,000 episodes per model; the defaults here are what a
laptop CPU gives in minutes, and the table states the episodes and CPU minutes each had.
Each model is tested on 1000 seeded episodes of the test classes with 15 queries per
class (the same episodes as ``benchmarks/protonet_omniglot.py``).

Each run adds itself to ``benchmarks/results/relationnet_omniglot.json`` and the table in
``relationnet_omniglot.md`` is rebuilt from every recorded run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from benchmarks.omniglot_runs import record_run, vinyals_omniglot
from core.algorithms import RelationNetworks
from core.checkpoints import save_checkpoint
from core.episodes import EpisodeSampler
from core.evaluation import evaluate
from core.preprocessing import fitted_preprocessing
from core.training import TrainConfig, train

PAPER = {(5, 1): 99.6, (5, 5): 99.8, (20, 1): 97.6, (20, 5): 99.1}
QUERIES = {(5, 1): 19, (5, 5): 15, (20, 1): 10, (20, 5): 5}
RUNS = {f"{n}way{k}shot": (n, k) for n, k in PAPER}
RESULTS = Path(__file__).parent / "results"
TEST_EPISODES = 1000


def train_one(dataset, name: str, episodes: int, out: Path) -> dict:
    n_way, n_shot = RUNS[name]
    torch.manual_seed(n_way * 10 + n_shot)
    model = RelationNetworks(fitted_preprocessing(dataset.split_images("train"), bright_on_dark=True),
                             train_shots=n_shot)  # fmt: skip
    sampler = EpisodeSampler(dataset, "train", n_way, n_shot, QUERIES[(n_way, n_shot)], seed=n_shot)
    validation = EpisodeSampler(dataset, "val", n_way, n_shot, 15, seed=100)
    config = TrainConfig(episodes=episodes, lr_decay_every=10**9, validate_every=max(1, episodes // 6),
                         validation_episodes=100)  # fmt: skip
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    run = train(model, sampler, config, validation)
    for record in run:
        if record.val_accuracy is not None:
            print(f"  {name} episode {record.step}: loss {record.loss:.4f}, val {100 * record.val_accuracy:.2f}%"
                  f"{' (best)' if record.best else ''}, {record.step / record.seconds:.2f} episodes/s",
                  flush=True)  # fmt: skip
    info = {"n_way": n_way, "n_shot": n_shot, "n_query": QUERIES[(n_way, n_shot)], "training_episodes": episodes,
            "best_step": run.best_step, "best_val_accuracy": run.best_accuracy,
            "cpu_minutes": (time.process_time() - cpu_start) / 60,
            "wall_minutes": (time.perf_counter() - wall_start) / 60,
            "episodes_per_second": episodes / run.seconds, "threads": torch.get_num_threads()}  # fmt: skip
    result = evaluate(model, EpisodeSampler(dataset, "test", n_way, n_shot, 15, seed=0), TEST_EPISODES)
    test = {"mean": result.mean, "ci95": result.ci95, "episodes": result.episodes}
    print(f"  {name} test: {100 * result.mean:.2f} ± {100 * result.ci95:.2f}", flush=True)
    save_checkpoint(out / "checkpoints" / f"relationnet-omniglot-vinyals-{name}", model, {
        "dataset": "omniglot", "split_scheme": dataset.split_scheme, "train_split": "train",
        "training": info, "test_accuracy": {f"{n_way}-way {n_shot}-shot": test},
    })  # fmt: skip
    return {**info, "test": test}


def table(runs: dict) -> str:
    cells = []
    for name in RUNS:
        test = runs.get(name, {}).get("test")
        cells.append(f"{100 * test['mean']:.1f} ± {100 * test['ci95']:.1f}" if test else "not run")
    lines = [
        "| Omniglot (Vinyals test split) | " + " | ".join(f"{n}-way {k}-shot" for n, k in PAPER) + " |",
        "|---|" + "---:|" * len(PAPER),
        "| Relation Networks, ours | " + " | ".join(cells) + " |",
        "| Relation Networks, paper | " + " | ".join(str(v) for v in PAPER.values()) + " |",
        "",
        "| model | training episodes (share of the paper's 1,000,000) | best at | CPU minutes | wall minutes "
        "| training episodes/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in RUNS:
        if name in runs:
            run = runs[name]
            lines.append(
                f"| {run['n_way']}-way {run['n_shot']}-shot, {run['n_query']} queries | {run['training_episodes']} "
                f"({100 * run['training_episodes'] / 1e6:.2f}%) | {run['best_step']} | {run['cpu_minutes']:.1f} | "
                f"{run['wall_minutes']:.1f} | {run['episodes_per_second']:.2f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(RUNS), default=list(RUNS), help="which models to train")
    parser.add_argument("--episodes-5way", type=int, default=3000, help="training episodes of the 5-way models")
    parser.add_argument("--episodes-20way", type=int, default=800, help="training episodes of the 20-way models")
    parser.add_argument("--omniglot", default=None, help="Omniglot folder (default: the usual places)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results and checkpoints go")
    args = parser.parse_args()
    dataset = vinyals_omniglot(args.omniglot)
    runs = {}
    for name in args.only:
        episodes = args.episodes_5way if RUNS[name][0] == 5 else args.episodes_20way
        runs = record_run(args.out, "relationnet_omniglot", name, train_one(dataset, name, episodes, args.out), table)
    print(table(runs))


if __name__ == "__main__":
    main()
