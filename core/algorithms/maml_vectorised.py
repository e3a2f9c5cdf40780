"""MAML's meta-batch loss vectorised over tasks with ``torch.func.vmap``.

The per-task loop in ``maml.py`` is the reference; this is the same computation for a
whole meta-batch at once. BatchNorm is written out from mean and variance here because
``torch.func.grad`` inside ``vmap`` through ``F.batch_norm`` gives second-order
meta-gradients that are slightly off (likely pytorch/functorch#534); the test suite
compares this function's meta-gradient with the loop's.
"""

from __future__ import annotations

import torch
from torch.func import grad, vmap
from torch.nn import functional as F

from core.algorithms.adaptation import Params, batch_norm_from_moments, rate_for


def classifier_forward(params: Params, images: torch.Tensor, blocks: int = 4) -> torch.Tensor:
    """``maml.Classifier`` as a pure function of its parameters (batch statistics in BatchNorm)."""
    x = images
    for block in range(blocks):
        prefix = f"features.blocks.{block}"
        x = F.conv2d(x, params[f"{prefix}.0.weight"], params[f"{prefix}.0.bias"], padding=1)
        x = batch_norm_from_moments(x, params[f"{prefix}.1.weight"], params[f"{prefix}.1.bias"])
        x = F.max_pool2d(F.relu(x), 2)
    return F.linear(x.flatten(1), params["head.weight"], params["head.bias"])


def meta_batch_loss(
    params: Params,
    learning_rates: float | Params,
    support_x: torch.Tensor,
    support_y: torch.Tensor,
    query_x: torch.Tensor,
    query_y: torch.Tensor,
    steps: int,
    first_order: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean query loss and accuracy over T tasks after ``steps`` inner steps on each.

    Args:
        params: the shared initialisation; the result is differentiable w.r.t. it.
        learning_rates: one inner learning rate, or one tensor per parameter (Meta-SGD).
        support_x, support_y: [T, S, C, H, W] and [T, S]; query_x, query_y: [T, Q, C, H, W] and [T, Q].
    """

    def support_loss(task_params: Params, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(classifier_forward(task_params, images), labels)

    def one_task(images_s, labels_s, images_q, labels_q):
        task_params = params
        for step in range(steps):
            grads = grad(support_loss)(task_params, images_s, labels_s)
            grads = {name: g.detach() for name, g in grads.items()} if first_order else grads
            task_params = {
                name: value - rate_for(learning_rates, name, step) * grads[name] for name, value in task_params.items()
            }
        logits = classifier_forward(task_params, images_q)
        return F.cross_entropy(logits, labels_q), (logits.argmax(1) == labels_q).float().mean()

    losses, accuracies = vmap(one_task)(support_x, support_y, query_x, query_y)
    return losses.mean(), accuracies.mean()
