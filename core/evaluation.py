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


def default_episodes(dataset_name: str) -> int:
    """1000 test episodes for Omniglot (as the papers), 600 elsewhere."""
    return 1000 if dataset_name.startswith("omniglot") else 600


def evaluate(algorithm, sampler, episodes: int, on_episode=None) -> Accuracy:
    """Accuracy of ``algorithm`` (in eval mode) on episodes 0..episodes-1 of ``sampler``.

    The episodes depend only on the sampler's seed, so two models evaluated with equal
    samplers are compared on exactly the same tasks. ``on_episode(i, accuracy)`` is
    called after each episode (for progress bars).
    """
    was_training = algorithm.training
    algorithm.eval()
    try:
        return evaluate_predictor(algorithm.predict_episode, sampler, episodes, on_episode)
    finally:
        algorithm.train(was_training)


def evaluate_predictor(predict, sampler, episodes: int, on_episode=None) -> Accuracy:
    """Accuracy of any ``predict(episode) -> labels [Q]`` (a baseline, say) on the same seeded episodes."""
    accuracies = []
    for index in range(episodes):
        episode = sampler.episode(index)
        accuracies.append(float((predict(episode).cpu() == episode.query_y).float().mean()))
        if on_episode is not None:
            on_episode(index, accuracies[-1])
    return accuracy_with_ci(accuracies)


def held_out_test(
    algorithm, dataset, split: str, n_shot: int, episodes: int, n_way: int | None = None
) -> tuple[str, dict]:
    """The record a checkpoint's ``test_accuracy`` keeps for one cell: ``("5-way 1-shot", {...})``.

    Seeded episodes (seed 0, 15 queries per class) of ``split``, at ``n_way`` (default the
    model's own: MAML's head fixes it; the others are tested 5-way), so retests reproduce the figure.
    """
    from core.episodes import EpisodeSampler

    n_way = n_way or algorithm.settings.get("n_way", 5)
    result = evaluate(algorithm, EpisodeSampler(dataset, split, n_way, n_shot, 15, seed=0), episodes)
    record = {"mean": result.mean, "ci95": result.ci95, "episodes": result.episodes, "split": split}
    return f"{n_way}-way {n_shot}-shot", record
