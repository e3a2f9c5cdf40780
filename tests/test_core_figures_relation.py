"""The Relation Networks figures, checked on their data and layout (not pixels)."""

import numpy as np
import pytest
import torch

from core.algorithms import RelationNetworks
from core.algorithms.relation_probe import compare_pairs
from core.algorithms.relationnet import RelationShapes
from core.episodes import EpisodeSampler
from core.figures.montage import image_row, to_display
from core.figures.probe import PROBE_COLOUR, SAME_CLASS_COLOUR, ScatterText, relation_distance_scatter
from core.figures.relation import (
    MAX_THUMBNAIL_ROWS,
    TICK_ROW_PX,
    ArchitectureText,
    architecture_dot,
    relation_heatmap,
    score_bars,
)
from core.preprocessing import Preprocessing

GREEN, RED = "#2ca02c", "#d62728"


@pytest.fixture(scope="module")
def explained(small_glyphs):
    """A small untrained Relation Network's trace on a 4-way 2-shot episode with 3 queries per class."""
    torch.manual_seed(0)
    model = RelationNetworks(Preprocessing(), hidden=8).eval()
    episode = EpisodeSampler(small_glyphs, "evaluation", 4, 2, 3, seed=0).episode(0)
    return episode, model.explain(episode)


def episode_heatmap(episode, trace):
    classes = [image_row(episode.support_x[episode.support_y == k]) for k in range(episode.n_way)]
    return relation_heatmap(trace.scores.numpy(), trace.query_y.numpy(), to_display(episode.query_x), classes)


def test_heatmap_has_a_row_per_query_and_a_column_per_class_of_the_episode(explained):
    episode, trace = explained
    figure = episode_heatmap(episode, trace)
    heatmap = figure.data[0]
    assert heatmap.type == "heatmap"
    np.testing.assert_allclose(np.asarray(heatmap.z), trace.scores.numpy())
    assert np.asarray(heatmap.z).shape == (12, 4)
    assert list(figure.layout.xaxis.ticktext) == ["class 0", "class 1", "class 2", "class 3"]
    assert list(figure.layout.yaxis.ticktext) == [f"q{i} ({int(y)})" for i, y in enumerate(episode.query_y)]
    assert len(figure.layout.images) == 12 + 4  # a thumbnail per query row and per class column


def test_heatmap_boxes_each_rows_best_score_green_when_right_and_red_when_wrong():
    scores = np.array([[0.9, 0.1, 0.2], [0.3, 0.2, 0.8], [0.1, 0.7, 0.4]])
    query_y = np.array([0, 1, 1])  # the second query is wrong: its best score is class 2
    figure = relation_heatmap(scores, query_y, [], [])
    boxes = [(shape.x0 + 0.5, shape.y0 + 0.5, shape.line.color) for shape in figure.layout.shapes]
    assert boxes == [(0, 0, GREEN), (2, 1, RED), (1, 2, GREEN)]
    assert "(1 of 3)" in figure.layout.title.text


def test_heatmap_leaves_the_thumbnails_out_when_there_are_too_many_rows():
    n_query = MAX_THUMBNAIL_ROWS + 1
    images = [np.zeros((4, 4), dtype=np.uint8)] * n_query
    figure = relation_heatmap(np.full((n_query, 2), 0.5), np.zeros(n_query, dtype=int), images, images[:2])
    assert len(figure.layout.images) == 0 and figure.layout.xaxis.range[0] == -0.5


def test_heatmap_leaves_the_thumbnails_out_when_asked(explained):
    episode, trace = explained
    classes = [image_row(episode.support_x[episode.support_y == k]) for k in range(episode.n_way)]
    figure = relation_heatmap(trace.scores.numpy(), trace.query_y.numpy(), to_display(episode.query_x), classes,
                              show_images=False)  # fmt: skip
    assert len(figure.layout.images) == 0 and figure.layout.xaxis.range[0] == -0.5


def test_a_heatmap_squeezed_into_a_screen_labels_every_few_rows_and_drops_the_cell_numbers():
    n_query = 60
    scores, query_y = np.full((n_query, 20), 0.5), np.arange(n_query) // 3
    roomy = relation_heatmap(scores[:10, :5], query_y[:10] % 5, [], [], title="t")
    assert list(roomy.layout.yaxis.tickvals) == list(range(10)) and roomy.data[0].texttemplate == "%{z:.2f}"
    squeezed = relation_heatmap(scores, query_y, [], [], title="t", height=520)
    assert squeezed.layout.height == 520 and squeezed.data[0].texttemplate is None
    step = squeezed.layout.yaxis.tickvals[1]
    assert step > 1 and list(squeezed.layout.yaxis.tickvals) == list(range(0, n_query, step))
    row_px = (520 - 56 - 10 - 40) / n_query
    assert step * row_px >= TICK_ROW_PX  # labels at least a label's height apart
    assert list(squeezed.layout.yaxis.ticktext)[1] == f"q{step} ({query_y[step]})"


def test_heatmap_takes_its_title_from_the_caller():
    figure = relation_heatmap(np.array([[0.2, 0.8]]), np.array([1]), [], [], title="关系分数")
    assert figure.layout.title.text == "关系分数"


def test_score_bars_outline_the_true_class_and_keep_the_values():
    figure = score_bars(np.array([0.1, 0.7, 0.2]), true_label=2, title="q0", y_title="relation score")
    bars = figure.data[0]
    assert list(bars.x) == ["class 0", "class 1", "class 2"]
    np.testing.assert_allclose(np.asarray(bars.y), [0.1, 0.7, 0.2])
    assert list(bars.marker.line.width) == [0, 0, 3]
    assert figure.layout.yaxis.title.text == "relation score"


def test_architecture_diagram_labels_every_stage_with_the_episodes_shapes(explained):
    _, trace = explained
    dot = architecture_dot(trace.shapes, n_query=12, n_way=4)
    for label in ("support images", "query images", "embedding f_φ", "sum over", "relation g_φ", "score r"):
        assert label in dot
    assert "(12×4 pairs)" in dot
    assert 'support -> embed [label="1×28×28"]' in dot and "rankdir=TB" in dot
    assert 'embed -> sum [label="8×5×5"]' in dot and 'sum -> concat [label="8×5×5"]' in dot
    assert 'concat -> relate [label="16×5×5"]' in dot and 'relate -> score [label="8×1×1 → 1"]' in dot


def test_architecture_diagram_draws_whatever_shapes_it_is_given():
    shapes = RelationShapes(image=(3, 84, 84), embedding=(64, 19, 19), class_feature=(64, 19, 19),
                            pair=(128, 19, 19), after_relation_convs=(64, 3, 3))  # fmt: skip
    dot = architecture_dot(shapes, n_query=10, n_way=5)
    assert 'label="3×84×84"' in dot and 'label="128×19×19"' in dot and 'label="64×3×3 → 1"' in dot
    assert "(10×5 pairs)" in dot


SCATTER_TEXT = ScatterText("title", "distance", "relation", "same", "other", "reverse", "r(a, b)", "r(b, a)")


def test_scatter_draws_each_pair_at_its_distance_and_score_and_joins_it_to_its_reverse(explained):
    episode, _ = explained
    torch.manual_seed(0)
    model = RelationNetworks(Preprocessing(), hidden=8).eval()
    images = torch.cat([episode.support_x, episode.query_x])
    labels = torch.cat([episode.support_y, episode.query_y])
    comparison = compare_pairs(model, images, torch.randn(len(images), 4), labels, max_pairs=200)
    names = [f"image {i}" for i in range(len(images))]
    figure = relation_distance_scatter(comparison, names, SCATTER_TEXT)
    lines, other, same = figure.data
    assert (lines.name, other.name, same.name) == ("reverse", "other", "same")
    assert same.marker.color == SAME_CLASS_COLOUR
    same_class = comparison.same_class.numpy()
    np.testing.assert_allclose(same.x, comparison.distance.numpy()[same_class], rtol=1e-6)
    np.testing.assert_allclose(same.y, comparison.relation.numpy()[same_class], rtol=1e-6)
    assert len(other.x) + len(same.x) == len(comparison.relation) == 200
    first, second = int(comparison.first[0]), int(comparison.second[0])
    assert f"image {first} → image {second}" in list(other.text) + list(same.text)
    half = 100
    assert lines.x[0] == lines.x[1] == comparison.distance[0].item()  # a pair and its reverse: one distance
    np.testing.assert_allclose([lines.y[0], lines.y[1]], [comparison.relation[0], comparison.relation[half]])
    assert figure.layout.title.text == "title" and figure.layout.xaxis.title.text == "distance"


def test_scatter_marks_the_probed_pair_in_both_orders(explained):
    episode, _ = explained
    torch.manual_seed(0)
    model = RelationNetworks(Preprocessing(), hidden=8).eval()
    images = episode.query_x[:2]
    comparison = compare_pairs(model, images, torch.randn(2, 4), torch.tensor([0, 1]), max_pairs=2)
    figure = relation_distance_scatter(comparison, ["a", "b"], SCATTER_TEXT, probe=comparison)
    probe = figure.data[-1]
    assert probe.marker.color == PROBE_COLOUR and list(probe.text) == ["r(a, b)", "r(b, a)"]
    np.testing.assert_allclose(probe.y, comparison.relation.numpy(), rtol=1e-6)
    assert probe.x[0] == probe.x[1] == comparison.distance[0].item()


def test_scatter_circles_the_marked_pair_and_points_its_note_at_it(explained):
    episode, _ = explained
    torch.manual_seed(0)
    model = RelationNetworks(Preprocessing(), hidden=8).eval()
    images = torch.cat([episode.support_x, episode.query_x])
    comparison = compare_pairs(model, images, torch.randn(len(images), 4), torch.arange(len(images)) % 4, 60)
    figure = relation_distance_scatter(comparison, [str(i) for i in range(len(images))], SCATTER_TEXT,
                                       marked=(7, "most disputed"))  # fmt: skip
    (note,), (circle,) = figure.layout.annotations, figure.layout.shapes
    assert note.text == "most disputed" and note.showarrow
    assert (note.x, note.y) == (circle.xanchor, circle.yanchor) == (
        comparison.distance[7].item(), comparison.relation[7].item())  # fmt: skip


def test_heatmap_and_bars_take_their_words_from_the_caller():
    scores, query_y = np.array([[0.2, 0.8]]), np.array([1])
    figure = relation_heatmap(scores, query_y, [], [], colorbar_title="关系得分", class_labels=["类别 0", "类别 1"],
                              hover="查询样本 %{y} 与类别 %{x}：%{z:.3f}")  # fmt: skip
    assert list(figure.layout.xaxis.ticktext) == ["类别 0", "类别 1"]
    assert figure.data[0].colorbar.title.text == "关系得分"
    assert figure.data[0].hovertemplate == "查询样本 %{y} 与类别 %{x}：%{z:.3f}<extra></extra>"
    bars = score_bars(np.array([0.1, 0.9]), 1, "q0：关系得分", "关系得分", class_labels=["类别 0", "类别 1"])
    assert list(bars.data[0].x) == ["类别 0", "类别 1"] and bars.layout.yaxis.title.text == "关系得分"


def test_architecture_diagram_takes_its_words_from_the_caller_and_escapes_them(explained):
    _, trace = explained
    words = ArchitectureText(support="支持集图像", concatenate="拼接\n（{n_query}×{n_way} 对）", score='得分 "r"')
    dot = architecture_dot(trace.shapes, n_query=12, n_way=4, text=words)
    assert 'support [label="支持集图像"' in dot and 'concat [label="拼接\\n（12×4 对）"]' in dot
    assert 'score [label="得分 \\"r\\""' in dot and 'query [label="query images"' in dot  # the rest: English
