"""Push the prototypes: change a Prototypical Network's support set and see every decision move.

An episode is embedded once (its support and query images and a few outlier candidates from
classes outside it) and one PCA plane is fitted to all of it, so no change rotates the map. A
*push* keeps or drops support images, gives outliers to classes they do not belong to and adds
the visitor's drawings; prototypes are then means in the embedding space, every query is
classified by the model's own distance to them in all D dimensions, and the map's regions are
the model's decisions for the embeddings lying in the plane.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from core.algorithms.protonet import PrototypeTrace, PrototypicalNetworks, cosine_distance, squared_euclidean
from core.datasets import ClassDataset
from core.episodes import Episode
from core.figures.projection import Plane, grid_over, nearest_in_plane

MEASURES = {"euclidean": squared_euclidean, "cosine": cosine_distance}
# How the map's regions are drawn: "plane", the nearest projected prototype (what the eye reads; each
# star lies in its own region); "slice", the model's own decision, measured in all D dimensions, for an
# embedding lying in the plane (exact there, but queries lie off the plane).
REGIONS = ("plane", "slice")


@dataclass(frozen=True, eq=False)
class PushSpace:
    """One episode's embeddings and the plane fitted to all of them (``push_space`` makes one)."""

    support_embeddings: torch.Tensor  # [S, D], grouped by class as in the episode
    support_y: torch.Tensor  # [S]
    query_embeddings: torch.Tensor  # [Q, D]
    query_y: torch.Tensor  # [Q]
    extra_embeddings: torch.Tensor  # [E, D], outlier candidates from classes outside the episode
    distance: str  # "euclidean" or "cosine", the model's
    plane: Plane
    n_way: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_way", int(self.support_y.max()) + 1)

    @property
    def pool(self) -> torch.Tensor:
        """Outlier candidates [S + E, D]: the support images, then the extra images."""
        return torch.cat([self.support_embeddings, self.extra_embeddings])


def push_space(model: PrototypicalNetworks, episode: Episode, extra_x: torch.Tensor | None = None) -> PushSpace:
    """Embed ``episode`` (images in the model's form) and ``extra_x`` [E, C, H, W]; fit the plane to all."""
    extra_x = episode.support_x[:0] if extra_x is None else extra_x
    embeddings = model.embed(torch.cat([episode.support_x, episode.query_x, extra_x]))
    support, query, extra = embeddings.split([len(episode.support_x), len(episode.query_x), len(extra_x)])
    return PushSpace(
        support, episode.support_y, query, episode.query_y, extra, model.distance, Plane(embeddings.double().numpy())
    )


@dataclass(frozen=True)
class Push:
    """What the visitor changed.

    Attributes:
        kept: per support image, whether it is still in its class (None: all are).
        outliers: (pool index, class) pairs: that candidate (``PushSpace.pool``) joins that class.
    """

    kept: tuple[bool, ...] | None = None
    outliers: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, eq=False)
class PushTrace:
    """The episode after a push, in full dimension and in the plane.

    Coordinates are [N, 2] in the plane; classes without any image have no prototype (NaN
    coordinates, infinite distance). ``sampled_*`` is the episode as sampled, for comparison.
    """

    member_coords: np.ndarray  # [M, 2], every image the prototypes average
    member_y: np.ndarray  # [M]
    member_kind: np.ndarray  # [M], "support", "outlier" or "drawing"
    dropped_coords: np.ndarray  # [L, 2], support images ticked out
    dropped_y: np.ndarray  # [L]
    query_coords: np.ndarray  # [Q, 2]
    query_y: np.ndarray  # [Q]
    distances: np.ndarray  # [Q, n_way], the model's, in all D dimensions
    predictions: np.ndarray  # [Q], -1 while no class has a prototype
    prototype_coords: np.ndarray  # [n_way, 2]
    sampled_prototype_coords: np.ndarray  # [n_way, 2]
    sampled_predictions: np.ndarray  # [Q]
    xs: np.ndarray  # [R]
    ys: np.ndarray  # [R]
    regions: np.ndarray  # [R, R] class of each plane cell (rows follow ys), -1 without prototypes
    region_at_query: np.ndarray  # [Q] the region each projected query falls in
    explained: float  # share of the embeddings' variance the plane shows
    members: torch.Tensor  # [M, D], the embeddings behind member_coords
    prototypes: torch.Tensor  # [n_way, D], zero where a class has no image

    @property
    def accuracy(self) -> float:
        return float((self.predictions == self.query_y).mean())

    @property
    def sampled_accuracy(self) -> float:
        return float((self.sampled_predictions == self.query_y).mean())

    @property
    def n_changed(self) -> int:
        """Queries whose prediction differs from the episode as sampled."""
        return int((self.predictions != self.sampled_predictions).sum())

    @property
    def agreement(self) -> int:
        """Queries drawn inside the region of the class the model gives them."""
        return int((self.region_at_query == self.predictions).sum())

    @property
    def has_prototype(self) -> np.ndarray:
        return ~np.isnan(self.prototype_coords[:, 0])


def push(
    space: PushSpace,
    change: Push = Push(),
    drawings: torch.Tensor | None = None,
    drawing_y: torch.Tensor | None = None,
    resolution: int = 80,
    regions: str = "plane",
) -> PushTrace:
    """Recompute prototypes, predictions and regions (one of ``REGIONS``) after ``change`` and the drawings'
    embeddings [G, D] with their classes [G]."""
    if regions not in REGIONS:
        raise ValueError(f"regions must be one of {', '.join(REGIONS)}, got {regions!r}")
    n_support, n_way = len(space.support_y), space.n_way
    kept = torch.ones(n_support, dtype=torch.bool) if change.kept is None else torch.tensor(change.kept)
    if kept.shape != (n_support,):
        raise ValueError(f"kept needs one flag per support image ({n_support}), got {len(kept)}")
    drawings = space.support_embeddings[:0] if drawings is None else drawings
    drawing_y = space.support_y[:0] if drawing_y is None else torch.as_tensor(drawing_y, dtype=torch.long)
    pool_index = torch.tensor([i for i, _ in change.outliers], dtype=torch.long)
    outlier_y = torch.tensor([k for _, k in change.outliers], dtype=torch.long)
    _check_range(pool_index, len(space.pool), "outlier candidate")
    _check_range(torch.cat([outlier_y, drawing_y]), n_way, "class")
    members = torch.cat([space.support_embeddings[kept], space.pool[pool_index], drawings])
    member_y = torch.cat([space.support_y[kept], outlier_y, drawing_y])
    kinds = ["support"] * int(kept.sum()) + ["outlier"] * len(pool_index) + ["drawing"] * len(drawings)
    prototypes, present = _class_means(members, member_y, n_way)
    distances = _distances(space, prototypes, present)
    sampled, _ = _class_means(space.support_embeddings, space.support_y, n_way)
    plane = space.plane
    every = plane.project(torch.cat([space.pool, space.query_embeddings, drawings]).double().numpy())
    xs, ys = grid_over(every, resolution)
    grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    query_coords = plane.project(space.query_embeddings.double().numpy())
    prototype_coords = np.full((n_way, 2), np.nan)
    prototype_coords[present.numpy()] = plane.project(prototypes[present].double().numpy())
    decide = (
        (lambda points: _plane_decisions(plane, points, prototypes, present, space.distance))
        if regions == "slice"
        else (lambda points: _nearest_projected(points, prototype_coords))
    )
    return PushTrace(
        member_coords=plane.project(members.double().numpy()),
        member_y=member_y.numpy(),
        member_kind=np.array(kinds),
        dropped_coords=plane.project(space.support_embeddings[~kept].double().numpy()),
        dropped_y=space.support_y[~kept].numpy(),
        query_coords=query_coords,
        query_y=space.query_y.numpy(),
        distances=distances.numpy(),
        predictions=_nearest(distances, present),
        prototype_coords=prototype_coords,
        sampled_prototype_coords=plane.project(sampled.double().numpy()),
        sampled_predictions=_distances(space, sampled, torch.ones(n_way, dtype=torch.bool)).argmin(1).numpy(),
        xs=xs,
        ys=ys,
        regions=decide(grid).reshape(len(ys), -1),
        region_at_query=decide(query_coords),
        explained=plane.explained,
        members=members,
        prototypes=prototypes,
    )


def as_prototype_trace(trace: PushTrace, space: PushSpace, model: PrototypicalNetworks) -> PrototypeTrace:
    """The push as the model's own ``PrototypeTrace`` (probabilities from its logits; a class without a
    prototype gets probability 0), so every chart of the page can follow it."""
    distances = torch.from_numpy(trace.distances).float()
    present = torch.from_numpy(trace.has_prototype)
    logits = model.logits(distances.masked_fill(~present, 0)).masked_fill(~present, float("-inf"))
    probabilities = logits.softmax(1) if present.any() else torch.zeros_like(distances)
    return PrototypeTrace(
        trace.members,
        space.query_embeddings,
        trace.prototypes,
        distances,
        probabilities.detach(),
        torch.from_numpy(trace.member_y),
        space.query_y,
    )


def settle(space: PushSpace, n_shot: int, regions: str = "plane", resolution: int = 60) -> list[PushTrace]:
    """The prototypes from the first 1, 2, ..., ``n_shot`` support images of each class (an episode with
    ``n_shot`` shots grouped by class, as sampled): one trace per number of shots."""
    shot = np.arange(len(space.support_y)) % n_shot
    return [
        push(space, Push(kept=tuple(bool(s < k) for s in shot)), resolution=resolution, regions=regions)
        for k in range(1, n_shot + 1)
    ]


def _class_means(embeddings: torch.Tensor, labels: torch.Tensor, n_way: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Prototypes [n_way, D] (zero where a class has no image) and which classes have one [n_way]."""
    counts = torch.bincount(labels, minlength=n_way)
    sums = torch.zeros(n_way, embeddings.shape[1], dtype=embeddings.dtype).index_add_(0, labels, embeddings)
    return sums / counts.clamp_min(1).unsqueeze(1).to(sums.dtype), counts > 0


def _distances(space: PushSpace, prototypes: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    distances = MEASURES[space.distance](space.query_embeddings, prototypes)
    return distances.masked_fill(~present.unsqueeze(0), float("inf"))


def _nearest(distances: torch.Tensor, present: torch.Tensor) -> np.ndarray:
    if not present.any():
        return np.full(len(distances), -1)
    return distances.argmin(1).numpy()


def _plane_decisions(
    plane: Plane, coords: np.ndarray, prototypes: torch.Tensor, present: torch.Tensor, distance: str
) -> np.ndarray:
    """The model's class for the embedding at each plane point [N, 2] (-1 while no class has a prototype)."""
    if not present.any():
        return np.full(len(coords), -1)
    classes = present.nonzero().flatten().numpy()
    measured = plane.distances_from_plane(coords, prototypes[present].double().numpy(), distance)
    return classes[measured.argmin(1)]


def _nearest_projected(coords: np.ndarray, prototype_coords: np.ndarray) -> np.ndarray:
    """The class of the nearest projected prototype to each plane point (-1 while there is none)."""
    classes = np.flatnonzero(~np.isnan(prototype_coords[:, 0]))
    if not len(classes):
        return np.full(len(coords), -1)
    return classes[nearest_in_plane(coords, prototype_coords[classes])]


def _check_range(values: torch.Tensor, size: int, what: str) -> None:
    bad = values[(values < 0) | (values >= size)]
    if len(bad):
        raise ValueError(f"{what} {int(bad[0])} does not exist: choose one from 0 to {size - 1}")


def outside_images(
    dataset: ClassDataset, split: str, class_ids: tuple[int, ...], count: int, seed: int
) -> tuple[torch.Tensor, tuple[str, ...]]:
    """One image from each of up to ``count`` classes of ``split`` outside ``class_ids``, with the class names."""
    taken = set(class_ids)
    classes = np.array([c for c in dataset.classes_in(split) if int(c) not in taken], dtype=np.int64)
    rng = np.random.default_rng([seed, 1])
    chosen = classes[rng.choice(len(classes), size=min(count, len(classes)), replace=False)]
    rows = [int(dataset.class_offsets[c] + rng.integers(dataset.class_counts[c])) for c in chosen]
    return dataset.images[rows], tuple(dataset.class_names[c] for c in chosen)


def same_classes_episode(dataset: ClassDataset, episode: Episode, n_shot: int) -> Episode:
    """An episode of ``episode``'s classes with ``n_shot`` support images each and as many queries per class,
    drawn afresh (seeded by the episode's seed and index); supports grouped by class, shots in order."""
    per_class = n_shot + episode.n_query
    counts = [int(dataset.class_counts[c]) for c in episode.class_ids]
    if min(counts) < per_class:
        raise ValueError(
            f"{n_shot} shots and {episode.n_query} queries need {per_class} images per class, but a "
            f"class of this episode has {min(counts)}: lower n_query to {min(counts) - n_shot} or less"
        )
    rng = np.random.default_rng([episode.seed, episode.index, 2])
    rows = torch.tensor(
        np.stack(
            [
                dataset.class_offsets[c] + rng.choice(n, size=per_class, replace=False)
                for c, n in zip(episode.class_ids, counts, strict=True)
            ]
        )
    )
    n_way = episode.n_way
    return replace(
        episode,
        support_x=dataset.images[rows[:, :n_shot].reshape(-1)],
        support_y=torch.arange(n_way).repeat_interleave(n_shot),
        query_x=dataset.images[rows[:, n_shot:].reshape(-1)],
        query_y=torch.arange(n_way).repeat_interleave(episode.n_query),
    )
