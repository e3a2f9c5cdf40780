"""relu(max_pool2d(batch_norm(x), 2)) on the batch's statistics as one C++ kernel forward and one back.

Why: in first-order MAML's task-batched step on a CPU, block 1's BatchNorm and pooling
(forward, backward and the pool backward's zero fill) took about 40% of the time, all of it
memory traffic over [N, tasks x 64, 28, 28]. PyTorch's kernels make five or six passes over
that tensor; this one reads it three times forward (twice for the statistics) and writes a
quarter, and back reads it twice and writes the gradient once. The backward's own derivative
(MAML's second order) is a third kernel: four reading passes for its sums and one that writes.

The kernel compiles in the background on first use (``torch.utils.cpp_extension``, one to three
minutes, then cached in ``~/.cache/torch_extensions``); until then, and where it cannot (no C++
compiler, or ``$PLAYGROUND_NO_FUSED_BLOCK`` set), the callers keep PyTorch's kernels and
``unavailable_reason()`` says why.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import threading
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("fused_block.cpp")
DISABLE = "PLAYGROUND_NO_FUSED_BLOCK"  # set to 1 to keep PyTorch's kernels (to compare, or where compiling hurts)
_lock = threading.Lock()
_build: dict = {"thread": None, "ops": None, "reason": ""}


def _build_name() -> str:
    """One build per CPU type: it is compiled for this CPU's instructions (-march=native), and a home folder
    (the build cache) may be shared between machines."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        flags = platform.processor() or platform.machine()
    return f"playground_fused_block_{hashlib.sha256(flags.encode()).hexdigest()[:10]}"


def _compile() -> None:
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)  # "No CUDA runtime": a CPU kernel
    try:
        from torch.utils.cpp_extension import load

        load(_build_name(), [str(SOURCE)], extra_cflags=["-O3", "-march=native"], is_python_module=False)
        _build["ops"] = torch.ops.playground_fused_block
    except Exception as error:  # a missing compiler shows up as OSError, RuntimeError or a subprocess error
        first_line = (str(error).splitlines() or [""])[0][:200]
        _build["reason"] = f"the C++ kernel did not compile ({type(error).__name__}: {first_line})"


def ready(wait: bool = False) -> bool:
    """Whether the kernel can run now. The first call starts compiling it in the background, so a page or
    a training run goes on with PyTorch's kernels meanwhile (the results agree to rounding); ``wait``
    blocks until it is built (benchmarks, tests)."""
    if os.environ.get(DISABLE):
        _build["reason"] = f"${DISABLE} is set"
        return False
    with _lock:
        if _build["thread"] is None:
            _build["thread"] = threading.Thread(target=_compile, name="fused-block-compile", daemon=True)
            _build["thread"].start()
    if wait:
        _build["thread"].join()
    return _build["ops"] is not None


def unavailable_reason() -> str:
    """Why the kernel is not in use ("" when it is; "still compiling" while it builds)."""
    if ready():
        return ""
    return _build["reason"] or "still compiling"


class _FusedBlock(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, eps: float) -> torch.Tensor:
        out, mean, rstd = _build["ops"].block_forward(x, scale, shift, eps)
        ctx.save_for_backward(x, out, mean, rstd, scale)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, out, mean, rstd, scale = ctx.saved_tensors
        # A function of its own, so that MAML's second order differentiates it with our kernel too. Only
        # grad, x and scale carry a gradient: out (the ReLU's mask and the pool's choice) is piecewise
        # constant, and the kernel differentiates mean and rstd as functions of x itself.
        return *_FusedBlockBackward.apply(grad, x, scale, out.detach(), mean.detach(), rstd.detach()), None


class _FusedBlockBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, grad, x, scale, out, mean, rstd):
        ctx.save_for_backward(grad, x, scale, out, mean, rstd)
        return tuple(_build["ops"].block_backward(grad, x, out, mean, rstd, scale))

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_grad_x, grad_grad_scale, grad_grad_shift):
        grad, x, scale, out, mean, rstd = ctx.saved_tensors
        grad_grad, grad_x, grad_scale = _build["ops"].block_double_backward(
            grad, x, out, mean, rstd, scale, grad_grad_x, grad_grad_scale, grad_grad_shift
        )
        return grad_grad, grad_x, grad_scale, None, None, None


def fits(x: torch.Tensor) -> bool:
    """Whether the kernel takes ``x`` now: a channels-last float32/float64 CPU tensor, and the kernel built."""
    return (x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64) and x.dim() == 4
            and x.is_contiguous(memory_format=torch.channels_last) and ready())  # fmt: skip


def batch_norm_pool_relu(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, eps: float) -> torch.Tensor:
    """``relu(max_pool2d(F.batch_norm(x, None, None, scale, shift, training=True, eps=eps), 2))`` (see ``fits``)."""
    return _FusedBlock.apply(x, scale.to(x.dtype), shift.to(x.dtype), eps)
