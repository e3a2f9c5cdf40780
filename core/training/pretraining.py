"""Plain pre-training for the fine-tuning baseline, and the choice of its adaptation on validation classes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from core.algorithms.finetune import FineTuning
from core.datasets import ClassDataset
from core.episodes import EpisodeSampler
from core.evaluation import evaluate


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
    validation: EpisodeSampler,
    episodes: int = 50,
    steps_options: tuple[int, ...] = (5, 10, 20),
    rate_options: tuple[float, ...] = (0.01, 0.1, 0.4),
) -> dict[tuple[int, float], float]:
    """Set ``model``'s test steps and inner learning rate to the pair that does best on ``validation``
    (an EpisodeSampler of held-out training classes); returns every pair's accuracy.

    Few steps at a large rate can land in a dip of the accuracy curve (5 steps at 0.4
    scored 82% on glyphs where 10 at 0.1 scored 93%), so the pair is measured, not assumed.
    """
    scores = {}
    for steps in steps_options:
        for rate in rate_options:
            model.test_steps, model.inner_lr = steps, rate
            scores[steps, rate] = evaluate(model, validation, episodes).mean
    steps, rate = max(scores, key=scores.get)
    model.test_steps, model.inner_lr = steps, rate
    model.settings.update(test_steps=steps, inner_lr=rate)
    return scores
