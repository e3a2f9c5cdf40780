"""The relation probe's trace: ordered pairs, relation scores beside a distance, who disagrees where."""

import math

import pytest
import torch

from core.algorithms import RelationNetworks
from core.algorithms.relation_probe import PairComparison, compare_pairs, ordered_pairs, separation
from core.episodes import EpisodeSampler
from core.preprocessing import Preprocessing


def one_shot_images(small_glyphs, train_shots: int = 1):
    """An untrained model with ``train_shots``, a 4-way 1-shot episode, its images (support, then queries)."""
    torch.manual_seed(0)
    model = RelationNetworks(Preprocessing(), hidden=8, train_shots=train_shots).eval()
    episode = EpisodeSampler(small_glyphs, "evaluation", 4, 1, 2, seed=0).episode(0)
    return model, episode, torch.cat([episode.support_x, episode.query_x])


def test_ordered_pairs_keep_each_pair_in_both_orders_and_sample_when_there_are_too_many():
    first, second = ordered_pairs(4, max_pairs=100)
    assert sorted(zip(first.tolist(), second.tolist())) == [(a, b) for a in range(4) for b in range(4) if a != b]
    half = len(first) // 2
    assert torch.equal(first[:half], second[half:]) and torch.equal(second[:half], first[half:])
    sampled = ordered_pairs(30, max_pairs=40)
    assert len(sampled[0]) == 40 and (sampled[0] != sampled[1]).all()
    assert len(set(zip(sampled[0].tolist(), sampled[1].tolist()))) == 40  # no pair twice
    assert all(torch.equal(a, b) for a, b in zip(sampled, ordered_pairs(30, max_pairs=40)))  # seeded


def test_compare_pairs_puts_relation_scores_beside_a_symmetric_distance(small_glyphs):
    model, episode, images = one_shot_images(small_glyphs)
    labels = torch.cat([episode.support_y, episode.query_y])
    embeddings = torch.randn(len(images), 5)
    comparison = compare_pairs(model, images, embeddings, labels, max_pairs=1000)
    n = len(images)
    assert comparison.n_ordered_pairs == n * (n - 1) == len(comparison.relation)
    torch.testing.assert_close(comparison.relation, model.image_relations(images, comparison.first, comparison.second))
    a, b = comparison.first[5], comparison.second[5]
    torch.testing.assert_close(comparison.distance[5], ((embeddings[a] - embeddings[b]) ** 2).sum())
    half = n * (n - 1) // 2
    torch.testing.assert_close(comparison.distance[:half], comparison.distance[half:])
    torch.testing.assert_close(comparison.asymmetry, (comparison.relation[:half] - comparison.relation[half:]).abs())
    assert torch.equal(comparison.same_class, labels[comparison.first] == labels[comparison.second])
    assert comparison.same_class.sum() == 4 * 2 * 3  # 4 classes of 3 images: 3 pairs each, both orders
    assert 0 <= comparison.relation_separation <= 1 and 0 <= comparison.distance_separation <= 1


def test_compare_pairs_refuses_images_embeddings_and_labels_of_different_lengths(small_glyphs):
    model, _, images = one_shot_images(small_glyphs)
    with pytest.raises(ValueError, match="need as many images, embeddings and labels"):
        compare_pairs(model, images, torch.zeros(3, 5), torch.zeros(len(images), dtype=torch.long), max_pairs=10)


def test_separation_is_the_chance_a_positive_outscores_a_negative():
    positive = torch.tensor([True, True, False, False])
    assert separation(torch.tensor([0.9, 0.8, 0.1, 0.2]), positive) == 1
    assert separation(torch.tensor([0.1, 0.2, 0.9, 0.8]), positive) == 0
    assert separation(torch.tensor([0.9, 0.1, 0.5, 0.5]), positive) == 0.5
    assert separation(torch.ones(4), positive) == 0.5  # ties count half
    assert math.isnan(separation(torch.ones(2), torch.tensor([True, True])))  # no negative to beat


def test_standing_ranks_each_pair_by_distance_and_by_relation_and_names_where_they_disagree():
    fields = {
        "first": torch.tensor([0, 1, 2, 1, 2, 0]), "second": torch.tensor([1, 2, 0, 0, 1, 2]),
        "relation": torch.tensor([0.9, 0.95, 0.5, 0.8, 0.2, 0.4]), "distance": torch.tensor([1.0, 9.0, 2.0] * 2),
        "same_class": torch.tensor([True, False, False] * 2), "n_ordered_pairs": 6,
    }  # fmt: skip
    comparison = PairComparison(**fields)
    closeness, relatedness = comparison.standing(level=0)
    torch.testing.assert_close(closeness, torch.tensor([4, 0, 2, 4, 0, 2]) / 6)  # closer than 4 of 6 pairs
    torch.testing.assert_close(relatedness, torch.tensor([4, 5, 2, 3, 0, 1]) / 6)
    _, level = comparison.standing(level=0.12)  # 0.9 and 0.8 now count as level, and 0.5 and 0.4
    torch.testing.assert_close(level, torch.tensor([3, 4, 1, 3, 0, 1]) / 6)
    assert comparison.most_disputed == 1  # the farthest pair, yet the highest relation score
