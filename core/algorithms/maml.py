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
    query_logits,
    task_batched,
    task_batched_classifier,
    trace_adaptation,
)
from core.algorithms.base import FewShotAlgorithm
from core.episodes import Episode
from core.preprocessing import Preprocessing


def multi_step_weights(steps: int, progress: float) -> torch.Tensor:
    """Antoniou et al.'s (2019) weights of the query loss after each of ``steps`` inner steps,
    ``progress`` (0 to 1) through the annealing: equal at 0, then the earlier steps fall to a
    floor of 0.03 / steps and the last one takes the rest. They always sum to 1."""
    floor, shift = 0.03 / steps, min(max(progress, 0.0), 1.0) / steps
    weights = torch.full((steps,), 1 / steps - shift).clamp_min(floor)
    weights[-1] = 1 - weights[:-1].sum()
    return weights


class MAML(FewShotAlgorithm):
    """MAML learns an initialisation from which a few gradient steps on a new task's support
    set give a good classifier for its queries. The outer loop differentiates through the
    inner steps (second order), or ignores the curvature (first order, much cheaper).
    Meta-SGD also learns one inner learning rate per parameter; ``per_step_rates`` instead
    learns one per parameter tensor and inner step (Antoniou et al. 2019's LSLR),
    ``per_step_batch_norm`` gives each inner step its own learned BatchNorm scale and shift
    (their BNWB; those are then not adapted), and ``step_loss_weights`` (set by the training
    loop) turns on their multi-step loss.

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
        per_step_rates: bool = False,
        per_step_batch_norm: bool = False,
    ) -> None:
        if meta_sgd and per_step_rates:
            raise ValueError("choose Meta-SGD (a rate per weight) or per-step rates (per layer and step), not both")
        super().__init__(preprocessing, n_way=n_way, hidden=hidden, inner_lr=inner_lr, train_steps=train_steps,
                         test_steps=test_steps, first_order=first_order, meta_sgd=meta_sgd,
                         test_inner_lr=test_inner_lr,
                         # recorded only when on: checkpoints from before the setting match a run without it
                         **({"per_step_rates": True} if per_step_rates else {}),
                         **({"per_step_batch_norm": True} if per_step_batch_norm else {}))  # fmt: skip
        self.n_way, self.inner_lr, self.first_order = n_way, inner_lr, first_order
        self.test_inner_lr = inner_lr if test_inner_lr is None else test_inner_lr
        self.train_steps, self.test_steps = train_steps, test_steps
        self.net = Classifier(preprocessing.channels, preprocessing.image_size, n_way, hidden)
        self.inner_lrs = (
            nn.ParameterList(nn.Parameter(torch.full_like(p, inner_lr)) for p in self.net.parameters())
            if meta_sgd
            else None
        )
        # per-step BatchNorm (Antoniou et al.'s BNWB): row k of each is the scale or shift inner step k uses;
        # the net's own serve the queries and any later step. They are learned, not adapted
        self.batch_norm_names = [f"{name}.{kind}" for name, module in self.net.named_modules()
                                 if isinstance(module, nn.BatchNorm2d) for kind in ("weight", "bias")]  # fmt: skip
        self.step_norms = (
            nn.ParameterList(
                nn.Parameter(self.net.get_parameter(name).detach().repeat(train_steps, 1))
                for name in self.batch_norm_names
            )
            if per_step_batch_norm
            else None
        )
        # LSLR: row k holds inner step k's rate for each parameter tensor, learned with the initialisation
        count = len(self.initial_params())
        self.step_lrs = nn.Parameter(torch.full((train_steps, count), float(inner_lr))) if per_step_rates else None
        # the multi-step loss: weights of the query loss after each inner step (set by the training loop)
        self.step_loss_weights: torch.Tensor | None = None

    def initial_params(self) -> Params:
        """The parameters the inner loop adapts (with per-step BatchNorm, all but BatchNorm's)."""
        params = dict(self.net.named_parameters())
        if self.step_norms is not None:
            params = {name: value for name, value in params.items() if name not in self.batch_norm_names}
        return params

    def held(self, tasks: int | None = None):
        """Step k -> the per-step BatchNorm weights of step k (with a leading task dimension when ``tasks``),
        or None without per-step BatchNorm: ``adapt``'s ``held``."""
        if self.step_norms is None:
            return None

        def at(step: int) -> Params:
            own = step >= len(self.step_norms[0])
            rows = {name: self.net.get_parameter(name) if own else rows[step]
                    for name, rows in zip(self.batch_norm_names, self.step_norms)}  # fmt: skip
            return rows if tasks is None else task_batched(rows, tasks)

        return at

    def learning_rates(self) -> LearningRates:
        """α in training, α at test in evaluation; Meta-SGD's or the per-step learned rates in both."""
        if self.step_lrs is not None:
            return [dict(zip(self.initial_params(), row, strict=True)) for row in self.step_lrs]
        names = [name for name, _ in self.net.named_parameters()]
        if self.inner_lrs is None:
            return self.inner_lr if self.training else self.test_inner_lr
        return dict(zip(names, self.inner_lrs, strict=True))

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
                     self.learning_rates(), first_order, held=self.held())  # fmt: skip

    def episode_loss(self, episode: Episode) -> tuple[torch.Tensor, torch.Tensor]:
        """One task's query loss (weighted over the inner steps under the multi-step loss) and accuracy."""
        if self.step_loss_weights is None or not self.training or not self.train_steps:
            return super().episode_loss(episode)
        support_x, support_y, query_x, query_y = self.inputs(episode)
        self._check_n_way(support_y)
        losses, logits = [], []

        def query_loss(params: Params) -> None:
            logits.append(functional_call(self.net, params, (query_x,)))
            losses.append(self.loss(logits[-1], query_y))

        adapt(classification_loss(self.net, support_x, support_y), self.initial_params(), self.train_steps,
              self.learning_rates(), self.first_order, query_loss, self.held())  # fmt: skip
        return self._weighted(torch.stack(losses)), (logits[-1].argmax(1) == query_y).float().mean()

    def _weighted(self, step_losses: torch.Tensor) -> torch.Tensor:
        """[steps, ...] query losses after each inner step -> their weighted sum (over the first dimension)."""
        weights = self.step_loss_weights.to(step_losses.dtype).to(step_losses.device)
        return torch.tensordot(weights, step_losses, dims=1)

    def forward(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        steps = self.train_steps if self.training else self.test_steps
        params, _ = self.adapt(support_x, support_y, steps)
        return query_logits(self.net, params, support_x, support_y, query_x)

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
                                steps=steps, held=self.held())  # fmt: skip

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

        multi_step = self.step_loss_weights is not None and self.training and steps > 0
        losses, logits = [], []

        def query_loss(params: Params) -> None:
            logits.append(task_batched_classifier(params, query_x))
            losses.append(per_task_cross_entropy(logits[-1], query_y).mean())

        params, _ = adapt(support_loss, task_batched(self.initial_params(), tasks), steps, self.learning_rates(),
                          first_order, query_loss if multi_step else None, self.held(tasks))  # fmt: skip
        if not multi_step:
            logits.append(task_batched_classifier(params, query_x))
            losses.append(per_task_cross_entropy(logits[-1], query_y).mean())
        loss = self._weighted(torch.stack(losses)) if multi_step else losses[-1]
        return loss, (logits[-1].argmax(2) == query_y).float().mean()
