"""The Relation Networks figures, checked on their data and layout (not pixels)."""

import numpy as np
import pytest
import torch

from core.algorithms import RelationNetworks
from core.algorithms.relationnet import RelationShapes
from core.episodes import EpisodeSampler
from core.figures.montage import image_row, to_display
from core.figures.relation import MAX_THUMBNAIL_ROWS, architecture_dot, relation_heatmap, score_bars
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
    assert 'support -> embed [label="1×28×28"]' in dot
    assert 'embed -> sum [label="8×5×5"]' in dot and 'sum -> concat [label="8×5×5"]' in dot
    assert 'concat -> relate [label="16×5×5"]' in dot and 'relate -> score [label="8×1×1 → 1"]' in dot


def test_architecture_diagram_draws_whatever_shapes_it_is_given():
    shapes = RelationShapes(image=(3, 84, 84), embedding=(64, 19, 19), class_feature=(64, 19, 19),
                            pair=(128, 19, 19), after_relation_convs=(64, 3, 3))  # fmt: skip
    dot = architecture_dot(shapes, n_query=10, n_way=5)
    assert 'label="3×84×84"' in dot and 'label="128×19×19"' in dot and 'label="64×3×3 → 1"' in dot
    assert "(10×5 pairs)" in dot
