"""Relation Networks (Sung et al., 2018): a learned comparison instead of a fixed distance."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from core.algorithms.base import FewShotAlgorithm
from core.backbones import conv_block
from core.episodes import Episode
from core.preprocessing import Preprocessing

LOSSES = ("mse", "cross_entropy")


class RelationEmbedding(nn.Module):
    """Four 3x3 conv blocks of ``hidden`` filters; max-pooling after the first two only, and
    no padding in those two (as the reference code): 28x28 -> [hidden, 5, 5], 84x84 -> [hidden, 19, 19]."""

    def __init__(self, in_channels: int, hidden: int = 64) -> None:
        super().__init__()
        self.blocks = nn.Sequential(
            conv_block(in_channels, hidden, pool=True, padding=0),
            conv_block(hidden, hidden, pool=True, padding=0),
            conv_block(hidden, hidden, pool=False),
            conv_block(hidden, hidden, pool=False),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.blocks(images)

    @staticmethod
    def output_side(image_size: int) -> int:
        side = image_size
        for _ in range(2):
            side = (side - 2) // 2
        return side


class RelationModule(nn.Module):
    """Two conv blocks with max-pooling on a pair's concatenated features, then 8 units and 1
    sigmoid unit. Padding 1 for small feature maps (Omniglot's 5x5 would vanish otherwise),
    none for large ones (mini-ImageNet's 19x19 -> 3x3), as in the reference code."""

    def __init__(self, hidden: int, feature_side: int, fc_units: int = 8) -> None:
        super().__init__()
        padding = 1 if feature_side < 10 else 0
        self.blocks = nn.Sequential(
            conv_block(2 * hidden, hidden, pool=True, padding=padding),
            conv_block(hidden, hidden, pool=True, padding=padding),
        )
        side = feature_side
        for _ in range(2):
            side = (side + 2 * padding - 2) // 2
        if side < 1:
            raise ValueError(f"images too small for Relation Networks: features of side {feature_side}")
        self.output_side = side
        self.fc = nn.Sequential(nn.Linear(hidden * side * side, fc_units), nn.ReLU(), nn.Linear(fc_units, 1))

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """[P, 2 * hidden, s, s] -> [P] relation values before the sigmoid."""
        return self.fc(self.blocks(pairs).flatten(1)).squeeze(1)


def class_features(
    support_features: torch.Tensor, support_y: torch.Tensor, n_way: int, train_shots: int | None = None
) -> torch.Tensor:
    """Each class's support feature maps summed over its shots (as the reference code does): [n_way, C, s, s].

    With ``train_shots``, the sum is rescaled to that many shots (``sum * train_shots / K``
    for K shots): a model trained on sums of ``train_shots`` features then sees inputs of
    the size it learnt on at any K. For K = ``train_shots`` this is exactly the sum.
    """
    summed = torch.zeros(n_way, *support_features.shape[1:], dtype=support_features.dtype,
                         device=support_features.device)  # fmt: skip
    summed.index_add_(0, support_y, support_features)
    if train_shots is None:
        return summed
    shots = torch.bincount(support_y, minlength=n_way).clamp_min(1).to(summed.dtype)
    return summed * (train_shots / shots).view(-1, *[1] * (summed.dim() - 1))


def relation_pairs(query_features: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """Every (query, class) pair's features concatenated on channels: [Q * n_way, 2C, s, s], query-major."""
    n_query, n_way = len(query_features), len(classes)
    left = classes.unsqueeze(0).expand(n_query, *classes.shape)
    right = query_features.unsqueeze(1).expand(n_query, n_way, *query_features.shape[1:])
    return torch.cat([left, right], dim=2).flatten(0, 1)


@dataclass(frozen=True, eq=False)
class RelationValues:
    """One forward pass of a Relation Network, before the sigmoid.

    Attributes:
        values: [Q, n_way] pre-sigmoid relation value of each (query, class) pair.
        support_features: [S, C, s, s] embedded support images.
        query_features: [Q, C, s, s] embedded queries.
        class_features: [n_way, C, s, s] each class's support features summed over its shots.
    """

    values: torch.Tensor
    support_features: torch.Tensor
    query_features: torch.Tensor
    class_features: torch.Tensor


@dataclass(frozen=True)
class RelationShapes:
    """The shape of one image's or one pair's tensor at each stage of the network, batch left out."""

    image: tuple[int, ...]  # [channels, H, W]
    embedding: tuple[int, ...]  # [C, s, s]
    class_feature: tuple[int, ...]  # [C, s, s], summed over the shots
    pair: tuple[int, ...]  # [2C, s, s], class and query concatenated on channels
    after_relation_convs: tuple[int, ...]  # [C, r, r], before the fully connected layers


@dataclass(frozen=True, eq=False)
class RelationTrace:
    """What a Relation Network computed on one episode."""

    scores: torch.Tensor  # [Q, n_way] relation scores in [0, 1]
    support_embeddings: torch.Tensor  # [S, D] flattened feature maps
    query_embeddings: torch.Tensor  # [Q, D]
    class_features: torch.Tensor  # [n_way, C, s, s], summed over shots
    support_y: torch.Tensor
    query_y: torch.Tensor
    shapes: RelationShapes

    @property
    def predictions(self) -> torch.Tensor:
        return self.scores.argmax(1)

    @property
    def accuracy(self) -> float:
        return (self.predictions == self.query_y).float().mean().item()


class RelationNetworks(FewShotAlgorithm):
    """Relation Networks embed support and query images, sum each class's support features,
    and let a small network score every (class, query) pair from 0 (unrelated) to 1 (same
    class). Trained with mean squared error against the one-hot match matrix (the paper),
    or cross-entropy over the pre-sigmoid values.

    The paper trains one model per n_shot, because summed features grow with the shots.
    ``train_shots`` (the n_shot the model is trained on) rescales the sums to that size at
    any other n_shot, so one model serves 1 to 10 shots; at n_shot = ``train_shots`` it is
    the paper's sum."""

    name = "relationnet"

    def __init__(self, preprocessing: Preprocessing, hidden: int = 64, fc_units: int = 8, loss: str = "mse",
                 train_shots: int = 1) -> None:  # fmt: skip
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        super().__init__(preprocessing, hidden=hidden, fc_units=fc_units, loss=loss, train_shots=train_shots)
        self.loss_name, self.train_shots = loss, train_shots
        self.embedding = RelationEmbedding(preprocessing.channels, hidden)
        self.relation = RelationModule(hidden, RelationEmbedding.output_side(preprocessing.image_size), fc_units)

    def relation_values(
        self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor
    ) -> RelationValues:
        """Images [S, C, H, W] with labels [S] and queries [Q, C, H, W] -> the pre-sigmoid relation values."""
        n_way = int(support_y.max()) + 1
        features = self.embedding(torch.cat([support_x, query_x]))
        support_features, query_features = features[: len(support_x)], features[len(support_x) :]
        classes = class_features(support_features, support_y, n_way, self.train_shots)
        values = self.relation(relation_pairs(query_features, classes)).view(len(query_x), n_way)
        return RelationValues(values, support_features, query_features, classes)

    def forward(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        """Logits [Q, n_way]: the relation values before the sigmoid (their argmax is the best score's)."""
        return self.relation_values(support_x, support_y, query_x).values

    def loss(self, logits: torch.Tensor, query_y: torch.Tensor) -> torch.Tensor:
        if self.loss_name == "cross_entropy":
            return F.cross_entropy(logits, query_y)
        return relation_mse(torch.sigmoid(logits), query_y)

    @torch.no_grad()
    def image_relations(self, images: torch.Tensor, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """uint8 images [N, C, H, W] in this model's form, index pairs [P] and [P] -> scores [P] on the CPU.

        Score p is r(a, b) with a = images[first[p]] in the class's place, as a class of one shot (scaled
        to ``train_shots`` shots as ``class_features`` does), and b = images[second[p]] in the query's. The
        two are concatenated in that order, so r(a, b) and r(b, a) differ in general.
        """
        features = self.embedding(self.preprocessing.normalise(images.to(self.device)))
        pairs = torch.cat([features[first.to(self.device)] * self.train_shots, features[second.to(self.device)]], 1)
        return torch.sigmoid(self.relation(pairs)).cpu()

    @torch.no_grad()
    def explain(self, episode: Episode) -> RelationTrace:
        support_x, support_y, query_x, query_y = self.inputs(episode)
        computed = self.relation_values(support_x, support_y, query_x)
        classes = computed.class_features
        shapes = RelationShapes(
            image=tuple(support_x.shape[1:]),
            embedding=tuple(computed.support_features.shape[1:]),
            class_feature=tuple(classes.shape[1:]),
            pair=(2 * classes.shape[1], *classes.shape[2:]),
            after_relation_convs=(classes.shape[1], self.relation.output_side, self.relation.output_side),
        )
        return RelationTrace(torch.sigmoid(computed.values).cpu(), computed.support_features.flatten(1).cpu(),
                             computed.query_features.flatten(1).cpu(), classes.cpu(), support_y.cpu(), query_y.cpu(),
                             shapes)  # fmt: skip


def relation_mse(scores: torch.Tensor, query_y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of scores [Q, n_way] against the one-hot matrix of the true classes."""
    return F.mse_loss(scores, F.one_hot(query_y, scores.shape[1]).to(scores.dtype))
