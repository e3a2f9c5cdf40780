"""Prototypical Networks (Snell, Swersky and Zemel, 2017)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from core.algorithms.base import FewShotAlgorithm
from core.backbones import BACKBONES
from core.episodes import Episode
from core.preprocessing import Preprocessing

DISTANCES = ("euclidean", "cosine")


def compute_prototypes(support_embeddings: torch.Tensor, support_y: torch.Tensor, n_way: int) -> torch.Tensor:
    """Class means: embeddings [S, D] and labels [S] in 0..n_way-1 -> prototypes [n_way, D]."""
    sums = torch.zeros(n_way, support_embeddings.shape[1], dtype=support_embeddings.dtype,
                       device=support_embeddings.device).index_add_(0, support_y, support_embeddings)  # fmt: skip
    counts = torch.bincount(support_y, minlength=n_way).clamp_min(1).unsqueeze(1)
    return sums / counts.to(sums.dtype)


def squared_euclidean(queries: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
    """[Q, D] and [C, D] -> [Q, C] squared Euclidean distances (the paper's choice)."""
    return (queries.unsqueeze(1) - prototypes.unsqueeze(0)).pow(2).sum(-1)


def cosine_distance(queries: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
    """[Q, D] and [C, D] -> [Q, C] one minus cosine similarity, in [0, 2]."""
    return 1 - F.normalize(queries, dim=1) @ F.normalize(prototypes, dim=1).T


@dataclass(frozen=True, eq=False)
class PrototypeDistances:
    """One forward pass of a prototype classifier, before the softmax.

    Attributes:
        distances: [Q, n_way] from each query embedding to each class prototype.
        support_embeddings: [S, D].
        query_embeddings: [Q, D].
        prototypes: [n_way, D], the class means of the support embeddings.
    """

    distances: torch.Tensor
    support_embeddings: torch.Tensor
    query_embeddings: torch.Tensor
    prototypes: torch.Tensor


@dataclass(frozen=True, eq=False)
class PrototypeTrace:
    """What Prototypical Networks computed on one episode (all on the CPU)."""

    support_embeddings: torch.Tensor  # [S, D]
    query_embeddings: torch.Tensor  # [Q, D]
    prototypes: torch.Tensor  # [n_way, D]
    distances: torch.Tensor  # [Q, n_way]
    probabilities: torch.Tensor  # [Q, n_way], softmax over -distance (scaled for cosine)
    support_y: torch.Tensor  # [S]
    query_y: torch.Tensor  # [Q]

    @classmethod
    def from_distances(
        cls, computed: PrototypeDistances, logits: torch.Tensor, support_y: torch.Tensor, query_y: torch.Tensor
    ) -> PrototypeTrace:
        """The trace on the CPU; its probabilities are the softmax of ``logits`` [Q, n_way]."""
        return cls(
            support_embeddings=computed.support_embeddings.cpu(), query_embeddings=computed.query_embeddings.cpu(),
            prototypes=computed.prototypes.cpu(), distances=computed.distances.cpu(),
            probabilities=logits.softmax(1).cpu(), support_y=support_y.cpu(), query_y=query_y.cpu(),
        )  # fmt: skip

    @property
    def predictions(self) -> torch.Tensor:
        return self.probabilities.argmax(1)

    @property
    def accuracy(self) -> float:
        return float((self.predictions == self.query_y).float().mean())


class PrototypicalNetworks(FewShotAlgorithm):
    """Prototypical Networks: embed every image, average each class's support embeddings
    into a *prototype*, and classify a query by a softmax over its negative distances to
    the prototypes. With squared Euclidean distance this is a linear classifier in the
    embedding space, and the embedding is all that is learned.
    """

    name = "protonet"

    def __init__(
        self,
        preprocessing: Preprocessing,
        backbone: str = "conv4",
        hidden: int = 64,
        distance: str = "euclidean",
    ) -> None:
        if distance not in DISTANCES:
            raise ValueError(f"distance must be one of {', '.join(DISTANCES)}, got {distance!r}")
        super().__init__(preprocessing, backbone=backbone, hidden=hidden, distance=distance)
        self.backbone = BACKBONES[backbone](preprocessing.channels, hidden)
        self.distance = distance
        # Cosine distances live in [0, 2]; a learned scale lets the softmax become confident.
        self.scale = nn.Parameter(torch.tensor(10.0)) if distance == "cosine" else None

    def distances(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> PrototypeDistances:
        """Images [S, C, H, W] with labels [S] and queries [Q, C, H, W] -> distances to the prototypes."""
        n_way = int(support_y.max()) + 1
        support_embeddings, query_embeddings = self.backbone(torch.cat([support_x, query_x])).split(
            [len(support_x), len(query_x)]
        )
        prototypes = compute_prototypes(support_embeddings, support_y, n_way)
        measure = squared_euclidean if self.distance == "euclidean" else cosine_distance
        distances = measure(query_embeddings, prototypes)
        return PrototypeDistances(distances, support_embeddings, query_embeddings, prototypes)

    @torch.no_grad()
    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images [N, C, H, W] in this model's form -> embeddings [N, D] on the CPU."""
        return self.backbone(self.preprocessing.normalise(images.to(self.device))).cpu()

    def logits(self, distances: torch.Tensor) -> torch.Tensor:
        """Minus the distances (times the learned scale for cosine): the softmax's inputs."""
        return -distances * self.scale if self.scale is not None else -distances

    def forward(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        return self.logits(self.distances(support_x, support_y, query_x).distances)

    @torch.no_grad()
    def explain(self, episode: Episode) -> PrototypeTrace:
        support_x, support_y, query_x, query_y = self.inputs(episode)
        computed = self.distances(support_x, support_y, query_x)
        return PrototypeTrace.from_distances(computed, self.logits(computed.distances), support_y, query_y)
