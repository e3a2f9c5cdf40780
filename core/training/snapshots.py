"""Weights kept at about ten evenly spaced steps of a training run, so that a page can replay training.

A snapshot is a CPU copy of the model's ``state_dict`` after ``step`` optimiser steps (step 0 is
the initialisation). A run of known length keeps every ``stride``-th step with
``stride = ceil(total / (count - 1))``, and the last step when it finishes, so ``count`` snapshots
span the run. When the length is unknown or the run goes on, the kept steps are thinned: once more
than ``count`` are held, the stride doubles and the steps off it are dropped, so between
``count / 2`` and ``count`` evenly spaced snapshots (plus the last step) are ever held.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from core.checkpoints import Snapshot

DEFAULT_COUNT = 10

__all__ = ["DEFAULT_COUNT", "Snapshot", "SnapshotKeeper", "state_copy"]


def state_copy(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of ``model.state_dict()``: later training does not change it."""
    return {name: tensor.detach().to("cpu", copy=True) for name, tensor in model.state_dict().items()}


class SnapshotKeeper:
    """Offer it the model after every step; it keeps about ``count`` evenly spaced snapshots."""

    def __init__(self, count: int = DEFAULT_COUNT, total: int | None = None) -> None:
        if count < 2:
            raise ValueError(f"keep at least 2 snapshots (the start and the end), got {count}")
        self.count = count
        self.stride = max(1, math.ceil(total / (count - 1))) if total else 1
        self._kept: dict[int, dict[str, torch.Tensor]] = {}

    def due(self, step: int) -> bool:
        """Whether ``offer`` would copy the weights at ``step`` (the caller can skip the call otherwise)."""
        return step % self.stride == 0 and step not in self._kept

    def offer(self, step: int, model: nn.Module) -> None:
        """Keep ``model``'s weights after ``step`` steps when the step falls on the stride."""
        if not self.due(step):
            return
        self._kept[step] = state_copy(model)
        while len(self._kept) > self.count:
            self.stride *= 2
            self._kept = {kept: state for kept, state in self._kept.items() if kept % self.stride == 0}

    def finish(self, step: int, model: nn.Module) -> None:
        """Keep the last step's weights too, on the stride or not (the end of training is always shown)."""
        if step not in self._kept:
            self._kept[step] = state_copy(model)

    @property
    def snapshots(self) -> tuple[Snapshot, ...]:
        return tuple(Snapshot(step, self._kept[step]) for step in sorted(self._kept))
