import torch

from core.compare.baselines import pixel_nearest_neighbour
from core.evaluation import accuracy_with_ci


def test_each_query_goes_to_the_class_of_its_nearest_support_image():
    support = torch.tensor([0.0, 10.0, 4.0, 20.0]).view(4, 1, 1, 1)
    labels = torch.tensor([0, 0, 1, 1])
    queries = torch.tensor([9.0, 5.0, 30.0]).view(3, 1, 1, 1)
    logits = pixel_nearest_neighbour(support, labels, queries)
    assert logits.argmax(1).tolist() == [0, 1, 1]
    assert logits[0].tolist() == [-1.0, -5.0]


def test_identical_queries_are_classified_perfectly(small_glyphs):
    from core.episodes import EpisodeSampler

    episode = EpisodeSampler(small_glyphs, "evaluation", 5, 2, 1).episode(0)
    logits = pixel_nearest_neighbour(episode.support_x, episode.support_y, episode.support_x)
    assert torch.equal(logits.argmax(1), episode.support_y)


def test_confidence_interval_of_the_mean():
    accuracy = accuracy_with_ci([0.5, 0.7, 0.6, 0.6])
    assert abs(accuracy.mean - 0.6) < 1e-12 and accuracy.episodes == 4
    assert abs(accuracy.ci95 - 1.959964 * 0.0816497 / 2) < 1e-6
    assert str(accuracy) == "60.0 ± 8.0% (4 episodes)"
