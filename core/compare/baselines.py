"""Baselines that need no training: what meta-learning has to beat."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from core.algorithms.adaptation import Classifier


def pixel_nearest_neighbour(support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
    """Classify each query as the class of its nearest support image in raw pixel space.

    Args:
        support_x: [n_support, C, H, W] images (any dtype).
        support_y: int64 [n_support] labels 0..n_way-1.
        query_x: [n_query_total, C, H, W] images.

    Returns:
        float [n_query_total, n_way] logits: minus the Euclidean distance to the class's
        nearest support image, so ``argmax`` is the nearest-neighbour prediction.
    """
    distances = torch.cdist(query_x.flatten(1).float(), support_x.flatten(1).float())
    n_way = int(support_y.max()) + 1
    nearest = torch.full((len(query_x), n_way), float("inf"))
    nearest = nearest.scatter_reduce(1, support_y.expand_as(distances), distances, reduce="amin")
    return -nearest


def pixel_nearest_neighbour_predict(episode) -> torch.Tensor:
    """Predicted labels [Q] of an episode's queries by nearest neighbour on raw pixels."""
    return pixel_nearest_neighbour(episode.support_x, episode.support_y, episode.query_x).argmax(1)


class TrainFromScratch:
    """The meta-learners' Conv-4 backbone, randomly initialised and trained on the support set alone.

    What a few examples give without any learning across tasks: a fresh ``Classifier``
    per episode (seeded by the episode, so reruns agree), ``steps`` Adam steps on the
    support cross-entropy, then the queries. BatchNorm uses batch statistics, as MAML's.
    The defaults were the best of 20/50/100 steps at 1e-3/1e-2 on glyph background
    classes (5-way 1- and 5-shot); more steps cost time and changed nothing.
    """

    def __init__(self, channels: int = 1, image_size: int = 28, steps: int = 20, learning_rate: float = 1e-3,
                 hidden: int = 64) -> None:  # fmt: skip
        self.channels, self.image_size, self.hidden = channels, image_size, hidden
        self.steps, self.learning_rate = steps, learning_rate

    def parameter_count(self, n_way: int) -> int:
        return sum(p.numel() for p in Classifier(self.channels, self.image_size, n_way, self.hidden).parameters())

    def predict(self, episode) -> torch.Tensor:
        """Predicted labels [Q] of ``episode``'s queries."""
        support_x, query_x = _standardise(episode.support_x, episode.query_x)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(1_000_003 * episode.seed + episode.index)
            net = Classifier(self.channels, self.image_size, episode.n_way, self.hidden)
        optimizer = torch.optim.Adam(net.parameters(), lr=self.learning_rate)
        with torch.enable_grad():
            for _ in range(self.steps):
                loss = F.cross_entropy(net(support_x), episode.support_y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        with torch.no_grad():
            return net(query_x).argmax(1)


def _standardise(support_x: torch.Tensor, query_x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images -> floats with the support set's mean 0 and standard deviation 1."""
    support, query = support_x.float() / 255, query_x.float() / 255
    mean, std = support.mean(), support.std().clamp_min(1e-6)
    return (support - mean) / std, (query - mean) / std
