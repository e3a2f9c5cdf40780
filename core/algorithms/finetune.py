"""The fine-tuning baseline: a network pre-trained the ordinary way, adapted by gradient steps.

The same architecture as MAML's (``maml.Classifier``, BatchNorm on batch statistics),
trained with cross-entropy over all training classes at once. For a new task its
features are kept, the head is replaced by a zero ``n_way`` head, and the same inner
loop as MAML's adapts every layer. So the only difference from MAML is where
adaptation starts: what the meta-learned initialisation buys is the gap between them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from core.algorithms.base import FewShotAlgorithm
from core.algorithms.maml import AdaptationTrace, Classifier, Params, inner_loop, trace_adaptation
from core.datasets import ClassDataset
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
        params, _ = inner_loop(self.net, self.start_params(n_way), support_x, support_y, self.test_steps,
                               self.inner_lr, first_order=True)  # fmt: skip
        return functional_call(self.net, params, (query_x,))

    def explain(self, episode: Episode, steps: int | None = None, inner_lr: float | None = None) -> AdaptationTrace:
        """The same per-step record as ``MAML.explain``; ``inner_lr`` and ``steps`` may be MAML's, to compare."""
        support_x, support_y, query_x, query_y = self.inputs(episode)
        steps = self.test_steps if steps is None else steps
        rate = self.inner_lr if inner_lr is None else inner_lr
        return trace_adaptation(self.net, self.start_params(episode.n_way), rate, support_x, support_y, query_x,
                                query_y, steps)  # fmt: skip


@dataclass(frozen=True)
class PretrainProgress:
    step: int
    steps: int
    loss: float
    accuracy: float
    seconds: float


def pretrain(
    model: FineTuning,
    dataset: ClassDataset,
    split: str,
    epochs: float = 5,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> Iterator[PretrainProgress]:
    """Train ``model``'s features to classify all of ``split``'s classes; one record per mini-batch.

    ``epochs`` may be fractional (0.1: a tenth of the images).

    Stopping early (not asking for the next record) keeps what was learnt.
    """
    classes = torch.as_tensor(dataset.classes_in(split))
    if len(classes) < 2:
        raise ValueError(f"split {split!r} has {len(classes)} class; pre-training needs at least 2")
    chosen = torch.isin(dataset.labels, classes)
    images, labels = dataset.images[chosen], torch.searchsorted(classes, dataset.labels[chosen])
    preprocessing = model.preprocessing
    expected = (preprocessing.channels, preprocessing.image_size, preprocessing.image_size)
    if tuple(images.shape[1:]) != expected:
        raise ValueError(f"the data set's images are {tuple(images.shape[1:])}; this model takes {expected}")
    generator = torch.Generator().manual_seed(seed)
    device = model.device
    head = nn.Linear(model.net.head.in_features, len(classes)).to(device)
    optimizer = torch.optim.Adam([*model.net.features.parameters(), *head.parameters()], lr=learning_rate)
    steps, step, start = max(1, round(epochs * -(-len(images) // batch_size))), 0, time.perf_counter()
    model.train()
    while step < steps:
        order = torch.randperm(len(images), generator=generator)
        for first in range(0, len(images), batch_size):
            if step == steps:
                break
            batch = order[first : first + batch_size]
            batch_labels = labels[batch].to(device)  # the batch moves in one copy; the data set stays put
            logits = head(model.net.features(preprocessing.normalise(images[batch].to(device))))
            loss = F.cross_entropy(logits, batch_labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            accuracy = (logits.argmax(1) == batch_labels).float().mean().item()
            yield PretrainProgress(step, steps, loss.item(), accuracy, time.perf_counter() - start)
    model.eval()


def choose_adaptation(
    model: FineTuning,
    validation,
    episodes: int = 50,
    steps_options: tuple[int, ...] = (5, 10, 20),
    rate_options: tuple[float, ...] = (0.01, 0.1, 0.4),
) -> dict[tuple[int, float], float]:
    """Set ``model``'s test steps and inner learning rate to the pair that does best on ``validation``
    (an EpisodeSampler of held-out training classes); returns every pair's accuracy.

    Few steps at a large rate can land in a dip of the accuracy curve (5 steps at 0.4
    scored 82% on glyphs where 10 at 0.1 scored 93%), so the pair is measured, not assumed.
    """
    from core.evaluation import evaluate

    scores = {}
    for steps in steps_options:
        for rate in rate_options:
            model.test_steps, model.inner_lr = steps, rate
            scores[steps, rate] = evaluate(model, validation, episodes).mean
    steps, rate = max(scores, key=scores.get)
    model.test_steps, model.inner_lr = steps, rate
    model.settings.update(test_steps=steps, inner_lr=rate)
    return scores
