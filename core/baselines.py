"""Baselines that need no training: what meta-learning has to beat."""

from __future__ import annotations

import torch


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
