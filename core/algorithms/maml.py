"""Model-Agnostic Meta-Learning (Finn, Abbeel and Levine, 2017), first-order MAML and Meta-SGD.

The inner loop, the classifier and the tracer live in ``core.algorithms.adaptation``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

from core.algorithms.adaptation import (
    AdaptationTrace,
    Classifier,
    LearningRates,
    Params,
    adapt,
    classification_loss,
    per_task_cross_entropy,
    task_batched,
    task_batched_classifier,
    trace_adaptation,
)
from core.algorithms.base import FewShotAlgorithm
from core.episodes import Episode
from core.preprocessing import Preprocessing


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

    def learning_rates(self) -> LearningRates:
        """α in training, α at test in evaluation; Meta-SGD's learned rates in both."""
        if self.inner_lrs is None:
            return self.inner_lr if self.training else self.test_inner_lr
        return {name: rate for (name, _), rate in zip(self.net.named_parameters(), self.inner_lrs, strict=True)}

    def _check_n_way(self, support_y: torch.Tensor) -> None:
        if int(support_y.max()) + 1 != self.n_way:
            raise ValueError(
                f"this MAML model has a {self.n_way}-way head; sample {self.n_way}-way episodes "
                f"(got {int(support_y.max()) + 1} classes) or train a {int(support_y.max()) + 1}-way model"
            )

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, steps: int) -> tuple[Params, list[torch.Tensor]]:
        """The initialisation adapted by ``steps`` inner steps on one task, and the support loss before each."""
        self._check_n_way(support_y)
        first_order = self.first_order or not torch.is_grad_enabled()  # no meta-gradient wanted: skip the graph
        return adapt(classification_loss(self.net, support_x, support_y), self.initial_params(), steps,
                     self.learning_rates(), first_order)  # fmt: skip

    def forward(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        steps = self.train_steps if self.training else self.test_steps
        params, _ = self.adapt(support_x, support_y, steps)
        return functional_call(self.net, params, (query_x,))

    def explain(self, episode: Episode, steps: int | None = None, inner_lr: float | None = None) -> AdaptationTrace:
        """Support loss, query loss and accuracy, and per-layer update size, step by step.

        ``inner_lr`` replaces the model's own rate(s) (Meta-SGD's learned ones too) with one α, to see
        what another step size does from the same initialisation.
        """
        support_x, support_y, query_x, query_y = self.inputs(episode)
        steps = self.test_steps if steps is None else steps
        rates = self.learning_rates() if inner_lr is None else float(inner_lr)
        return trace_adaptation(self.net, self.initial_params(), learning_rates=rates,
                                support_x=support_x, support_y=support_y, query_x=query_x, query_y=query_y,
                                steps=steps)  # fmt: skip

    def meta_batch_loss(
        self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean query loss and accuracy of T same-shaped tasks in one task-batched pass.

        Args: normalised support [T, S, C, H, W], labels [T, S], queries [T, Q, C, H, W], labels [T, Q].
        The same numbers (and meta-gradient) as averaging ``episode_loss`` over the tasks.
        """
        self._check_n_way(support_y)
        steps = self.train_steps if self.training else self.test_steps
        first_order = self.first_order or not torch.is_grad_enabled()
        tasks = support_x.shape[0]

        def support_loss(params: Params) -> torch.Tensor:
            return per_task_cross_entropy(task_batched_classifier(params, support_x, not first_order), support_y)

        params, _ = adapt(support_loss, task_batched(self.initial_params(), tasks), steps, self.learning_rates(),
                          first_order)  # fmt: skip
        logits = task_batched_classifier(params, query_x)
        return per_task_cross_entropy(logits, query_y).mean(), (logits.argmax(2) == query_y).float().mean()
