import numpy as np
import pytest
import torch

from core.algorithms import PrototypicalNetworks
from core.algorithms.prototype_push import (
    Push,
    as_prototype_trace,
    outside_images,
    push,
    push_space,
    same_classes_episode,
    settle,
)
from core.episodes import EpisodeSampler
from core.figures.common import class_colours
from core.figures.projection import Plane, nearest_in_plane
from core.figures.prototypes import ROLES, prototype_map, shots_animation
from core.preprocessing import Preprocessing

LEGEND = {role: f"the {role}" for role in ROLES}


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return PrototypicalNetworks(Preprocessing(mean=(0.1,), std=(0.3,))).eval()


@pytest.fixture(scope="module")
def episode(small_glyphs):
    return EpisodeSampler(small_glyphs, "evaluation", 4, 3, 5, seed=0).episode(0)


@pytest.fixture(scope="module")
def space(model, episode, small_glyphs):
    extra, _ = outside_images(small_glyphs, "evaluation", episode.class_ids, 3, seed=0)
    return push_space(model, episode, extra)


def test_plane_is_affine_deterministic_and_measures_like_the_lifted_embedding():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(30, 12))
    plane = Plane(points)
    np.testing.assert_allclose(plane.project(points[:5].mean(0, keepdims=True))[0], plane.project(points[:5]).mean(0))
    np.testing.assert_array_equal(Plane(points.copy()).axes, plane.axes)
    coords, prototypes = rng.normal(size=(7, 2)), rng.normal(size=(3, 12))
    lifted = torch.from_numpy(plane.origin + coords @ plane.axes)
    full = torch.from_numpy(prototypes)[None]
    direct = {
        "euclidean": ((lifted[:, None] - full) ** 2).sum(-1),
        "cosine": 1 - torch.nn.functional.cosine_similarity(lifted[:, None], full, -1),
    }
    for distance, expected in direct.items():
        np.testing.assert_allclose(
            plane.distances_from_plane(coords, prototypes, distance), expected.numpy(), atol=1e-9
        )
    with pytest.raises(ValueError, match="at least 3 points"):
        Plane(points[:2])


def test_an_unchanged_push_is_the_model_itself(model, episode, space):
    trace, explained = push(space), model.explain(episode)
    np.testing.assert_array_equal(trace.predictions, explained.predictions.numpy())
    np.testing.assert_allclose(trace.distances, explained.distances.numpy(), rtol=1e-4, atol=1e-3)
    assert trace.accuracy == pytest.approx(explained.accuracy) and trace.n_changed == 0
    np.testing.assert_allclose(trace.prototype_coords, trace.sampled_prototype_coords)
    as_model = as_prototype_trace(trace, space, model)
    torch.testing.assert_close(as_model.probabilities, explained.probabilities, atol=1e-4, rtol=1e-3)


def test_prototypes_stay_means_in_the_plane_whatever_is_ticked_out_or_added(space):
    kept = [True] * len(space.support_y)
    kept[0] = kept[4] = False  # one shot of class 0, one of class 1
    outlier = len(space.support_y)  # the first image from a class outside the episode
    drawing = torch.randn(1, space.support_embeddings.shape[1])
    trace = push(space, Push(kept=tuple(kept), outliers=((outlier, 0),)), drawing, torch.tensor([2]))
    assert list(trace.member_kind).count("outlier") == 1 and list(trace.member_kind).count("drawing") == 1
    for k in range(space.n_way):
        members = trace.member_coords[trace.member_y == k]
        np.testing.assert_allclose(trace.prototype_coords[k], members.mean(0), atol=1e-6)
    class0 = torch.cat([space.support_embeddings[1:3], space.pool[outlier : outlier + 1]]).mean(0)
    torch.testing.assert_close(trace.prototypes[0], class0)
    assert len(trace.dropped_y) == 2 and sorted(trace.dropped_y.tolist()) == [0, 1]
    assert trace.n_changed == int((trace.predictions != push(space).predictions).sum())


def test_a_class_with_every_support_image_ticked_out_has_no_prototype_and_wins_no_query(space):
    kept = tuple(bool(y != 1) for y in space.support_y)
    trace = push(space, Push(kept=kept))
    assert not trace.has_prototype[1] and trace.has_prototype[[0, 2, 3]].all()
    assert np.isinf(trace.distances[:, 1]).all() and 1 not in trace.predictions and 1 not in trace.regions
    assert trace.accuracy <= 1 - (space.query_y == 1).float().mean().item()
    nothing = push(space, Push(kept=(False,) * len(space.support_y)))
    assert (nothing.predictions == -1).all() and nothing.accuracy == 0 and (nothing.regions == -1).all()


def test_plane_regions_are_the_nearest_projected_prototype_and_slice_regions_the_models_decision(space):
    plane_trace = push(space, regions="plane", resolution=30)
    assert (
        plane_trace.region_at_query == nearest_in_plane(plane_trace.query_coords, plane_trace.prototype_coords)
    ).all()
    cells = [
        (np.abs(plane_trace.xs - x).argmin(), np.abs(plane_trace.ys - y).argmin())
        for x, y in plane_trace.prototype_coords
    ]
    assert [plane_trace.regions[row, col] for col, row in cells] == list(range(space.n_way))  # each ★ in its region
    sliced = push(space, regions="slice", resolution=30)
    grid = np.stack(np.meshgrid(sliced.xs, sliced.ys), -1).reshape(-1, 2)
    lifted = torch.from_numpy(space.plane.origin + grid @ space.plane.axes)
    expected = ((lifted[:, None] - sliced.prototypes.double()[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(sliced.regions.reshape(-1), expected.numpy())
    with pytest.raises(ValueError, match="regions must be one of plane, slice"):
        push(space, regions="voronoi")


def test_bad_pushes_are_refused_with_what_to_choose(space):
    with pytest.raises(ValueError, match="one flag per support image"):
        push(space, Push(kept=(True,)))
    with pytest.raises(ValueError, match="outlier candidate 99 does not exist"):
        push(space, Push(outliers=((99, 0),)))
    with pytest.raises(ValueError, match="class 7 does not exist: choose one from 0 to 3"):
        push(space, Push(outliers=((0, 7),)))


def test_settling_uses_the_first_k_shots_of_every_class_and_ends_at_the_full_support_set(space):
    traces = settle(space, n_shot=3, resolution=20)
    assert [len(t.member_y) for t in traces] == [4, 8, 12]
    assert all(sorted(t.member_y.tolist()) == sorted(list(range(4)) * k) for k, t in enumerate(traces, 1))
    np.testing.assert_array_equal(traces[-1].predictions, push(space).predictions)
    np.testing.assert_allclose(
        traces[0].prototype_coords, space.plane.project(space.support_embeddings[::3].double().numpy())
    )


def test_more_shots_of_the_same_classes_and_outlier_images_from_other_classes(small_glyphs, episode):
    more = same_classes_episode(small_glyphs, episode, n_shot=6)
    assert more.class_ids == episode.class_ids and more.n_shot == 6 and more.n_query == episode.n_query
    assert more.support_y.tolist() == [k for k in range(4) for _ in range(6)]
    images = torch.cat([more.support_x, more.query_x]).flatten(1)
    assert len(torch.unique(images, dim=0)) == len(images)  # no image is both a support and a query
    with pytest.raises(ValueError, match="lower n_query"):
        same_classes_episode(small_glyphs, episode, n_shot=500)
    extra, names = outside_images(small_glyphs, "evaluation", episode.class_ids, 3, seed=1)
    assert len(extra) == 3 and not set(names) & set(episode.class_names)


def test_the_map_has_one_trace_per_role_and_numbers_the_classes_on_the_prototypes(space):
    kept = [True] * len(space.support_y)
    kept[0] = False
    trace = push(space, Push(kept=tuple(kept), outliers=((len(space.support_y), 1),)))
    figure = prototype_map(trace, ["a", "b", "c", "d"], "map title", LEGEND)
    assert [t.name for t in figure.data] == [LEGEND[r] for r in ROLES] and figure.layout.title.text == "map title"
    stars = figure.data[ROLES.index("prototype")]
    assert list(stars.text) == ["0", "1", "2", "3"] and "text" in stars.mode
    assert len(figure.data[ROLES.index("sampled")].x) == 2  # classes 0 and 1 moved, the others did not
    assert len(figure.data[ROLES.index("dropped")].x) == 1 and len(figure.data[ROLES.index("outlier")].x) == 1
    assert len(set(class_colours(20))) == 20 and class_colours(4) == class_colours(10)[:4]


def test_the_shots_animation_has_a_frame_per_shot_with_its_accuracy(space):
    traces = settle(space, n_shot=3, resolution=20)
    figure = shots_animation(traces, ["a", "b", "c", "d"], LEGEND, "{n_shot} shots: {accuracy:.0%}", "accuracy", "play")
    assert [f.name for f in figure.frames] == ["1", "2", "3"]
    assert [f.layout.title.text for f in figure.frames] == [
        f"{k} shots: {t.accuracy:.0%}" for k, t in enumerate(traces, 1)
    ]
    assert list(figure.data[len(ROLES)].y) == [t.accuracy for t in traces]  # the accuracy curve
    assert [len(f.data[ROLES.index("support")].x) for f in figure.frames] == [4, 8, 12]
    assert figure.layout.updatemenus[0].buttons[0].label == "play"
