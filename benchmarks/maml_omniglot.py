"""Reproduce Finn et al.'s (2017) Omniglot table with MAML and first-order MAML.

    python -m benchmarks.maml_omniglot [--only maml-5way ...] [--iterations-5way 400] [--omniglot PATH]

Vinyals split with rotations, as the paper. One model per n_way, meta-trained on
1-shot tasks and tested at 1 and 5 shots (the paper trains one model per shot):
5-way with one inner step at alpha 0.4 (three at test), 20-way with five at alpha 0.1
(five at test); Adam at beta = 1e-3; the weights that validate best on the val
classes are kept. The paper meta-trains 60,000 iterations of 32 (5-way) or 16
(20-way) tasks; a laptop CPU cannot, so the defaults below are a small fraction of
that and the table states the iterations, tasks and CPU minutes each model had.
Every model is tested on 600 seeded episodes of the test classes (15 queries per
class), the same episodes for MAML and first-order MAML.

Each run adds itself to ``benchmarks/results/maml_omniglot.json`` (so runs can be made
one at a time) and the table in ``maml_omniglot.md`` is rebuilt from all recorded runs.
Checkpoints go to ``benchmarks/results/checkpoints/`` (not committed).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from benchmarks.omniglot_runs import record_run, vinyals_omniglot
from core.algorithms import MAML
from core.checkpoints import save_checkpoint
from core.episodes import EpisodeSampler
from core.evaluation import evaluate
from core.preprocessing import fitted_preprocessing
from core.training import TrainConfig, train

PAPER = {  # Finn et al. (2017), Table 1; first-order MAML only reported for 5-way
    "maml": {(5, 1): 98.7, (5, 5): 99.9, (20, 1): 95.8, (20, 5): 98.9},
    "fomaml": {(5, 1): 98.3, (5, 5): 99.2, (20, 1): 89.4, (20, 5): 97.9},
}
PAPER_TASKS = {5: 60000 * 32, 20: 60000 * 16}
SETTINGS = {  # n_way -> MAML settings and training queries per class
    5: {"inner_lr": 0.4, "train_steps": 1, "test_steps": 3, "n_query": 5},
    20: {"inner_lr": 0.1, "train_steps": 5, "test_steps": 5, "n_query": 1},
}
RUNS = [f"{variant}-{n_way}way" for n_way in (5, 20) for variant in ("maml", "fomaml")]
RESULTS = Path(__file__).parent / "results"
TEST_EPISODES = 600


def train_one(dataset, name: str, iterations: int, meta_batch: int, out: Path) -> dict:
    variant, n_way = name.split("-")[0], int(name.split("-")[1].removesuffix("way"))
    settings = SETTINGS[n_way]
    torch.manual_seed(n_way)
    model = MAML(
        fitted_preprocessing(dataset.split_images("train"), bright_on_dark=True), n_way=n_way,
        inner_lr=settings["inner_lr"], train_steps=settings["train_steps"], test_steps=settings["test_steps"],
        first_order=variant == "fomaml",
    )  # fmt: skip
    sampler = EpisodeSampler(dataset, "train", n_way, 1, settings["n_query"], seed=n_way)
    validation = EpisodeSampler(dataset, "val", n_way, 1, 15, seed=100)
    config = TrainConfig(episodes=iterations, meta_batch=meta_batch, lr_decay_every=10**9,
                         validate_every=max(1, iterations // 6), validation_episodes=100)  # fmt: skip
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    run = train(model, sampler, config, validation)
    for record in run:
        if record.val_accuracy is not None:
            print(
                f"  {name} iteration {record.step}: loss {record.loss:.3f}, val {100 * record.val_accuracy:.2f}%"
                f"{' (best)' if record.best else ''}, {record.step * meta_batch / record.seconds:.1f} tasks/s",
                flush=True,
            )
    info = {
        "n_way": n_way, **settings, "first_order": variant == "fomaml", "iterations": iterations,
        "meta_batch": meta_batch, "tasks": iterations * meta_batch, "best_step": run.best_step,
        "best_val_accuracy": run.best_accuracy, "cpu_minutes": (time.process_time() - cpu_start) / 60,
        "wall_minutes": (time.perf_counter() - wall_start) / 60,
        "tasks_per_second": iterations * meta_batch / run.seconds, "threads": torch.get_num_threads(),
    }  # fmt: skip
    tests = {}
    for n_shot in (1, 5):
        result = evaluate(model, EpisodeSampler(dataset, "test", n_way, n_shot, 15, seed=0), TEST_EPISODES)
        tests[f"{n_way}-way {n_shot}-shot"] = {"mean": result.mean, "ci95": result.ci95, "episodes": result.episodes}
        print(f"  {name} test {n_way}-way {n_shot}-shot: {100 * result.mean:.2f} ± {100 * result.ci95:.2f}", flush=True)
    save_checkpoint(out / "checkpoints" / f"{name}-omniglot-vinyals", model, {
        "dataset": "omniglot", "split_scheme": dataset.split_scheme, "train_split": "train",
        "training": {"n_shot": 1, **info}, "test_accuracy": tests,
    })  # fmt: skip
    return {**info, "tests": tests}


def table(runs: dict) -> str:
    settings = [(5, 1), (5, 5), (20, 1), (20, 5)]

    def cell(variant: str, n_way: int, n_shot: int) -> str:
        test = runs.get(f"{variant}-{n_way}way", {}).get("tests", {}).get(f"{n_way}-way {n_shot}-shot")
        return f"{100 * test['mean']:.1f} ± {100 * test['ci95']:.1f}" if test else "not run"

    lines = [
        "| Omniglot (Vinyals test split) | " + " | ".join(f"{n}-way {k}-shot" for n, k in settings) + " |",
        "|---|" + "---:|" * len(settings),
    ]
    for variant, label in (("maml", "MAML"), ("fomaml", "first-order MAML")):
        lines.append(f"| {label}, ours | " + " | ".join(cell(variant, *s) for s in settings) + " |")
        lines.append(f"| {label}, paper | " + " | ".join(str(PAPER[variant][s]) for s in settings) + " |")
    lines += [
        "",
        "| model | iterations × meta-batch | tasks (share of the paper's) | best at | CPU minutes | wall minutes "
        "| tasks/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in RUNS:
        if name in runs:
            run = runs[name]
            share = 100 * run["tasks"] / PAPER_TASKS[run["n_way"]]
            lines.append(
                f"| {name} | {run['iterations']} × {run['meta_batch']} | {run['tasks']} ({share:.1f}%) | "
                f"{run['best_step']} | {run['cpu_minutes']:.1f} | {run['wall_minutes']:.1f} | "
                f"{run['tasks_per_second']:.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=RUNS, default=RUNS, help="which models to train")
    parser.add_argument("--iterations-5way", type=int, default=400, help="outer steps of the 5-way models")
    parser.add_argument("--iterations-20way", type=int, default=200, help="outer steps of the 20-way models")
    parser.add_argument("--meta-batch-5way", type=int, default=16, help="tasks per outer step, 5-way (paper: 32)")
    parser.add_argument("--meta-batch-20way", type=int, default=4, help="tasks per outer step, 20-way (paper: 16)")
    parser.add_argument("--omniglot", default=None, help="Omniglot folder (default: the usual places)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results and checkpoints go")
    args = parser.parse_args()
    dataset = vinyals_omniglot(args.omniglot)
    runs = {}
    for name in args.only:
        five = name.endswith("-5way")
        iterations = args.iterations_5way if five else args.iterations_20way
        meta_batch = args.meta_batch_5way if five else args.meta_batch_20way
        runs = record_run(args.out, "maml_omniglot", name, train_one(dataset, name, iterations, meta_batch, args.out),
                          table)  # fmt: skip
    print(table(runs))


if __name__ == "__main__":
    main()
