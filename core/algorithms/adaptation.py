"""Gradient steps on a support set: the one inner loop of MAML, Meta-SGD, the fine-tuning
baseline and the sine-wave page, and the tracer the MAML page draws.

Parameters are a plain name -> tensor dict, so adaptation is a pure function: params in,
params out, differentiable with respect to the start unless ``first_order``. A task-batched
variant runs a whole meta-batch as one network pass: every parameter carries a leading task
dimension, the convolutions are grouped one group per task, and since the tasks share
nothing, one gradient of the summed support losses is every task's own gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from core.algorithms import fused_block
from core.backbones import Conv4

Params = dict[str, torch.Tensor]
# one rate; one tensor per parameter (Meta-SGD); or per inner step, one per parameter (Antoniou et al.'s LSLR)
LearningRates = float | Params | list[Params]
BATCH_NORM_EPS = 1e-5  # nn.BatchNorm2d's default


def rates_at(learning_rates: LearningRates, step: int) -> float | Params:
    """The rates of inner step ``step`` (counted from 0); steps past the last per-step rates reuse it."""
    if isinstance(learning_rates, list):
        return learning_rates[min(step, len(learning_rates) - 1)]
    return learning_rates


def rate_for(learning_rates: LearningRates, name: str, step: int = 0) -> float | torch.Tensor:
    """The inner learning rate of parameter ``name`` at inner step ``step``."""
    rates = rates_at(learning_rates, step)
    return rates if isinstance(rates, float | int) else rates[name]


def adapt(
    loss_fn: Callable[[Params], torch.Tensor],
    params: Params,
    steps: int,
    learning_rates: LearningRates,
    first_order: bool = False,
    after_step: Callable[[Params], None] | None = None,
    held: Callable[[int], Params] | None = None,
) -> tuple[Params, list[torch.Tensor]]:
    """``steps`` gradient steps on ``loss_fn``, the one inner loop every adapting method uses.

    Args:
        loss_fn: params -> support loss; a scalar, or one loss per task [T] when the params
            are task-batched (a leading task dimension): their sum's gradient is each task's own.
        params: the starting parameters (under ``no_grad`` they are detached first: nothing is
            wanted from them but the adapted values).
        steps: gradient steps (0 returns ``params`` unchanged).
        learning_rates: one rate, or one tensor per parameter (Meta-SGD; broadcast over tasks), or a
            list of those, one per step (the last one serves the steps past the list).
        first_order: do not differentiate the gradients (no second-order terms, much cheaper).
        after_step: called with the parameters after each step (the multi-step loss reads them).
        held: step k -> parameters used at step k but not adapted (per-step BatchNorm weights); the
            result and ``after_step`` get those of the step that follows.

    Returns:
        The adapted parameters and the (detached) support loss before each step; the losses
        stay tensors so that the loop never waits on a ``.item()``.
    """
    losses = []
    if steps and not torch.is_grad_enabled():  # nothing may flow back: start from fresh leaves
        params = {name: value.detach().requires_grad_() for name, value in params.items()}

    def with_held(params: Params, step: int) -> Params:
        return params if held is None else {**params, **held(step)}

    with torch.enable_grad():  # adaptation needs gradients even when evaluation runs under no_grad
        for step in range(steps):
            loss = loss_fn(with_held(params, step))
            grads = torch.autograd.grad(loss.sum(), list(params.values()), create_graph=not first_order)
            losses.append(loss.detach())
            params = {
                name: value - rate_for(learning_rates, name, step) * grad
                for (name, value), grad in zip(params.items(), grads, strict=True)
            }
            if after_step is not None:
                after_step(with_held(params, step + 1))
    return with_held(params, steps), losses


def classification_loss(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor
) -> Callable[[Params], torch.Tensor]:
    """params -> cross-entropy of ``model`` called with those params on one task's images [S, C, H, W]."""
    return lambda params: F.cross_entropy(functional_call(model, params, (images,)), labels)


class Classifier(nn.Module):
    """Conv-4 (BatchNorm on the current batch's statistics) and a linear layer to ``n_way`` logits."""

    def __init__(self, in_channels: int, image_size: int, n_way: int, hidden: int) -> None:
        super().__init__()
        self.features = Conv4(in_channels, hidden, running_stats=False)
        self.head = nn.Linear(Conv4.output_dim(image_size, hidden), n_way)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


def task_batched(params: Params, tasks: int) -> Params:
    """Shared params -> the same values with a leading task dimension (a view; gradients sum back)."""
    return {name: value.expand(tasks, *value.shape) for name, value in params.items()}


def task_batched_classifier(params: Params, images: torch.Tensor, second_order: bool = False) -> torch.Tensor:
    """``Classifier`` for T tasks at once: task-batched params, images [T, N, C, H, W] -> logits [T, N, n_way].

    The tasks lie side by side along the channel axis: a grouped convolution gives each task
    its own weights, and BatchNorm over that layout normalises each task's channels with
    that task's own statistics, exactly as ``Classifier`` does for one task. ``second_order``
    (the result will be differentiated twice) picks, where our kernel is not built, a BatchNorm
    whose second derivative is fast.
    """
    tasks, count, channels, height, width = images.shape
    # channels-last: max-pooling 4x and BatchNorm 1.25x faster in this layout on a CPU (benchmarks/maml_speed.py)
    x = (
        images.transpose(0, 1)
        .reshape(count, tasks * channels, height, width)
        .contiguous(memory_format=torch.channels_last)
    )
    block = 0
    while f"features.blocks.{block}.0.weight" in params:
        prefix = f"features.blocks.{block}"
        weight = params[f"{prefix}.0.weight"]
        x = F.conv2d(x, weight.flatten(0, 1), params[f"{prefix}.0.bias"].flatten(), padding=1, groups=tasks)
        scale, shift = params[f"{prefix}.1.weight"].flatten(), params[f"{prefix}.1.bias"].flatten()
        if fused_block.fits(x):  # our kernel: 2.3-2.6x PyTorch's three, 8.6x twice differentiated (fused_block_speed)
            x = fused_block.batch_norm_pool_relu(x, scale, shift, BATCH_NORM_EPS)
        elif second_order:  # 1.3x the whole 20-way step over batch_norm_from_moments then pooling
            x = F.relu(batch_norm_pooled(x, scale, shift))
        else:  # one fused kernel, and 2x faster to differentiate once
            x = F.batch_norm(x, None, None, scale, shift, training=True, eps=BATCH_NORM_EPS)
            x = F.relu(F.max_pool2d(x, 2))  # = pool(relu(x)), both monotone; ReLU on a quarter of the values
        block += 1
    features = x.reshape(count, tasks, -1).transpose(0, 1)  # [T, N, D], each task's channels, then positions
    return torch.baddbmm(params["head.bias"].unsqueeze(1), features, params["head.weight"].transpose(1, 2))


class _Standardise(torch.autograd.Function):
    """x [N, C, H, W] -> (x - mean) * rstd and rstd [1, C, 1, 1], per channel over N, H and W.

    The backward is the closed form, written in differentiable operations on the saved
    outputs, so autograd differentiates it again (through this function) for MAML's
    second order: far fewer full-size passes than differentiating the elementary forward twice.
    """

    @staticmethod
    def forward(x: torch.Tensor, sign: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        centred = x - mean
        rstd = torch.rsqrt(centred.square().mean(dim=(0, 2, 3), keepdim=True) + BATCH_NORM_EPS)
        if sign is not None:  # a constant +-1 per channel: the same backward formula holds with rstd * sign
            rstd = rstd * sign
        return centred.mul_(rstd), rstd

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(*output)

    @staticmethod
    def backward(ctx, grad: torch.Tensor, grad_rstd: torch.Tensor) -> tuple[torch.Tensor, None]:
        standardised, rstd = ctx.saved_tensors
        count = standardised.numel() // standardised.shape[1]
        grad_mean = grad.sum(dim=(0, 2, 3), keepdim=True) / count
        along = (grad * standardised).sum(dim=(0, 2, 3), keepdim=True) / count + grad_rstd * rstd / count
        return torch.addcmul(grad * rstd - grad_mean * rstd, standardised, along * rstd, value=-1), None


def batch_norm_pooled(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """``max_pool2d(batch_norm_from_moments(x, scale, shift), 2)``: the same values and derivatives, faster.

    Standardising is increasing per channel, so the pool can come before the affine map:
    pool(scale * z + shift) = |scale| * pool(sign(scale) * z) + shift, the sign folded into
    the standardisation. The affine map and its derivatives then run on a quarter of the values.
    """
    sign = torch.where(scale.detach() >= 0, 1.0, -1.0).to(x.dtype)
    standardised, _ = _Standardise.apply(x, sign[:, None, None])
    return torch.addcmul(shift[:, None, None], F.max_pool2d(standardised, 2), (scale * sign)[:, None, None])


def batch_norm_from_moments(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """BatchNorm on the batch's statistics from elementary operations: its second derivative
    (MAML's meta-gradient) is exact and ran 3x faster than ``F.batch_norm``'s on a CPU."""
    centred = x - x.mean(dim=(0, 2, 3), keepdim=True)
    var = centred.square().mean(dim=(0, 2, 3), keepdim=True)  # torch.var is 5x slower on channels-last
    return centred * (torch.rsqrt(var + BATCH_NORM_EPS) * scale[:, None, None]) + shift[:, None, None]


def per_task_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """logits [T, N, n_way], labels [T, N] -> mean cross-entropy per task [T]."""
    losses = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none")
    return losses.view(labels.shape).mean(1)


@dataclass(frozen=True)
class AdaptationTrace:
    """Per inner step k = 0..steps (k = 0 is the initialisation, before any step); built once, complete."""

    support_loss: tuple[float, ...]
    query_loss: tuple[float, ...]
    query_accuracy: tuple[float, ...]
    predictions: tuple[torch.Tensor, ...]  # [Q] labels after each step
    update_norms: tuple[dict[str, float], ...]  # per layer, the size of step k's change (one fewer than steps + 1)
    query_y: torch.Tensor
    # Per layer, ||change|| / ||layer before the step||: comparable across layers (NaN for a layer at zero).
    relative_update_norms: tuple[dict[str, float], ...] = ()


def query_logits(
    model: nn.Module, params: Params, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor
) -> torch.Tensor:
    """``model`` called with ``params`` on ``query_x``.

    Its BatchNorm normalises with the batch's statistics, and in training every query batch held
    at least one image per class. A smaller one (Lake's and the game's one-query trials, one
    uploaded image) would be normalised by itself: its own mean taken out, all of it where the
    last block is 1 x 1. Such a batch runs beside the support set instead, sharing its statistics.
    """
    if len(query_x) >= int(support_y.max()) + 1:
        return functional_call(model, params, (query_x,))
    return functional_call(model, params, (torch.cat([support_x, query_x]),))[len(support_x) :]


def trace_adaptation(
    model: nn.Module,
    params: Params,
    *,
    learning_rates: LearningRates,
    support_x: torch.Tensor,
    support_y: torch.Tensor,
    query_x: torch.Tensor,
    query_y: torch.Tensor,
    steps: int,
    held: Callable[[int], Params] | None = None,
) -> AdaptationTrace:
    """Adapt ``params`` one inner step at a time, recording what each step did (k = 0 is the start);
    ``held`` as in ``adapt`` (parameters used at step k and not adapted)."""
    records: dict[str, list] = {key: [] for key in ("support", "query", "accuracy", "predictions", "norms", "relative")}
    params = {name: value.detach().requires_grad_() for name, value in params.items()}
    for step in range(steps + 1):
        full = params if held is None else {**params, **held(step)}
        with torch.no_grad():
            support_loss = F.cross_entropy(functional_call(model, full, (support_x,)), support_y)
            logits = query_logits(model, full, support_x, support_y, query_x)
        records["support"].append(support_loss.item())
        records["query"].append(F.cross_entropy(logits, query_y).item())
        records["predictions"].append(logits.argmax(1).cpu())
        records["accuracy"].append((logits.argmax(1) == query_y).float().mean().item())
        if step == steps:
            break
        rates = rates_at(learning_rates, step)
        at_step = None if held is None else (lambda k, step=step: held(step + k))
        adapted, _ = adapt(classification_loss(model, support_x, support_y), params, 1, rates, True, held=at_step)
        adapted = {name: adapted[name] for name in params}
        records["norms"].append(_layer_norms(params, adapted))
        records["relative"].append(_relative(records["norms"][-1], _layer_sizes(params)))
        params = {name: value.detach().requires_grad_() for name, value in adapted.items()}
    return AdaptationTrace(tuple(records["support"]), tuple(records["query"]), tuple(records["accuracy"]),
                           tuple(records["predictions"]), tuple(records["norms"]), query_y.cpu(),
                           tuple(records["relative"]))  # fmt: skip


def _layer_norms(before: Params, after: Params) -> dict[str, float]:
    """L2 norm of each layer's change (weights and bias of one module together)."""
    squares: dict[str, float] = {}
    for name in before:
        layer = name.rsplit(".", 1)[0]
        squares[layer] = squares.get(layer, 0.0) + float((after[name] - before[name]).detach().pow(2).sum())
    return {layer: value**0.5 for layer, value in squares.items()}


def _layer_sizes(params: Params) -> dict[str, float]:
    """L2 norm of each layer's parameters (weights and bias of one module together)."""
    squares: dict[str, float] = {}
    for name, value in params.items():
        layer = name.rsplit(".", 1)[0]
        squares[layer] = squares.get(layer, 0.0) + float(value.detach().pow(2).sum())
    return {layer: value**0.5 for layer, value in squares.items()}


def _relative(norms: dict[str, float], sizes: dict[str, float]) -> dict[str, float]:
    """Each layer's change over its size before the step; NaN where the layer was all zeros."""
    return {layer: norm / sizes[layer] if sizes[layer] > 0 else float("nan") for layer, norm in norms.items()}
