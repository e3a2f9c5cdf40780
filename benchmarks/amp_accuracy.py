"""Does bf16 autocast (``--amp``) keep the accuracy of float32 training? Both, side by side.

    python -m benchmarks.amp_accuracy [--only maml-5way-1shot ...] [--scale 1.0] [--device cpu|cuda]

Each setting is trained twice from the same seed on the same Omniglot episodes (Vinyals
split with rotations), once in float32 and once under bf16 autocast, through the real
training step (``core.training.TrainingRun``), then both are tested in float32 on the same
seeded test episodes (15 queries per class). Reported: training steps/s of each, the
test accuracy of each with its 95% CI, and the cosine between the two precisions'
gradients on 5 fixed training episodes at the start, the speed-up's price in direction.
On a CPU, autocast needs bf16 instructions (AVX-512 BF16 or AMX); elsewhere it is refused.

The budgets are short (minutes, not the papers' hours): this checks that bf16 does not
cost accuracy early in training, where a difference would already show, not the final numbers.
Writes ``benchmarks/results/amp_accuracy[_cuda].{md,json}``, one setting at a time.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import torch

from benchmarks.omniglot_runs import record_run, vinyals_omniglot
from core.algorithms import ALGORITHMS
from core.episodes import EpisodeSampler, stack_episodes
from core.evaluation import evaluate
from core.preprocessing import fitted_preprocessing
from core.training import TrainConfig, train

RESULTS = Path(__file__).parent / "results"
TEST_EPISODES = 500
# name: algorithm, its settings, n_way, n_shot, n_query, meta-batch, training steps at --scale 1
SETTINGS = {
    "maml-5way-1shot": ("maml", {"n_way": 5, "inner_lr": 0.4, "train_steps": 1, "test_steps": 3}, 5, 1, 1, 32, 200),
    "fomaml-20way-1shot": (
        "maml",
        {"n_way": 20, "inner_lr": 0.1, "train_steps": 5, "test_steps": 5, "first_order": True},
        *(20, 1, 1, 16, 150),
    ),
    "protonet-20way-5shot": ("protonet", {}, 20, 5, 5, 1, 600),
    "relationnet-5way-1shot": ("relationnet", {"train_shots": 1}, 5, 1, 19, 1, 600),
}


def gradient_cosine(model, sampler: EpisodeSampler, meta_batch: int) -> float:
    """Cosine between the float32 and the bf16 gradient of the same 5 episodes (or meta-batches)."""
    cosines = []
    for start in range(5):
        episodes = [sampler.episode(10**6 + start * meta_batch + i) for i in range(meta_batch)]
        grads = []
        for amp in (False, True):
            model.zero_grad()
            with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=amp):
                if meta_batch > 1:
                    loss, _ = model.meta_batch_loss(*model.inputs(stack_episodes(episodes)))
                else:
                    loss, _ = model.episode_loss(episodes[0])
            loss.backward()
            grads.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
        cosines.append(torch.nn.functional.cosine_similarity(*grads, dim=0).item())
    model.zero_grad()
    return sum(cosines) / len(cosines)


def one_setting(name: str, dataset, device: str, scale: float) -> dict:
    algorithm, settings, n_way, n_shot, n_query, meta_batch, steps = SETTINGS[name]
    steps = max(2, round(steps * scale))
    preprocessing = fitted_preprocessing(dataset.split_images("train"), bright_on_dark=True)
    result = {"steps": steps, "meta_batch": meta_batch, "n_way": n_way, "n_shot": n_shot}
    test = EpisodeSampler(dataset, "test", n_way, n_shot, 15, seed=0)
    for precision in ("float32", "bf16"):
        torch.manual_seed(0)
        model = ALGORITHMS[algorithm](preprocessing, **settings).to(device)
        sampler = EpisodeSampler(dataset, "train", n_way, n_shot, n_query, seed=0)
        if precision == "float32":
            result["gradient_cosine"] = gradient_cosine(copy.deepcopy(model).train(), sampler, meta_batch)
        config = TrainConfig(episodes=steps, meta_batch=meta_batch, validate_every=0, amp=precision == "bf16",
                             snapshots=0)  # fmt: skip
        run = train(model, sampler, config)
        start = time.perf_counter()
        for _ in run:
            pass
        seconds = time.perf_counter() - start
        run.finish()
        accuracy = evaluate(model, test, TEST_EPISODES)
        result[precision] = {"steps_per_second": steps / seconds, "test": accuracy.mean, "ci95": accuracy.ci95}
        print(name, precision, result[precision], flush=True)
    return result


def table(runs: dict) -> str:
    lines = [
        "| setting | steps × meta-batch | float32 steps/s | bf16 steps/s | speed-up | float32 test % | bf16 test % "
        "| difference (points) | gradient cosine |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in runs.items():
        f32, b16 = row["float32"], row["bf16"]
        lines.append(
            f"| {name} | {row['steps']} × {row['meta_batch']} | {f32['steps_per_second']:.2f} | "
            f"{b16['steps_per_second']:.2f} | {b16['steps_per_second'] / f32['steps_per_second']:.2f}x | "
            f"{100 * f32['test']:.1f} ± {100 * f32['ci95']:.1f} | {100 * b16['test']:.1f} ± {100 * b16['ci95']:.1f} | "
            f"{100 * (b16['test'] - f32['test']):+.1f} | {row['gradient_cosine']:.4f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=sorted(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every setting's training steps")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--omniglot", default=None, help="Omniglot folder (default: found as the CLI finds it)")
    args = parser.parse_args()
    dataset = vinyals_omniglot(args.omniglot)
    suffix = "_cuda" if args.device == "cuda" else ""
    header = (f"{dataset.name}, torch {torch.__version__}, {torch.get_num_threads()} threads, {args.device}, "
              f"{time.strftime('%Y-%m-%d')}, {TEST_EPISODES} test episodes per model")  # fmt: skip
    for name in args.only:
        runs = record_run(RESULTS, f"amp_accuracy{suffix}", name, one_setting(name, dataset, args.device, args.scale),
                          lambda runs: header + "\n\n" + table(runs))  # fmt: skip
    print(header + "\n\n" + table(runs))


if __name__ == "__main__":
    main()
