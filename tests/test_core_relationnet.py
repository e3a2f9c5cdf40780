import pytest
import torch
from torch.nn import functional as F

from core.algorithms import RelationNetworks
from core.algorithms.relationnet import class_features, relation_mse, relation_pairs
from core.compare.baselines import pixel_nearest_neighbour_predict
from core.episodes import EpisodeSampler
from core.evaluation import evaluate, evaluate_predictor
from core.preprocessing import Preprocessing, fitted_preprocessing
from core.training import TrainConfig, train


@pytest.mark.parametrize(("channels", "size"), [(1, 28), (3, 28), (1, 84), (3, 84)])
def test_scores_lie_in_0_1_with_one_per_query_and_class(channels, size):
    torch.manual_seed(0)
    model = RelationNetworks(Preprocessing(image_size=size, channels=channels), hidden=8).eval()
    support_x, query_x = torch.randn(6, channels, size, size), torch.randn(4, channels, size, size)
    support_y = torch.tensor([0, 0, 1, 1, 2, 2])
    logits = model(support_x, support_y, query_x)
    assert logits.shape == (4, 3)
    scores = torch.sigmoid(logits)
    assert ((scores >= 0) & (scores <= 1)).all()


def test_relation_values_name_the_logits_and_the_features_they_came_from():
    torch.manual_seed(0)
    model = RelationNetworks(Preprocessing(), hidden=8, train_shots=2).eval()
    support_x, query_x = torch.randn(6, 1, 28, 28), torch.randn(4, 1, 28, 28)
    support_y = torch.tensor([0, 0, 1, 1, 2, 2])
    computed = model.relation_values(support_x, support_y, query_x)
    assert computed.values.shape == (4, 3)
    assert computed.support_features.shape == (6, 8, 5, 5) and computed.query_features.shape == (4, 8, 5, 5)
    torch.testing.assert_close(computed.class_features, class_features(computed.support_features, support_y, 3))
    torch.testing.assert_close(computed.values, model(support_x, support_y, query_x))


def test_class_features_sum_the_shots_and_pairs_match_a_direct_computation():
    torch.manual_seed(0)
    features, labels = torch.randn(6, 4, 2, 2), torch.tensor([1, 0, 1, 2, 0, 2])
    summed = class_features(features, labels, 3)
    for k in range(3):
        torch.testing.assert_close(summed[k], features[labels == k].sum(0))
    queries = torch.randn(5, 4, 2, 2)
    pairs = relation_pairs(queries, summed)
    assert pairs.shape == (15, 8, 2, 2)
    q, k = 3, 2
    torch.testing.assert_close(pairs[q * 3 + k], torch.cat([summed[k], queries[q]]))


def test_sums_are_rescaled_to_the_shots_the_model_was_trained_on():
    torch.manual_seed(0)
    features, labels = torch.randn(10, 4, 2, 2), torch.arange(2).repeat_interleave(5)
    summed = class_features(features, labels, 2)
    torch.testing.assert_close(class_features(features, labels, 2, train_shots=5), summed)  # K = train_shots
    torch.testing.assert_close(class_features(features, labels, 2, train_shots=1), summed / 5)  # the mean
    model = RelationNetworks(Preprocessing(), hidden=8, train_shots=1).eval()
    support, query = torch.randn(2, 1, 28, 28), torch.randn(3, 1, 28, 28)
    five_copies = support.repeat_interleave(5, 0)  # five identical shots: same class features as one
    torch.testing.assert_close(model(five_copies, labels, query), model(support, torch.arange(2), query))


def test_mse_is_minimised_by_the_true_one_hot_matrix():
    query_y = torch.tensor([0, 2, 1, 1])
    truth = F.one_hot(query_y, 3).float()
    assert relation_mse(truth, query_y).item() == 0
    torch.manual_seed(0)
    for _ in range(20):
        assert relation_mse(torch.rand(4, 3), query_y) > 0
    nearly = truth.clone().requires_grad_()
    relation_mse(nearly, query_y).backward()
    assert nearly.grad.abs().sum() == 0  # a minimum: no gradient at the true matrix


def test_cross_entropy_is_an_option_and_bad_losses_are_refused():
    torch.manual_seed(0)
    model = RelationNetworks(Preprocessing(), hidden=8, loss="cross_entropy")
    logits, labels = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    torch.testing.assert_close(model.loss(logits, labels), F.cross_entropy(logits, labels))
    with pytest.raises(ValueError, match="loss must be one of mse, cross_entropy"):
        RelationNetworks(Preprocessing(), loss="hinge")


def test_explain_returns_the_score_matrix_embeddings_and_shapes(small_glyphs):
    torch.manual_seed(0)
    model = RelationNetworks(Preprocessing(), hidden=8).eval()
    episode = EpisodeSampler(small_glyphs, "evaluation", 4, 2, 3, seed=0).episode(0)
    trace = model.explain(episode)
    assert trace.scores.shape == (12, 4) and trace.class_features.shape == (4, 8, 5, 5)
    assert trace.support_embeddings.shape == (8, 200) and trace.query_embeddings.shape == (12, 200)
    assert trace.shapes.image == (1, 28, 28) and trace.shapes.class_feature == (8, 5, 5)
    assert trace.shapes.embedding == (8, 5, 5) and trace.shapes.pair == (16, 5, 5)
    assert trace.shapes.after_relation_convs == (8, 1, 1)
    torch.testing.assert_close(trace.predictions, model.predict_episode(episode).cpu())


def one_shot_images(small_glyphs, train_shots: int = 1):
    """An untrained model with ``train_shots``, a 4-way 1-shot episode, its images (support, then queries)."""
    torch.manual_seed(0)
    model = RelationNetworks(Preprocessing(), hidden=8, train_shots=train_shots).eval()
    episode = EpisodeSampler(small_glyphs, "evaluation", 4, 1, 2, seed=0).episode(0)
    return model, episode, torch.cat([episode.support_x, episode.query_x])


@pytest.mark.parametrize("train_shots", [1, 3])
def test_image_relations_of_a_support_image_and_a_query_are_the_heat_maps_scores(small_glyphs, train_shots):
    model, episode, images = one_shot_images(small_glyphs, train_shots)
    scores = model.explain(episode).scores  # [query, class]; one shot: class k is support image k
    n_support, n_query = len(episode.support_y), len(episode.query_y)
    shuffled = torch.tensor([2, 0, 3, 1])  # support images in another order than their classes
    classes = shuffled.repeat(n_query)
    queries = torch.arange(n_query).repeat_interleave(n_support) + n_support
    computed = model.image_relations(images, classes, queries).view(n_query, n_support)
    torch.testing.assert_close(computed, scores[:, episode.support_y[shuffled]])


def test_image_relations_depend_on_the_order_of_the_pair(small_glyphs):
    model, _, images = one_shot_images(small_glyphs)
    first, second = torch.tensor([0, 1, 0]), torch.tensor([1, 0, 0])
    forward, backward, itself = model.image_relations(images, first, second)
    assert forward != backward  # the concatenation puts a's features first: r(a, b) is not r(b, a)
    features = model.embedding(model.preprocessing.normalise(images[:2]))
    by_hand = torch.sigmoid(model.relation(torch.cat([features[1:2], features[0:1]], 1)))
    torch.testing.assert_close(backward.view(1), by_hand.detach())
    assert 0 <= itself <= 1


@pytest.mark.slow
def test_a_short_training_run_on_glyphs_beats_pixel_nearest_neighbour(small_glyphs):
    torch.manual_seed(0)
    model = RelationNetworks(fitted_preprocessing(small_glyphs.split_images("background"), bright_on_dark=True))
    sampler = EpisodeSampler(small_glyphs, "background", 5, 1, 5, seed=0)
    for _ in train(model, sampler, TrainConfig(episodes=150, validate_every=0)):
        pass
    test = EpisodeSampler(small_glyphs, "evaluation", 5, 1, 5, seed=1)
    learned = evaluate(model, test, 100)
    pixels = evaluate_predictor(pixel_nearest_neighbour_predict, test, 100)
    assert learned.mean > pixels.mean + 0.1, (learned.mean, pixels.mean)
