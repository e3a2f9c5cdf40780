import numpy as np
import pytest

from core.figures.common import embedding_map, matrix_heatmap, probability_bars, training_curves
from core.figures.projection import project_2d


def test_embedding_map_marks_misclassified_queries_and_names_the_method():
    coords = np.arange(12, dtype=float).reshape(6, 2)
    role = ["support", "support", "query", "query", "prototype", "prototype"]
    labels = np.array([0, 1, 0, 1, 0, 1])
    predicted = np.array([0, 1, 1, 1, 0, 1])  # the first query is wrong
    figure = embedding_map(coords, role, labels, predicted, ["a", "b"], "PCA (90% of the variance shown)")
    assert "PCA" in figure.layout.title.text and "misclassified (1)" in figure.layout.title.text
    queries = {trace.name: trace for trace in figure.data if trace.name.startswith("query")}
    assert list(queries["query · a"].marker.symbol) == ["x"]
    assert list(queries["query · b"].marker.symbol) == ["diamond-open"]
    assert sum(trace.name.startswith("prototype") for trace in figure.data) == 2


def test_thumbnails_are_drawn_at_their_points():
    coords = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    images = [np.zeros((4, 4), dtype=np.uint8)] * 3
    figure = embedding_map(coords, ["support", "query", "prototype"], np.array([0, 0, 0]), np.array([0, 0, 0]),
                           ["a"], "PCA", images)  # fmt: skip
    assert len(figure.layout.images) == 3 and figure.layout.images[1].x == 1.0


def test_heatmap_and_bars_keep_their_values():
    values = np.array([[1.0, 2.0], [3.0, 4.0]])
    heatmap = matrix_heatmap(values, ["q0", "q1"], ["c0", "c1"], "title", "d")
    assert np.array_equal(np.asarray(heatmap.data[0].z), values) and list(heatmap.data[0].y) == ["q0", "q1"]
    bars = probability_bars(np.array([0.2, 0.8]), ["a", "b"], true_label=1, title="t")
    assert list(bars.data[0].marker.line.width) == [0, 3]


def test_training_curves_show_validation_only_where_measured():
    records = [{"step": 1, "loss": 2.0, "accuracy": 0.3}, {"step": 2, "loss": 1.0, "accuracy": 0.6,
                                                            "val_accuracy": 0.5, "val_ci95": 0.1}]  # fmt: skip
    figure = training_curves(records)
    assert [trace.name for trace in figure.data] == ["training loss", "training accuracy", "validation accuracy"]
    assert list(figure.data[2].x) == [2]


def test_projection_picks_pca_for_few_points_and_tsne_for_many():
    rng = np.random.default_rng(0)
    coords, method = project_2d(rng.normal(size=(10, 8)))
    assert coords.shape == (10, 2) and method.startswith("PCA")
    coords, method = project_2d(rng.normal(size=(40, 8)), perplexity=30)
    assert coords.shape == (40, 2) and method == "t-SNE (perplexity 13)"  # clipped below (n - 1) / 3
    with pytest.raises(ValueError, match="at least 3 points"):
        project_2d(rng.normal(size=(2, 8)))
