"""The relation probe's trace: Relation Networks' learned score beside a fixed distance, pair by pair."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.algorithms.relationnet import RelationNetworks


@dataclass(frozen=True, eq=False)
class PairComparison:
    """Relation scores beside a fixed distance, for ordered pairs (a, b) of one episode's images.

    The first half of the pairs are (a, b), the second half the same pairs reversed (b, a).

    Attributes:
        first, second: [P] indices of a and b in the episode's images (support first, then queries).
        relation: [P] r(a, b), a in the class's place (``RelationNetworks.image_relations``).
        distance: [P] squared Euclidean distance of a's and b's embeddings by another model; symmetric.
        same_class: [P] whether a and b share a class.
        n_ordered_pairs: how many ordered pairs the images have (P is a sample of them when smaller).
    """

    first: torch.Tensor
    second: torch.Tensor
    relation: torch.Tensor
    distance: torch.Tensor
    same_class: torch.Tensor
    n_ordered_pairs: int

    @property
    def asymmetry(self) -> torch.Tensor:
        """[P / 2] |r(a, b) - r(b, a)| of each pair."""
        half = len(self.relation) // 2
        return (self.relation[:half] - self.relation[half:]).abs()

    @property
    def relation_separation(self) -> float:
        """How well the relation score tells same-class pairs from the others (``separation``)."""
        return separation(self.relation, self.same_class)

    @property
    def distance_separation(self) -> float:
        """How well a small distance tells same-class pairs from the others (``separation``)."""
        return separation(-self.distance, self.same_class)

    def standing(self, level: float = 0.05) -> tuple[torch.Tensor, torch.Tensor]:
        """([P] closeness, [P] relatedness): the share of the pairs each pair is closer than by the distance,
        and the share it scores above by the relation score; where the two differ, they disagree.

        Relation scores within ``level`` of each other count as level: the score saturates near 0 and 1,
        where differences of a few thousandths would otherwise decide the ranking."""
        closeness = (self.distance.unsqueeze(1) < self.distance.unsqueeze(0)).float().mean(1)
        relatedness = (self.relation.unsqueeze(1) - level > self.relation.unsqueeze(0)).float().mean(1)
        return closeness, relatedness

    @property
    def most_disputed(self) -> int:
        """The pair whose standing differs most between the distance and the relation score."""
        closeness, relatedness = self.standing()
        return int((closeness - relatedness).abs().argmax())


def ordered_pairs(n_images: int, max_pairs: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (first [P], second [P]) of every pair of ``n_images`` distinct images, the pairs (a, b) then
    the same pairs as (b, a); a seeded sample of max_pairs // 2 pairs when there are more."""
    first, second = torch.triu_indices(n_images, n_images, offset=1)
    if len(first) > max_pairs // 2:
        keep = torch.randperm(len(first), generator=torch.Generator().manual_seed(seed))[: max_pairs // 2].sort()
        first, second = first[keep.values], second[keep.values]
    return torch.cat([first, second]), torch.cat([second, first])


def compare_pairs(
    model: RelationNetworks, images: torch.Tensor, embeddings: torch.Tensor, labels: torch.Tensor, max_pairs: int
) -> PairComparison:
    """Relation scores and squared distances for the ordered pairs of ``ordered_pairs``.

    Args:
        images: uint8 [N, C, H, W], the episode's images in ``model``'s form.
        embeddings: [N, D] the same images embedded by the model that measures distances (e.g. ProtoNet).
        labels: [N] their classes.
        max_pairs: the most ordered pairs to score (each costs one pass of the relation module).
    """
    if not len(images) == len(embeddings) == len(labels) >= 2:
        raise ValueError(f"need as many images, embeddings and labels, at least 2; got "
                         f"{len(images)}, {len(embeddings)} and {len(labels)}")  # fmt: skip
    first, second = ordered_pairs(len(images), max_pairs)
    distance = (embeddings[first] - embeddings[second]).pow(2).sum(1)
    relation = model.image_relations(images, first, second)
    n = len(images)
    return PairComparison(first, second, relation, distance, labels[first] == labels[second], n * (n - 1))


def separation(scores: torch.Tensor, positive: torch.Tensor) -> float:
    """The chance that a random positive scores above a random negative, ties counting half (the ROC AUC);
    NaN without both kinds."""
    pos, neg = scores[positive], scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    above = (pos.unsqueeze(1) > neg.unsqueeze(0)).float() + 0.5 * (pos.unsqueeze(1) == neg.unsqueeze(0)).float()
    return float(above.mean())
