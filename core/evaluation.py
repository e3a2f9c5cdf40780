"""Accuracy over many episodes, with a 95% confidence interval."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Z_95 = 1.959964


@dataclass(frozen=True)
class Accuracy:
    """Mean episode accuracy and the half-width of its 95% confidence interval (both in [0, 1])."""

    mean: float
    ci95: float
    episodes: int

    def __str__(self) -> str:
        return f"{100 * self.mean:.1f} ± {100 * self.ci95:.1f}% ({self.episodes} episodes)"


def accuracy_with_ci(per_episode: list[float] | np.ndarray) -> Accuracy:
    """Mean of per-episode accuracies and the normal-approximation 95% interval of that mean."""
    values = np.asarray(per_episode, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no episodes to average; evaluate at least one episode")
    spread = values.std(ddof=1) if values.size > 1 else 0.0
    return Accuracy(float(values.mean()), float(Z_95 * spread / np.sqrt(values.size)), int(values.size))
