"""Model-Agnostic Meta-Learning (Finn, Abbeel and Levine, 2017), first-order MAML and Meta-SGD."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from core.algorithms.base import FewShotAlgorithm
from core.backbones import Conv4
from core.episodes import Episode
from core.preprocessing import Preprocessing

Params = dict[str, torch.Tensor]


def inner_loop(
    model: nn.Module,
    params: Params,
    support_x: torch.Tensor,
    support_y: torch.Tensor,
    steps: int,
    learning_rates: float | Params,
    first_order: bool = False,
) -> tuple[Params, list[float]]:
    """Adapt ``params`` with ``steps`` gradient steps on the support set.

    Args:
        model: the network, called functionally with ``params`` (a name -> tensor dict).
        params: starting parameters (the meta-learned initialisation).
        support_x, support_y: float [S, C, H, W] images and int64 [S] labels.
        steps: gradient steps (0 returns ``params`` unchanged).
        learning_rates: one inner learning rate, or one tensor per parameter (Meta-SGD).
        first_order: drop the second-order terms (the gradients are not differentiated).

    Returns:
        The adapted parameters (differentiable w.r.t. ``params`` unless first order drops
        the Hessian terms) and the support loss before each step.
    """
    losses = []
    with torch.enable_grad():  # adaptation needs gradients even when evaluation runs under no_grad
        for _ in range(steps):
            loss = F.cross_entropy(functional_call(model, params, (support_x,)), support_y)
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=not first_order)
            losses.append(loss.item())
            params = {
                name: value - _rate(learning_rates, name) * grad
                for (name, value), grad in zip(params.items(), grads, strict=True)
            }
    return params, losses


def _rate(learning_rates: float | Params, name: str) -> float | torch.Tensor:
    return learning_rates if isinstance(learning_rates, float | int) else learning_rates[name]


class Classifier(nn.Module):
    """Conv-4 (BatchNorm on the current batch's statistics) and a linear layer to ``n_way`` logits."""

    def __init__(self, in_channels: int, image_size: int, n_way: int, hidden: int) -> None:
        super().__init__()
        self.features = Conv4(in_channels, hidden, running_stats=False)
        self.head = nn.Linear(Conv4.output_dim(image_size, hidden), n_way)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


@dataclass(frozen=True)
class AdaptationTrace:
    """Per inner step k = 0..steps (k = 0 is the initialisation, before any step)."""

    support_loss: list[float]
    query_loss: list[float]
    query_accuracy: list[float]
    predictions: list[torch.Tensor]  # [Q] labels after each step
    update_norms: list[dict[str, float]]  # per layer, the size of step k's change (empty for k = 0)
    query_y: torch.Tensor


class MAML(FewShotAlgorithm):
    """MAML learns an initialisation from which a few gradient steps on a new task's support
    set give a good classifier for its queries. The outer loop differentiates through the
    inner steps (second order), or ignores the curvature (first order, much cheaper).
    Meta-SGD also learns one inner learning rate per parameter.

    The head has ``n_way`` outputs, so a model works on episodes of that many classes.
    BatchNorm always normalises with the current batch (as the reference code does).
    """

    name = "maml"

    def __init__(
        self,
        preprocessing: Preprocessing,
        n_way: int = 5,
        hidden: int = 64,
        inner_lr: float = 0.4,
        train_steps: int = 1,
        test_steps: int = 3,
        first_order: bool = False,
        meta_sgd: bool = False,
        test_inner_lr: float | None = None,
    ) -> None:
        super().__init__(preprocessing, n_way=n_way, hidden=hidden, inner_lr=inner_lr, train_steps=train_steps,
                         test_steps=test_steps, first_order=first_order, meta_sgd=meta_sgd,
                         test_inner_lr=test_inner_lr)  # fmt: skip
        self.n_way, self.inner_lr, self.first_order = n_way, inner_lr, first_order
        self.test_inner_lr = inner_lr if test_inner_lr is None else test_inner_lr
        self.train_steps, self.test_steps = train_steps, test_steps
        self.net = Classifier(preprocessing.channels, preprocessing.image_size, n_way, hidden)
        self.inner_lrs = (
            nn.ParameterList(nn.Parameter(torch.full_like(p, inner_lr)) for p in self.net.parameters())
            if meta_sgd
            else None
        )

    def initial_params(self) -> Params:
        return dict(self.net.named_parameters())

    def learning_rates(self) -> float | Params:
        """α in training, α at test in evaluation; Meta-SGD's learned rates in both."""
        if self.inner_lrs is None:
            return self.inner_lr if self.training else self.test_inner_lr
        return {name: rate for (name, _), rate in zip(self.net.named_parameters(), self.inner_lrs, strict=True)}

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, steps: int) -> tuple[Params, list[float]]:
        if int(support_y.max()) + 1 != self.n_way:
            raise ValueError(
                f"this MAML model has a {self.n_way}-way head; sample {self.n_way}-way episodes "
                f"(got {int(support_y.max()) + 1} classes) or train a {int(support_y.max()) + 1}-way model"
            )
        first_order = self.first_order or not torch.is_grad_enabled()  # no meta-gradient wanted: skip the graph
        return inner_loop(self.net, self.initial_params(), support_x, support_y, steps, self.learning_rates(),
                          first_order)  # fmt: skip

    def forward(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        steps = self.train_steps if self.training else self.test_steps
        params, _ = self.adapt(support_x, support_y, steps)
        return functional_call(self.net, params, (query_x,))

    def explain(self, episode: Episode, steps: int | None = None) -> AdaptationTrace:
        """Support loss, query loss and accuracy, and per-layer update size, step by step."""
        support_x, support_y, query_x, query_y = self.inputs(episode)
        steps = self.test_steps if steps is None else steps
        return trace_adaptation(self.net, self.initial_params(), self.learning_rates(), support_x, support_y, query_x,
                                query_y, steps)  # fmt: skip


def trace_adaptation(
    model: nn.Module,
    params: Params,
    learning_rates: float | Params,
    support_x: torch.Tensor,
    support_y: torch.Tensor,
    query_x: torch.Tensor,
    query_y: torch.Tensor,
    steps: int,
) -> AdaptationTrace:
    """Adapt ``params`` one inner step at a time, recording what each step did (k = 0 is the start)."""
    trace = AdaptationTrace([], [], [], [], [], query_y.cpu())
    params = {name: value.detach().requires_grad_() for name, value in params.items()}
    for step in range(steps + 1):
        with torch.no_grad():
            support_loss = F.cross_entropy(functional_call(model, params, (support_x,)), support_y)
            logits = functional_call(model, params, (query_x,))
        trace.support_loss.append(support_loss.item())
        trace.query_loss.append(F.cross_entropy(logits, query_y).item())
        trace.predictions.append(logits.argmax(1).cpu())
        trace.query_accuracy.append((logits.argmax(1) == query_y).float().mean().item())
        if step == steps:
            break
        adapted, _ = inner_loop(model, params, support_x, support_y, 1, learning_rates, True)
        trace.update_norms.append(_layer_norms(params, adapted))
        params = {name: value.detach().requires_grad_() for name, value in adapted.items()}
    return trace


def _layer_norms(before: Params, after: Params) -> dict[str, float]:
    """L2 norm of each layer's change (weights and bias of one module together)."""
    squares: dict[str, float] = {}
    for name in before:
        layer = name.rsplit(".", 1)[0]
        squares[layer] = squares.get(layer, 0.0) + float((after[name] - before[name]).detach().pow(2).sum())
    return {layer: value**0.5 for layer, value in squares.items()}
