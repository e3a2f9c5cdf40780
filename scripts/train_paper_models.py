"""Train the models behind the paper table (Omniglot, Vinyals split with rotations), all at once.

    python -m scripts.train_paper_models --minutes 60 [--device cuda] [--only maml-5way-1shot ...]
                                          [--resume] [--out assets/paper] [--jobs N]

Each model is one ``python -m core train`` run with its paper's settings (below), started
side by side (one process each: on a GPU their small kernels interleave), stopped after
``--minutes`` of meta-training as Ctrl-C would stop it, then tested on 1000 seeded test
episodes per cell it serves. Every run writes ``<out>/<name>.safetensors`` + ``.json``
(with the best validated weights) and ``<name>.resume.safetensors`` (the last weights and
Adam's state): ``--resume`` continues each run where it stopped, so training can span
sessions and machines. Afterwards each JSON gets a ``paper`` record: the cells with their
published numbers, the time and machine of every sitting.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

# published Omniglot accuracies (%, Vinyals split): Finn et al. 2017, Snell et al. 2017, Sung et al. 2018
PUBLISHED = {
    "maml": {(5, 1): 98.7, (5, 5): 99.9, (20, 1): 95.8, (20, 5): 98.9},
    "fomaml": {(5, 1): 98.3, (5, 5): 99.2, (20, 1): 89.4, (20, 5): 97.9},
    "protonet": {(5, 1): 98.8, (5, 5): 99.7, (20, 1): 96.0, (20, 5): 98.9},
    "relationnet": {(5, 1): 99.6, (5, 5): 99.8, (20, 1): 97.6, (20, 5): 99.1},
}
MAML = {5: {"meta_batch": 32, "inner_lr": 0.4, "train_steps": 1, "test_steps": 3},
        20: {"meta_batch": 16, "inner_lr": 0.1, "train_steps": 5, "test_steps": 5}}  # fmt: skip
RELATION_QUERIES = {(5, 1): 19, (5, 5): 15, (20, 1): 10, (20, 5): 5}
TEST_EPISODES = 1000


def runs() -> dict[str, dict]:
    """name -> {"flags": the CLI flags, "cells": [(n_way, n_shot), ...] it is tested on}."""
    table = {}
    for variant in ("maml", "fomaml"):
        for n_way in (5, 20):
            for n_shot in (1, 5):
                settings = MAML[n_way]
                flags = ["--algorithm", "maml", "--n-way", n_way, "--n-shot", n_shot, "--n-query", n_shot,
                         "--meta-batch", settings["meta_batch"], "--inner-lr", settings["inner_lr"],
                         "--train-steps", settings["train_steps"], "--test-steps", settings["test_steps"],
                         "--lr-decay-every", 10**9, "--validate-every", 500, "--val-episodes", 200,
                         "--test-shots", n_shot]  # fmt: skip
                if variant == "fomaml":
                    flags.append("--first-order")
                table[f"{variant}-{n_way}way-{n_shot}shot"] = {"flags": flags, "cells": [(n_way, n_shot)]}
    for n_shot in (1, 5):  # Snell et al.: 60-way training episodes, 5 queries, Adam halved every 2000
        flags = ["--algorithm", "protonet", "--n-way", 60, "--n-shot", n_shot, "--n-query", 5,
                 "--lr-decay-every", 2000, "--validate-every", 1000, "--val-episodes", 200,
                 "--test-ways", 5, 20, "--test-shots", n_shot]  # fmt: skip
        table[f"protonet-60way-{n_shot}shot"] = {"flags": flags, "cells": [(5, n_shot), (20, n_shot)]}
    for (n_way, n_shot), queries in RELATION_QUERIES.items():
        # Sung et al.'s code: MSE, Adam 1e-3 halved every 100k, each module's gradient norm clipped at 0.5
        flags = ["--algorithm", "relationnet", "--n-way", n_way, "--n-shot", n_shot, "--n-query", queries,
                 "--lr-decay-every", 100_000, "--validate-every", 2000, "--val-episodes", 200,
                 "--clip-grad-norm", 0.5, "--test-ways", n_way, "--test-shots", n_shot]  # fmt: skip
        table[f"relationnet-{n_way}way-{n_shot}shot"] = {"flags": flags, "cells": [(n_way, n_shot)]}
    return table


def command(name: str, run: dict, args: argparse.Namespace) -> list[str]:
    out = args.out / name
    flags = [str(flag) for flag in run["flags"]]
    line = [sys.executable, "-m", "core", "train", "--dataset", "omniglot", "--split-scheme", "vinyals",
            *flags, "--episodes", str(args.episodes), "--max-minutes", str(args.minutes),
            "--test-episodes", str(args.test_episodes), "--seed", "0", "--device", args.device,
            "--out", str(out)]  # fmt: skip
    if args.amp:
        line.append("--amp")
    if args.train_on_val:
        line.append("--train-on-val")
    if args.antoniou and name.startswith(("maml-", "fomaml-")):
        early = str(max(1, args.episodes // 10))
        line += ["--per-step-rates", "--per-step-batch-norm", "--multi-step-loss-until", early]
        line += ["--lr-schedule", "cosine"]
        if name.startswith("maml-"):
            line += ["--first-order-until", early]
    if args.anneal_from:
        line += ["--lr-schedule", "cosine", "--anneal-from", str(args.anneal_from)]
    if args.data_root:
        line += ["--data-root", args.data_root]
    if args.resume and out.with_suffix(".json").is_file():
        line += ["--resume", str(out)]
    return line


def machine(device: str) -> str:
    if device == "cuda":
        import torch

        return f"{torch.cuda.get_device_name()} (CUDA), {os.cpu_count()} CPU cores"
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores"


def sitting_minutes(sitting: dict) -> float:
    """A sitting's meta-training minutes: those it recorded, else (sittings before 2026-11-30, which ran to
    their limit) the minutes it asked for."""
    return sitting.get("training_minutes", sitting["minutes_asked"])


def earlier_sittings(path: Path) -> list[dict]:
    """The sittings a run's JSON recorded before this one (the CLI rewrites the JSON on --resume)."""
    return json.loads(path.read_text()).get("paper", {}).get("sittings", []) if path.is_file() else []


def improvements(record: dict) -> list[str]:
    """The published training improvements a run used, from its recorded flags."""
    used = []
    clip = record.get("training", {}).get("config", {}).get("clip_grad_norm")
    if clip is not None:
        used.append(f"gradient norm clipped at {clip:g} per part, as Sung et al.'s code (from the sittings whose "
                    "flags say --clip-grad-norm)")  # fmt: skip
    config = record.get("training", {}).get("config", {})
    if config.get("lr_schedule") == "cosine":
        start = config.get("anneal_from", 0)
        used.append(f"outer learning rate annealed along half a cosine from step {start} to {config['episodes']}, "
                    f"down to {config['min_learning_rate']:g} (Antoniou et al. 2019; from the sittings whose flags say "
                    "--lr-schedule cosine)")  # fmt: skip
    settings = record.get("settings", {})
    if settings.get("per_step_rates"):
        used.append("an inner learning rate per layer and inner step, learned (Antoniou et al. 2019, LSLR)")
    if settings.get("per_step_batch_norm"):
        used.append("a BatchNorm scale and shift per inner step (Antoniou et al. 2019, BNWB)")
    if config.get("multi_step_loss_until"):
        used.append(f"the multi-step loss for the first {config['multi_step_loss_until']} steps (Antoniou et al. 2019)")
    if config.get("first_order_until"):
        used.append(f"first order for the first {config['first_order_until']} steps (Antoniou et al. 2019)")
    if record.get("training", {}).get("trained_on", "").endswith("+val"):
        used.append("trained on train+val classes, the last weights kept (Snell et al. 2017)")
    return used


def annotate(path: Path, name: str, run: dict, sitting: dict, previous: list[dict]) -> dict:
    """Add the ``paper`` record to a finished run's JSON; return it. The sitting gets its meta-training
    minutes, the optimiser steps' own time (a sitting stopped early trained for less than it asked)."""
    record = json.loads(path.read_text())
    sitting = {**sitting, "training_minutes": round(record.get("training", {}).get("seconds", 0.0) / 60, 1)}
    algorithm = name.split("-")[0]
    tests = record.get("test_accuracy", {})
    cells = []
    for n_way, n_shot in run["cells"]:
        measured = tests.get(f"{n_way}-way {n_shot}-shot")
        cells.append({"n_way": n_way, "n_shot": n_shot, "published": PUBLISHED[algorithm][(n_way, n_shot)],
                      "test": measured})  # fmt: skip
    record["paper"] = {
        "row": {
            "maml": "MAML",
            "fomaml": "first-order MAML",
            "protonet": "Prototypical Networks",
            "relationnet": "Relation Networks",
        }[algorithm],
        "split": "Vinyals et al. (2016) train/val/test characters, each rotated by 0/90/180/270 degrees as classes",
        "cells": cells,
        "sittings": [*previous, sitting],
        "improvements": improvements(record),
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, required=True, help="meta-training minutes per run (this sitting)")
    parser.add_argument("--episodes", type=int, default=1_000_000, help="steps at which a run is complete")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--only", nargs="+", default=None, help="run only these names")
    parser.add_argument("--resume", action="store_true", help="continue each run from its files in --out")
    parser.add_argument("--out", type=Path, default=Path("assets/paper"))
    parser.add_argument("--data-root", default=None, help="Omniglot folder (default: found as the CLI finds it)")
    parser.add_argument("--test-episodes", type=int, default=TEST_EPISODES, help="test episodes per cell")
    parser.add_argument(
        "--amp",
        action="store_true",
        help="bf16 autocast in training (CUDA, or a CPU with AVX-512 BF16 or AMX; see benchmarks/amp_accuracy.py)",
    )
    parser.add_argument(
        "--train-on-val",
        action="store_true",
        help="train on the training and validation classes, as Snell et al.'s final models",
    )
    parser.add_argument("--logs", type=Path, default=None, help="folder for each run's log (default: --out)")
    parser.add_argument(
        "--antoniou", action="store_true",
        help="MAML runs with Antoniou et al.'s (2019) improvements: learned per-step inner rates (LSLR) and BatchNorm "
             "(BNWB), the multi-step loss and (second-order runs) first order for the first tenth of --episodes, the "
             "outer rate annealed along a cosine to --episodes. They change the model: a fresh run, in its own --out",
    )  # fmt: skip
    parser.add_argument(
        "--anneal-from", type=int, default=0, metavar="STEP",
        help="anneal the outer learning rate along half a cosine from STEP (where a flat run stopped) to --episodes, "
             "as Antoniou et al. 2019; a later sitting of the same anneal passes the same two numbers",
    )  # fmt: skip
    args = parser.parse_args()
    table = runs()
    names = args.only or list(table)
    unknown = sorted(set(names) - set(table))
    if unknown:
        parser.error(f"unknown runs {unknown}; choose from {sorted(table)}")
    args.out.mkdir(parents=True, exist_ok=True)
    logs = args.logs or args.out
    logs.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "PYTHONUNBUFFERED": "1"}
    started = time.time()
    processes = {}
    previous = {name: earlier_sittings(args.out / f"{name}.json") if args.resume else [] for name in names}
    lines = {name: command(name, table[name], args) for name in names}  # before any run writes a JSON to resume
    for name in names:
        log = (logs / f"{name}.log").open("a")
        processes[name] = (subprocess.Popen(lines[name], stdout=log, stderr=log, env=environment), log)
    failed = []
    for name, (process, log) in processes.items():
        code = process.wait()
        log.close()
        sitting = {"started": time.strftime("%Y-%m-%d %H:%M", time.gmtime(started)), "device": args.device,
                   "machine": machine(args.device), "minutes_asked": args.minutes,
                   "wall_minutes": round((time.time() - started) / 60, 1), "exit_code": code,
                   "processes_side_by_side": len(processes), "amp": args.amp,
                   "flags": " ".join(lines[name][3:])}  # fmt: skip
        path = args.out / f"{name}.json"
        if code not in (0, 130) or not path.is_file():
            failed.append(name)
            print(f"{name}: exit {code}; see {logs / (name + '.log')}", flush=True)
            continue
        record = annotate(path, name, table[name], sitting, previous[name])
        cells = ", ".join(
            f"{c['n_way']}w{c['n_shot']}s {100 * c['test']['mean']:.1f}±{100 * c['test']['ci95']:.1f} "
            f"(paper {c['published']})"
            for c in record["paper"]["cells"]
            if c["test"]
        )
        print(f"{name}: {record['training']['episodes']} steps, best val at {record['training']['best_step']}: "
              f"{cells}", flush=True)  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
