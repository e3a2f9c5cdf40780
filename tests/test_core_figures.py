import numpy as np
import pytest

from core.figures.common import embedding_map, matrix_heatmap, probability_bars, training_curves
from core.figures.projection import decision_grid, nearest_in_plane, project_2d


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


def test_projection_is_pca_by_default_and_auto_picks_tsne_for_many_points():
    rng = np.random.default_rng(0)
    coords, method = project_2d(rng.normal(size=(40, 8)))
    assert coords.shape == (40, 2) and method.startswith("PCA")
    coords, method = project_2d(rng.normal(size=(40, 8)), "auto", perplexity=30)
    assert coords.shape == (40, 2) and method == "t-SNE (perplexity 13), a neighbourhood view"  # clipped
    with pytest.raises(ValueError, match="at least 3 points"):
        project_2d(rng.normal(size=(2, 8)))


def test_pca_map_puts_each_prototype_at_the_mean_of_its_projected_support_points():
    rng = np.random.default_rng(1)
    support = rng.normal(size=(3, 5, 16))  # 3 classes, 5 shots
    prototypes = support.mean(1)
    coords, _ = project_2d(np.concatenate([support.reshape(15, 16), prototypes]), "pca")
    np.testing.assert_allclose(coords[15:], coords[:15].reshape(3, 5, 2).mean(1), atol=1e-9)


def test_nearest_in_plane_and_the_decision_grid_follow_the_nearest_prototype():
    prototypes = np.array([[0.0, 0.0], [10.0, 0.0]])
    assert nearest_in_plane(np.array([[1.0, 5.0], [6.0, -3.0]]), prototypes).tolist() == [0, 1]
    xs, ys, nearest = decision_grid(np.array([[0.0, -1.0], [10.0, 1.0]]), prototypes, resolution=11)
    assert nearest.shape == (11, 11) and len(xs) == len(ys) == 11
    assert (nearest[:, xs < 5] == 0).all() and (nearest[:, xs > 5] == 1).all()


def test_embedding_map_draws_regions_under_the_points_only_when_asked():
    coords = np.array([[0.0, 0.0], [4.0, 0.0], [1.0, 0.0], [3.0, 0.0], [0.0, 0.5], [4.0, 0.5]])
    role = ["support", "support", "query", "query", "prototype", "prototype"]
    labels, predicted = np.array([0, 1, 0, 1, 0, 1]), np.array([0, 1, 0, 1, 0, 1])
    plain = embedding_map(coords, role, labels, predicted, ["a", "b"], "PCA")
    assert all(trace.type == "scatter" for trace in plain.data)
    shaded = embedding_map(coords, role, labels, predicted, ["a", "b"], "PCA", regions=True)
    regions = shaded.data[0]  # first trace: drawn under the points
    assert regions.type == "heatmap" and regions.name == "decision regions"
    z = np.asarray(regions.z)
    assert (z[:, np.asarray(regions.x) < 2] == 0).all() and (z[:, np.asarray(regions.x) > 2] == 1).all()


def test_embedding_map_and_projection_take_their_words_from_the_caller():
    coords = np.array([[0.0, 0.0], [4.0, 0.0], [1.0, 0.0], [3.0, 0.0], [0.0, 0.5], [4.0, 0.5]])
    role = ["support", "support", "query", "query", "prototype", "prototype"]
    labels, predicted = np.array([0, 1, 0, 1, 0, 1]), np.array([0, 1, 1, 1, 0, 1])
    words = {"support": "支持样本", "query": "查询样本", "prototype": "原型", "regions": "决策区域",
             "title": "二维图（{method}）：错误 {n_wrong}", "hover": "{role}，类别 {k}<br>{name}",
             "hover_query": "{role}，类别 {k}：{name}，预测 {predicted}"}  # fmt: skip
    figure = embedding_map(coords, role, labels, predicted, ["a", "b"], "PCA", regions=True, words=words)
    assert figure.layout.title.text == "二维图（PCA）：错误 1" and figure.data[0].name == "决策区域"
    by_name = {trace.name: trace for trace in figure.data}
    assert {"支持样本 · a", "查询样本 · a", "原型 · b"} <= set(by_name)
    assert by_name["查询样本 · a"].hovertemplate == "查询样本，类别 0：a，预测 %{customdata}<extra></extra>"
    _, label = project_2d(np.random.default_rng(0).normal(size=(10, 4)), labels={"pca": "PCA，方差 {explained:.0f}%"})
    assert label.startswith("PCA，方差 ") and label.endswith("%")
