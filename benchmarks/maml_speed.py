"""MAML meta-training throughput and peak memory: a per-task loop against ``vmap`` over tasks.

    python -m benchmarks.maml_speed [--steps 4] [--device cpu]

The two settings the issue names, with the paper's meta-batches: Omniglot 5-way 1-shot
(32 tasks, one inner step) and 20-way 1-shot (16 tasks, five inner steps), second and
first order; queries per class as in ``benchmarks/maml_omniglot.py``. Each setting runs
in its own process so its peak memory is its own: peak resident memory above what the
process held before the first step (CPU), or the CUDA allocator's peak. Throughput is
the median over ``--steps`` outer steps after one warm-up step.
Writes ``benchmarks/results/maml_speed.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from benchmarks.maml_omniglot import SETTINGS
from core.algorithms import MAML
from core.algorithms.maml_vectorised import meta_batch_loss
from core.datasets import DatasetSpec, find_omniglot_root, load_dataset
from core.episodes import EpisodeSampler
from core.preprocessing import Preprocessing

RESULTS = Path(__file__).parent / "results"
CASES = [(5, 32), (20, 16)]  # n_way, meta-batch


def _memory_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def measure(n_way: int, meta_batch: int, first_order: bool, vectorised: bool, steps: int, device: str) -> dict:
    root = find_omniglot_root()
    dataset = load_dataset(DatasetSpec("omniglot", str(root), "vinyals") if root else DatasetSpec("glyphs"))
    settings = SETTINGS[n_way]
    torch.manual_seed(0)
    model = MAML(Preprocessing(mean=(0.08,), std=(0.27,)), n_way=n_way, inner_lr=settings["inner_lr"],
                 train_steps=settings["train_steps"], first_order=first_order).to(device)  # fmt: skip
    sampler = EpisodeSampler(dataset, dataset.split_names[0], n_way, 1, settings["n_query"], seed=0)
    optimizer = torch.optim.Adam(model.parameters())
    model.train()

    def step(index: int) -> None:
        episodes = [sampler.episode(index * meta_batch + t) for t in range(meta_batch)]
        optimizer.zero_grad()
        if vectorised:
            inputs = [model.inputs(e) for e in episodes]
            stacked = [torch.stack([tensors[i] for tensors in inputs]) for i in range(4)]
            loss, _ = meta_batch_loss(model.initial_params(), model.learning_rates(), *stacked,
                                      model.train_steps, first_order)  # fmt: skip
            loss.backward()
        else:
            for episode in episodes:
                loss, _ = model.episode_loss(episode)
                (loss / meta_batch).backward()
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    base = _memory_kib("VmRSS:")
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for index in range(steps + 1):
        start = time.perf_counter()
        step(index)
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times[1:])
    peak_mib = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else (_memory_kib("VmHWM:") - base) / 1024
    return {"n_way": n_way, "meta_batch": meta_batch, "inner_steps": settings["train_steps"],
            "first_order": first_order, "vectorised": vectorised, "seconds_per_step": seconds,
            "tasks_per_second": meta_batch / seconds, "peak_mib": peak_mib, "device": device,
            "data": dataset.name, "threads": torch.get_num_threads()}  # fmt: skip


def table(rows: list[dict]) -> str:
    lines = [
        "| setting | order | loop tasks/s | vmap tasks/s | vmap / loop | loop peak MiB | vmap peak MiB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for n_way, meta_batch in CASES:
        for first_order in (False, True):
            pick = {r["vectorised"]: r for r in rows
                    if (r["n_way"], r["meta_batch"], r["first_order"]) == (n_way, meta_batch, first_order)}  # fmt: skip
            if len(pick) < 2:
                continue
            loop, vmap = pick[False], pick[True]
            lines.append(
                f"| {n_way}-way 1-shot, meta-batch {meta_batch}, {loop['inner_steps']} inner step(s) | "
                f"{'first' if first_order else 'second'} | {loop['tasks_per_second']:.1f} | "
                f"{vmap['tasks_per_second']:.1f} | {vmap['tasks_per_second'] / loop['tasks_per_second']:.2f}x | "
                f"{loop['peak_mib']:.0f} | {vmap['peak_mib']:.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4, help="timed outer steps per setting")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where to run")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # n_way,meta_batch,first_order,vectorised
    args = parser.parse_args()
    if args.one:
        n_way, meta_batch, first_order, vectorised = (int(v) for v in args.one.split(","))
        print(json.dumps(measure(n_way, meta_batch, bool(first_order), bool(vectorised), args.steps, args.device)))
        return
    rows = []
    for n_way, meta_batch in CASES:
        for first_order in (0, 1):
            for vectorised in (0, 1):
                one = f"{n_way},{meta_batch},{first_order},{vectorised}"
                command = [sys.executable, "-m", "benchmarks.maml_speed", "--one", one, "--steps", str(args.steps),
                           "--device", args.device]  # fmt: skip
                output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                rows.append(json.loads(output.strip().splitlines()[-1]))
                print(json.dumps(rows[-1]), flush=True)
    text = table(rows)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.device == "cpu" else f"_{args.device}"
    (RESULTS / f"maml_speed{suffix}.md").write_text(
        f"{rows[0]['data']}, torch {torch.__version__}, {rows[0]['threads']} threads, device {args.device}\n\n"
        + text + "\n"
    )  # fmt: skip
    (RESULTS / f"maml_speed{suffix}.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
