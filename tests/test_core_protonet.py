import pytest
import torch

from core.algorithms import ALGORITHMS, PrototypicalNetworks
from core.algorithms.protonet import compute_prototypes, cosine_distance, squared_euclidean
from core.backbones import Conv4, Conv4Stride2
from core.compare.baselines import pixel_nearest_neighbour_predict
from core.episodes import EpisodeSampler
from core.evaluation import evaluate, evaluate_predictor
from core.preprocessing import Preprocessing
from core.training import TrainConfig, train


def test_prototypes_are_class_means():
    embeddings = torch.randn(9, 4)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2])
    prototypes = compute_prototypes(embeddings, labels, 3)
    for c in range(3):
        assert torch.allclose(prototypes[c], embeddings[labels == c].mean(0))


def test_distances_equal_a_direct_computation():
    queries, prototypes = torch.randn(5, 8), torch.randn(3, 8)
    direct = torch.tensor([[float(((q - p) ** 2).sum()) for p in prototypes] for q in queries])
    assert torch.allclose(squared_euclidean(queries, prototypes), direct, atol=1e-5)
    cosine = torch.tensor([[1 - float(q @ p / q.norm() / p.norm()) for p in prototypes] for q in queries])
    assert torch.allclose(cosine_distance(queries, prototypes), cosine, atol=1e-6)


@pytest.mark.parametrize(("size", "channels", "dim"), [(28, 1, 64), (84, 3, 1600), (32, 3, 256)])
def test_conv4_takes_any_size_and_channels(size, channels, dim):
    embeddings = Conv4(channels)(torch.randn(2, channels, size, size))
    assert embeddings.shape == (2, dim) == (2, Conv4.output_dim(size))


@pytest.mark.parametrize(("size", "dim"), [(56, 64), (57, 64), (105, 576)])
def test_the_stride_two_conv4_gives_a_56_pixel_image_what_conv4_gives_a_28_pixel_one(size, dim):
    network = Conv4Stride2()
    embeddings = network(torch.randn(2, 1, size, size))
    assert embeddings.shape == (2, dim) == (2, Conv4Stride2.output_dim(size))
    assert network.blocks[0][0].stride == (2, 2) and Conv4().blocks[0][0].stride == (1, 1)
    assert sum(p.numel() for p in network.parameters()) == sum(p.numel() for p in Conv4().parameters())


def test_logits_are_negative_distances_and_explain_matches(small_glyphs):
    torch.manual_seed(0)
    model = PrototypicalNetworks(Preprocessing()).eval()
    episode = EpisodeSampler(small_glyphs, "evaluation", 4, 2, 3, seed=0).episode(0)
    trace = model.explain(episode)
    with torch.no_grad():
        logits = model(*model.inputs(episode)[:3])
    assert torch.allclose(-trace.distances, logits, atol=1e-4)
    assert trace.prototypes.shape == (4, 64) and trace.support_embeddings.shape == (8, 64)
    assert trace.query_embeddings.shape == (12, 64) and trace.probabilities.shape == (12, 4)
    assert torch.allclose(trace.probabilities.sum(1), torch.ones(12))
    assert torch.allclose(trace.prototypes, compute_prototypes(trace.support_embeddings, trace.support_y, 4), atol=1e-5)
    assert 0 <= trace.accuracy <= 1


@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
def test_distances_name_the_prototypes_and_embeddings_they_came_from(distance):
    torch.manual_seed(0)
    model = PrototypicalNetworks(Preprocessing(), distance=distance).eval()
    support_x, query_x = torch.randn(6, 1, 28, 28), torch.randn(4, 1, 28, 28)
    support_y = torch.tensor([0, 1, 2, 0, 1, 2])
    with torch.no_grad():
        computed = model.distances(support_x, support_y, query_x)
        logits = model(support_x, support_y, query_x)
    assert computed.support_embeddings.shape == (6, 64) and computed.query_embeddings.shape == (4, 64)
    assert computed.prototypes.shape == (3, 64) and computed.distances.shape == (4, 3)
    torch.testing.assert_close(computed.prototypes, compute_prototypes(computed.support_embeddings, support_y, 3))
    measure = squared_euclidean if distance == "euclidean" else cosine_distance
    torch.testing.assert_close(computed.distances, measure(computed.query_embeddings, computed.prototypes))
    torch.testing.assert_close(logits, model.logits(computed.distances))


def test_cosine_option_has_a_learned_scale(small_glyphs):
    model = PrototypicalNetworks(Preprocessing(), distance="cosine")
    assert "scale" in dict(model.named_parameters())
    with pytest.raises(ValueError, match="distance must be one of euclidean, cosine"):
        PrototypicalNetworks(Preprocessing(), distance="manhattan")
    assert ALGORITHMS["protonet"] is PrototypicalNetworks


@pytest.mark.slow
def test_short_training_on_glyphs_clearly_beats_pixel_nearest_neighbour(small_glyphs):
    torch.manual_seed(0)
    model = PrototypicalNetworks(Preprocessing(mean=(0.09,), std=(0.26,)))
    sampler = EpisodeSampler(small_glyphs, "background", 10, 1, 5, seed=0)
    records = list(train(model, sampler, TrainConfig(episodes=60, validate_every=0)))
    assert len(records) == 60 and records[-1].step == 60
    test = EpisodeSampler(small_glyphs, "evaluation", 5, 1, 5, seed=0)
    learned = evaluate(model, test, 60)
    pixel = evaluate_predictor(pixel_nearest_neighbour_predict, test, 60)
    assert learned.mean > pixel.mean + 0.15, (learned, pixel)


def test_embed_gives_the_embeddings_explain_reports(small_glyphs):
    torch.manual_seed(0)
    model = PrototypicalNetworks(Preprocessing(mean=(0.1,), std=(0.3,))).eval()
    episode = EpisodeSampler(small_glyphs, "evaluation", 3, 2, 2, seed=0).episode(0)
    trace = model.explain(episode)
    torch.testing.assert_close(model.embed(episode.query_x), trace.query_embeddings, atol=1e-5, rtol=1e-4)
    assert model.embed(episode.support_x).device.type == "cpu"
