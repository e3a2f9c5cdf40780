"""MAML meta-training speed through the real training step: per-task loop, ``vmap``, task-batched.

    python -m benchmarks.maml_speed [--rounds 5] [--device cpu|cuda]

The two settings of the paper's Omniglot runs: 5-way 1-shot (meta-batch 32, one inner
step) and 20-way 1-shot (meta-batch 16, five inner steps), second and first order, with one
query per class as in the paper's reference code. Every method takes the same optimiser
steps of ``core.training.TrainingRun`` on the same episodes:

- loop: one task at a time (``TrainConfig(task_batched=False)``), the reference;
- vmap: ``core.algorithms.maml_vectorised`` (``torch.func.vmap`` over the tasks) plugged
  into the same step;
- task-batched: the whole meta-batch as one grouped-convolution pass (the default);
- task-batched unfused: the same with PyTorch's kernels instead of our BatchNorm + pool + ReLU kernel
  (``core/algorithms/fused_block.py``, CPU only), to show what that kernel gives;
- task-batched bf16: the same under bf16 autocast (``--amp``), where the device has bf16
  (CUDA, or a CPU with AVX-512 BF16 or AMX). Whether it keeps the accuracy is
  ``benchmarks/amp_accuracy.py``'s question.

Speed: within one process, rounds of one step of each method in turn (so that a noisy
machine slows all three alike); the median over ``--rounds`` after a warm-up round.
Memory: each method again in a fresh process, its peak resident memory above what the
process held before the first step (CPU) or the CUDA allocator's peak.
Writes ``benchmarks/results/maml_speed[_cuda].{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from benchmarks.maml_omniglot import SETTINGS
from core.algorithms import MAML, fused_block
from core.algorithms.maml_vectorised import meta_batch_loss as vmap_meta_batch_loss
from core.datasets import DatasetSpec, find_omniglot_root, load_dataset
from core.episodes import EpisodeSampler
from core.preprocessing import Preprocessing
from core.training import TrainConfig, train
from core.training.config import cpu_has_bf16

RESULTS = Path(__file__).parent / "results"
CASES = [(5, 32), (20, 16)]  # n_way, meta-batch
METHODS = ("loop", "vmap", "task-batched", "task-batched bf16", "task-batched unfused")
UNFUSED = METHODS[-1]  # task-batched without our BatchNorm + pool kernel (core/algorithms/fused_block.py): its gain
N_QUERY = 1  # queries per class in training, as in the paper's reference code for Omniglot


def _memory_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def methods(device: str) -> tuple[str, ...]:
    """The methods this device can run: bf16 only where it has bf16 arithmetic, the fused kernel on a CPU."""
    bf16 = device == "cuda" or cpu_has_bf16()
    fused = device == "cpu" and fused_block.ready(wait=True)
    return tuple(m for m in METHODS if (bf16 or not m.endswith("bf16")) and (fused or m != UNFUSED))


def training_run(method: str, n_way: int, meta_batch: int, first_order: bool, device: str):
    """A TrainingRun of the paper's settings whose steps use ``method``."""
    root = find_omniglot_root()
    dataset = load_dataset(DatasetSpec("omniglot", str(root), "vinyals") if root else DatasetSpec("glyphs"))
    settings = SETTINGS[n_way]
    torch.manual_seed(0)
    model = MAML(Preprocessing(mean=(0.08,), std=(0.27,)), n_way=n_way, inner_lr=settings["inner_lr"],
                 train_steps=settings["train_steps"], first_order=first_order).to(device)  # fmt: skip
    if method == "vmap":

        def vmap_loss(*inputs):
            return vmap_meta_batch_loss(model.initial_params(), model.learning_rates(), *inputs, model.train_steps,
                                        model.first_order)  # fmt: skip

        model.meta_batch_loss = vmap_loss
    sampler = EpisodeSampler(dataset, dataset.split_names[0], n_way, 1, N_QUERY, seed=0)
    config = TrainConfig(episodes=10**9, meta_batch=meta_batch, validate_every=0, amp=method.endswith("bf16"),
                         task_batched=method != "loop")  # fmt: skip
    return train(model, sampler, config), dataset.name


def _timed_step(run, device: str, method: str = "") -> float:
    if method == UNFUSED:
        os.environ[fused_block.DISABLE] = "1"
    try:
        start = time.perf_counter()
        next(run)
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start
    finally:
        os.environ.pop(fused_block.DISABLE, None)


def speed(n_way: int, meta_batch: int, first_order: bool, rounds: int, device: str) -> dict:
    runs = {m: training_run(m, n_way, meta_batch, first_order, device)[0] for m in methods(device)}
    times: dict[str, list[float]] = {m: [] for m in runs}
    for round_index in range(rounds + 1):
        for method, run in runs.items():
            seconds = _timed_step(run, device, method)
            if round_index:  # the first round warms up
                times[method].append(seconds)
    return {m: meta_batch / statistics.median(t) for m, t in times.items()}


def peak_memory(method: str, n_way: int, meta_batch: int, first_order: bool, device: str) -> dict:
    methods(device)  # builds the fused kernel first (or loads it), as the timed rounds did
    run, data = training_run(method, n_way, meta_batch, first_order, device)
    base = _memory_kib("VmRSS:")
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for _ in range(2):
        _timed_step(run, device, method)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else (_memory_kib("VmHWM:") - base) / 1024
    return {"peak_mib": peak, "data": data}


def table(rows: list[dict]) -> str:
    optional = [m for m in ("task-batched bf16", UNFUSED) if all(m in row["tasks_per_second"] for row in rows)]
    extra = "".join(f" | {m} tasks/s | {m} / loop" for m in optional)
    lines = [
        "| setting | order | loop tasks/s | vmap tasks/s | task-batched tasks/s | vmap / loop | task-batched / loop"
        f"{extra} | peak MiB {' / '.join(rows[0]['peak_mib'])} |",
        "|---|---|---:|---:|---:|---:|---:|" + "---:|---:|" * len(optional) + "---:|",
    ]
    for row in rows:
        rate, peak = row["tasks_per_second"], row["peak_mib"]
        more = "".join(f" {rate[m]:.1f} | {rate[m] / rate['loop']:.2f}x |" for m in optional)
        lines.append(
            f"| {row['n_way']}-way 1-shot, meta-batch {row['meta_batch']}, {row['inner_steps']} inner step(s) | "
            f"{'first' if row['first_order'] else 'second'} | {rate['loop']:.1f} | {rate['vmap']:.1f} | "
            f"{rate['task-batched']:.1f} | {rate['vmap'] / rate['loop']:.2f}x | "
            f"**{rate['task-batched'] / rate['loop']:.2f}x** |{more} "
            f"{' / '.join(f'{value:.0f}' for value in peak.values())} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (one step of each method) per setting")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where to run")
    parser.add_argument("--ways", type=int, nargs="+", default=[n for n, _ in CASES], help="settings to run")
    parser.add_argument("--memory-of", default=None, help=argparse.SUPPRESS)  # method,n_way,meta_batch,first_order
    args = parser.parse_args()
    if args.memory_of:
        method, n_way, meta_batch, first_order = args.memory_of.split(",")
        result = peak_memory(method, int(n_way), int(meta_batch), bool(int(first_order)), args.device)
        print(json.dumps(result))
        return
    rows = []
    for n_way, meta_batch in (case for case in CASES if case[0] in args.ways):
        for first_order in (False, True):
            rates = speed(n_way, meta_batch, first_order, args.rounds, args.device)
            print(json.dumps({"n_way": n_way, "first_order": first_order, "tasks_per_second": rates}), flush=True)
            peaks, data = {}, ""
            for method in rates:
                command = [sys.executable, "-m", "benchmarks.maml_speed", "--device", args.device,
                           "--memory-of", f"{method},{n_way},{meta_batch},{int(first_order)}"]  # fmt: skip
                output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                measured = json.loads(output.strip().splitlines()[-1])
                peaks[method], data = measured["peak_mib"], measured["data"]
            rows.append({"n_way": n_way, "meta_batch": meta_batch, "inner_steps": SETTINGS[n_way]["train_steps"],
                         "first_order": first_order, "tasks_per_second": rates, "peak_mib": peaks, "data": data,
                         "device": args.device, "threads": torch.get_num_threads()})  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
            write(rows, args)  # after every row: a run cut short keeps what it measured
    print(table(rows))


def write(rows: list[dict], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.device == "cpu" else f"_{args.device}"
    machine = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or platform.machine()
    header = (f"{rows[0]['data']}, torch {torch.__version__}, {rows[0]['threads']} threads, {args.device} "
              f"({machine}), {time.strftime('%Y-%m-%d')}, "
              f"median of {args.rounds} interleaved rounds\n\n")  # fmt: skip
    (RESULTS / f"maml_speed{suffix}.md").write_text(header + table(rows) + "\n")
    (RESULTS / f"maml_speed{suffix}.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
