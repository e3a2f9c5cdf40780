"""Our BatchNorm + max-pool + ReLU kernel against PyTorch's three, on block 1 of the 20-way MAML step.

    python -m benchmarks.fused_block_speed [--rounds 7] [--threads 1]

The tensor is what the task-batched step hands block 1 at 20-way 1-shot with meta-batch 16
(20 images, 16 tasks x 64 channels, 28 x 28, channels-last, float32). Forward alone (under
no_grad), forward + backward (the gradients of x, scale and shift), and MAML's second order:
forward, a backward that keeps its graph, and that backward's own gradient. In the last row
PyTorch's side is what the step uses without our kernel there (``batch_norm_pooled``, whose
second derivative is 1.3x ``F.batch_norm``'s). Rounds interleaved, medians in ms. Prints a
Markdown table; writes nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.nn import functional as F

from core.algorithms import fused_block
from core.algorithms.adaptation import batch_norm_pooled

EPS = 1e-5


def pytorch(x, scale, shift):
    return F.relu(F.max_pool2d(F.batch_norm(x, None, None, scale, shift, training=True, eps=EPS), 2))


def pytorch_second_order(x, scale, shift):
    return F.relu(batch_norm_pooled(x, scale, shift))


def fused(x, scale, shift):
    return fused_block.batch_norm_pool_relu(x, scale, shift, EPS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not fused_block.ready(wait=True):
        raise SystemExit(f"the kernel is not available: {fused_block.unavailable_reason()}")
    torch.manual_seed(0)
    x = torch.randn(20, 16 * 64, 28, 28).contiguous(memory_format=torch.channels_last).requires_grad_()
    scale, shift = torch.randn(16 * 64, requires_grad=True), torch.randn(16 * 64, requires_grad=True)
    upstream = torch.randn(20, 16 * 64, 14, 14)

    def forward(block):
        with torch.no_grad():
            block(x, scale, shift)

    def forward_backward(block):
        torch.autograd.grad(block(x, scale, shift), (x, scale, shift), upstream)

    def second_order(block):
        if block is pytorch:
            block = pytorch_second_order
        grads = torch.autograd.grad(block(x, scale, shift), (x, scale, shift), upstream, create_graph=True)
        torch.autograd.grad(grads, (x, scale, upstream), (second_upstream, scale.detach(), shift.detach()))

    upstream.requires_grad_()
    second_upstream = torch.randn_like(x)
    kinds, blocks = (forward, forward_backward, second_order), (pytorch, fused)
    cases = {(kind, block.__name__): (kind, block) for kind in kinds for block in blocks}
    times: dict = {key: [] for key in cases}
    for round_index in range(args.rounds + 1):
        for key, (kind, block) in cases.items():
            start = time.perf_counter()
            kind(block)
            if round_index:  # the first round warms up
                times[key].append(time.perf_counter() - start)
    print(f"[20, 1024, 28, 28] float32, {args.threads} thread(s), median of {args.rounds} rounds\n")
    print("| pass | PyTorch's kernels (ms) | our kernel (ms) | speed-up |\n|---|---:|---:|---:|")
    labels = {forward: "forward", forward_backward: "forward + backward",
              second_order: "forward + backward + its derivative (second order)"}  # fmt: skip
    for kind in kinds:
        theirs, ours = (1000 * statistics.median(times[(kind, b.__name__)]) for b in (pytorch, fused))
        print(f"| {labels[kind]} | {theirs:.0f} | {ours:.0f} | {theirs / ours:.2f}x |")


if __name__ == "__main__":
    main()
