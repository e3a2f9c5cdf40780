"""The fine-tuning baseline: a network pre-trained the ordinary way, adapted by gradient steps.

The same architecture as MAML's (``maml.Classifier``, BatchNorm on batch statistics),
trained with cross-entropy over all training classes at once (``core.training.pretraining``).
For a new task its features are kept, the head is replaced by a zero ``n_way`` head, and
the same inner loop as MAML's adapts every layer, with steps and rate chosen on validation
classes. So MAML's meta-learned initialisation is measured against a plainly trained one.
"""

from __future__ import annotations

import torch

from core.algorithms.adaptation import (
    AdaptationTrace,
    Classifier,
    Params,
    adapt,
    classification_loss,
    query_logits,
    trace_adaptation,
)
from core.algorithms.base import FewShotAlgorithm
from core.episodes import Episode
from core.preprocessing import Preprocessing


class FineTuning(FewShotAlgorithm):
    """Pre-trained features, a zero head for the task's classes, ``test_steps`` steps at ``inner_lr``."""

    name = "finetune"

    def __init__(self, preprocessing: Preprocessing, hidden: int = 64, inner_lr: float = 0.4, test_steps: int = 3):
        super().__init__(preprocessing, hidden=hidden, inner_lr=inner_lr, test_steps=test_steps)
        self.inner_lr, self.test_steps = inner_lr, test_steps
        self.net = Classifier(preprocessing.channels, preprocessing.image_size, 1, hidden)  # head made per task

    def start_params(self, n_way: int) -> Params:
        """The pre-trained features and a zero head with ``n_way`` outputs (fresh leaves: nothing
        flows back into the pre-trained weights from a task)."""
        params = {name: value for name, value in self.net.named_parameters() if not name.startswith("head.")}
        weight = self.net.head.weight
        params["head.weight"] = weight.new_zeros(n_way, weight.shape[1])
        params["head.bias"] = weight.new_zeros(n_way)
        return {name: value.detach().requires_grad_() for name, value in params.items()}

    def forward(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        n_way = int(support_y.max()) + 1
        params, _ = adapt(classification_loss(self.net, support_x, support_y), self.start_params(n_way),
                          self.test_steps, self.inner_lr, first_order=True)  # fmt: skip
        return query_logits(self.net, params, support_x, support_y, query_x)

    def explain(self, episode: Episode, steps: int | None = None, inner_lr: float | None = None) -> AdaptationTrace:
        """The same per-step record as ``MAML.explain``; ``inner_lr`` and ``steps`` may be MAML's, to compare."""
        support_x, support_y, query_x, query_y = self.inputs(episode)
        steps = self.test_steps if steps is None else steps
        rate = self.inner_lr if inner_lr is None else inner_lr
        return trace_adaptation(self.net, self.start_params(episode.n_way), learning_rates=rate, support_x=support_x,
                                support_y=support_y, query_x=query_x, query_y=query_y, steps=steps)  # fmt: skip
