"""MAML in the plane: exact meta-gradients (against finite differences and the hand-derived formulas),
where meta-training and joint training go, bad input, and the figures drawn from it."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from core.figures.plane import PlaneLabels, plane_figure, training_losses
from core.toys.maml_plane import (
    FAMILIES,
    MAX_INNER_STEPS,
    TaskFamily,
    inner_paths,
    loss_grid,
    maml_loss,
    meta_gradients,
    outer_gradient,
    quadratic_fixed_points,
    snapshot,
    task_losses,
    train,
)

THETAS = [(0.0, -3.0), (1.3, 0.4), (-2.5, 2.2)]
LABELS = PlaneLabels(title="T", task="task {i}", theta="θ", adapted="θ′{i}", second_order="second",
                     first_order="first", maml_path="maml", joint_path="joint", maml_point="maml point",
                     joint_point="joint point", click_hint="click")  # fmt: skip


def finite_difference_gradient(function, theta: torch.Tensor, h: float = 1e-6) -> torch.Tensor:
    steps = torch.eye(2, dtype=torch.float64) * h
    return torch.stack([(function(theta + step) - function(theta - step)) / (2 * h) for step in steps])


def numpy_tasks(family: TaskFamily) -> tuple[np.ndarray, np.ndarray]:
    return np.array(family.minima), np.array(family.curvatures)


@pytest.mark.parametrize("name", list(FAMILIES))
@pytest.mark.parametrize("steps", [1, 3])
@pytest.mark.parametrize("theta", THETAS)
def test_second_order_meta_gradient_matches_finite_differences(name, steps, theta):
    family = FAMILIES[name]
    theta = torch.tensor(theta, dtype=torch.float64)
    exact = outer_gradient(family, theta, "second_order", family.alpha, steps)
    numeric = finite_difference_gradient(lambda at: maml_loss(family, at, family.alpha, steps), theta)
    torch.testing.assert_close(exact, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("theta", THETAS)
def test_the_gradients_are_the_hand_derived_ones_for_one_step_on_bowls(theta):
    family, alpha = FAMILIES["bowls"], 0.3
    minima, matrices = numpy_tasks(family)
    point = np.array(theta)
    adapted = [point - alpha * P @ (point - c) for c, P in zip(minima, matrices)]
    task_gradients = [P @ (a - c) for a, c, P in zip(adapted, minima, matrices)]
    first = np.mean(task_gradients, axis=0)
    second = np.mean([(np.eye(2) - alpha * P) @ g for g, P in zip(task_gradients, matrices)], axis=0)
    joint = np.mean([P @ (point - c) for c, P in zip(minima, matrices)], axis=0)
    gradients = meta_gradients(family, torch.tensor(theta, dtype=torch.float64), alpha, 1)
    np.testing.assert_allclose(gradients.second_order.numpy(), second, rtol=1e-12)
    np.testing.assert_allclose(gradients.first_order.numpy(), first, rtol=1e-12)
    np.testing.assert_allclose(gradients.joint.numpy(), joint, rtol=1e-12)


@pytest.mark.parametrize("steps", [1, 2, 4])
@pytest.mark.parametrize("theta", THETAS)
def test_first_order_points_the_same_way_as_second_order_when_every_bowl_has_the_same_curvature(steps, theta):
    family, alpha = FAMILIES["equal_bowls"], 0.4
    gradients = meta_gradients(family, torch.tensor(theta), alpha, steps)
    # Shared curvature H = I: every θ′ᵢ depends on θ through the same (1 − α)^k, so SO = (1 − α)^k FO.
    torch.testing.assert_close(gradients.second_order, (1 - alpha) ** steps * gradients.first_order)
    cosine = torch.nn.functional.cosine_similarity(gradients.second_order, gradients.first_order, dim=0)
    assert cosine > 1 - 1e-12


def test_first_and_second_order_differ_in_direction_when_curvatures_differ():
    gradients = meta_gradients(FAMILIES["bowls"], torch.tensor(THETAS[1]), 0.4, 1)
    cosine = torch.nn.functional.cosine_similarity(gradients.second_order, gradients.first_order, dim=0)
    assert cosine < 0.99


@pytest.mark.parametrize("name", list(FAMILIES))
def test_with_alpha_zero_every_method_is_joint_training(name):
    gradients = meta_gradients(FAMILIES[name], torch.tensor(THETAS[0]), 0.0, 2)
    torch.testing.assert_close(gradients.second_order, gradients.joint)
    torch.testing.assert_close(gradients.first_order, gradients.joint)


def test_maml_goes_to_its_own_point_and_joint_training_to_the_curvature_weighted_mean_of_the_minima():
    family, alpha, steps = FAMILIES["bowls"], 0.4, 1
    minima, matrices = numpy_tasks(family)
    contraction = np.eye(2) - alpha * matrices
    weights = contraction @ matrices @ contraction
    maml_point = np.linalg.solve(weights.sum(0), np.einsum("tij,tj->i", weights, minima))
    joint_point = np.linalg.solve(matrices.sum(0), np.einsum("tij,tj->i", matrices, minima))
    start = torch.tensor(family.start)
    maml = train(family, start, "second_order", alpha, steps, family.beta, 150)
    joint = train(family, start, "joint", alpha, steps, family.beta, 150)
    np.testing.assert_allclose(maml.points[-1].numpy(), maml_point, atol=1e-6)
    np.testing.assert_allclose(joint.points[-1].numpy(), joint_point, atol=1e-6)
    closed_maml, closed_joint = quadratic_fixed_points(family, alpha, steps)
    np.testing.assert_allclose(closed_maml.numpy(), maml_point, rtol=1e-12)
    np.testing.assert_allclose(closed_joint.numpy(), joint_point, rtol=1e-12)
    assert np.linalg.norm(maml_point - joint_point) > 1.0
    # Each is best at its own game: MAML after the inner step, joint training before it.
    assert maml.loss_after[-1] < joint.loss_after[-1] and joint.loss_before[-1] < maml.loss_before[-1]
    assert maml.loss_after[-1] < maml.loss_after[0] and not maml.diverged


def test_with_equal_curvature_maml_and_joint_training_both_go_to_the_mean_of_the_minima():
    family = FAMILIES["equal_bowls"]
    mean = torch.tensor(family.minima, dtype=torch.float64).mean(0)
    for method in ("second_order", "first_order", "joint"):
        end = train(family, torch.tensor(family.start), method, family.alpha, 1, family.beta, 150).points[-1]
        torch.testing.assert_close(end, mean, atol=1e-6, rtol=0)


def test_a_task_that_one_step_solves_from_anywhere_does_not_move_maml():
    curvature = ((2.0, 0.0), (0.0, 2.0))
    family = TaskFamily("quadratic", ((3.0, 3.0), (-1.0, 0.0)), (curvature, ((0.5, 0.0), (0.0, 0.5))),
                        alpha=0.5, alpha_max=1.0, beta=1.0, start=(0.0, 0.0), extent=(-4, 4, -4, 4))  # fmt: skip
    maml_point, _ = quadratic_fixed_points(family, alpha=0.5, steps=1)  # α · 2 = 1: task 1 is solved in one step
    torch.testing.assert_close(maml_point, torch.tensor([-1.0, 0.0], dtype=torch.float64))


def test_inner_paths_start_at_theta_and_lower_every_bowls_loss():
    family, theta = FAMILIES["bowls"], torch.tensor([0.5, -2.0], dtype=torch.float64)
    paths = inner_paths(family, theta, 0.4, 3)
    assert paths.shape == (family.n_tasks, 4, 2)
    torch.testing.assert_close(paths[:, 0], theta.expand(family.n_tasks, 2))
    losses = torch.stack([task_losses(family, paths[:, k])[torch.arange(family.n_tasks), torch.arange(family.n_tasks)]
                          for k in range(4)], dim=1)  # fmt: skip
    assert (losses[:, 1:] < losses[:, :-1]).all()


def test_far_from_a_well_its_inner_step_barely_moves_theta():
    family = FAMILIES["wells"]
    far = inner_paths(family, torch.tensor([4.5, -4.5]), family.alpha, 1)
    moves = (far[:, 1] - far[:, 0]).norm(dim=-1)
    assert moves[0] < 1e-3 < moves[2]  # task 1's well is far away, task 3's is near


def test_snapshot_losses_and_the_grid_agree_with_task_losses():
    family = FAMILIES["wells"]
    shot = snapshot(family, torch.tensor([0.25, -1.0]), 1.0, 2)
    assert shot.paths.shape == (family.n_tasks, 3, 2)
    torch.testing.assert_close(shot.loss_before, task_losses(family, torch.tensor([0.25, -1.0])))
    torch.testing.assert_close(shot.loss_after.mean(), maml_loss(family, torch.tensor([0.25, -1.0]), 1.0, 2))
    xs, ys = torch.tensor([-1.0, 0.25, 2.0]), torch.tensor([-1.0, 3.0])
    grid = loss_grid(family, xs, ys)
    torch.testing.assert_close(grid[:, 0, 1], shot.loss_before)
    torch.testing.assert_close(grid[:, 1, 2], task_losses(family, torch.tensor([2.0, 3.0])))


def test_too_large_an_outer_step_is_reported_as_divergence():
    family = FAMILIES["bowls"]
    run = train(family, torch.tensor(family.start), "joint", family.alpha, 1, beta=50.0, outer_steps=200)
    assert run.diverged and len(run.points) < 201 and torch.isfinite(run.points).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: snapshot(f, torch.tensor([0.0, float("nan")]), 0.4, 1), "θ must be two finite numbers"),
        (lambda f: snapshot(f, torch.tensor([0.0, 1.0, 2.0]), 0.4, 1), "θ must be two finite numbers"),
        (lambda f: snapshot(f, torch.zeros(2), 5.0, 1), "α must be in"),
        (lambda f: snapshot(f, torch.zeros(2), 0.4, MAX_INNER_STEPS + 1), "inner steps must be from 0"),
        (lambda f: outer_gradient(f, torch.zeros(2), "newton", 0.4, 1), "method must be one of"),
        (lambda f: train(f, torch.zeros(2), "joint", 0.4, 1, beta=0.0, outer_steps=3), "β must be positive"),
        (lambda f: train(f, torch.zeros(2), "joint", 0.4, 1, beta=1.0, outer_steps=-1), "outer steps must be"),
        (lambda f: quadratic_fixed_points(FAMILIES["wells"], 0.4, 1), "quadratic bowls only"),
    ],
)
def test_bad_input_is_refused_with_what_was_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call(FAMILIES["bowls"])


def test_a_family_needs_one_positive_definite_curvature_per_minimum():
    with pytest.raises(ValueError, match="one curvature per minimum"):
        TaskFamily("quadratic", ((0.0, 0.0),), (), 0.1, 1.0, 1.0, (0.0, 0.0), (-1, 1, -1, 1))
    with pytest.raises(ValueError, match="positive-definite"):
        TaskFamily("quadratic", ((0.0, 0.0),), (((1.0, 2.0), (2.0, 1.0)),), 0.1, 1.0, 1.0, (0.0, 0.0), (-1, 1, -1, 1))
    with pytest.raises(ValueError, match="kind must be"):
        TaskFamily("cubic", ((0.0, 0.0),), (((1.0, 0.0), (0.0, 1.0)),), 0.1, 1.0, 1.0, (0.0, 0.0), (-1, 1, -1, 1))


def test_the_plane_figure_draws_tasks_inner_steps_and_both_arrows_as_the_outer_step():
    family, steps = FAMILIES["bowls"], 2
    shot = snapshot(family, torch.tensor([1.0, -2.0]), 0.3, steps)
    path = train(family, torch.tensor([1.0, -2.0]), "second_order", 0.3, steps, 1.0, 5).points
    targets = quadratic_fixed_points(family, 0.3, steps)
    figure = plane_figure(family, shot, LABELS, path, path.flip(0), targets, arrow_scale=1.5)
    kinds = [trace.type for trace in figure.data]
    assert kinds.count("contour") == family.n_tasks
    names = {trace.name for trace in figure.data}
    assert {"second", "first", "maml", "joint", "maml point", "joint point", "θ", "θ′1", "task 4"} <= names
    assert len(figure.layout.annotations) == family.n_tasks * steps + 2
    arrows = {trace.name: np.hypot(np.diff(trace.x), np.diff(trace.y))[0] for trace in figure.data
              if trace.name in ("second", "first")}  # fmt: skip
    norms = {"second": float(shot.gradients.second_order.norm()), "first": float(shot.gradients.first_order.norm())}
    assert arrows == pytest.approx({name: 1.5 * norm for name, norm in norms.items()})
    tip = next(t for t in figure.data if t.name == "second")
    np.testing.assert_allclose([tip.x[1], tip.y[1]], (shot.theta - 1.5 * shot.gradients.second_order).numpy())
    assert figure.layout.title.text == "T" and figure.layout.title.font.size >= 16 and figure.layout.font.size >= 14
    go.Figure(figure.to_dict())  # built without plotly's validation for speed, so validate it here (raises if bad)
    assert "click" in names and "click" not in {
        t.name for t in plane_figure(family, shot, LABELS, clickable=False).data
    }


def test_the_training_losses_figure_has_before_and_after_per_method():
    losses = torch.tensor([3.0, 2.0, 1.5], dtype=torch.float64)
    figure = training_losses({"A": (losses, losses / 2, "#000"), "B": (losses, losses, "#111")}, "title", "step",
                             "loss", "{name} before", "{name} after")  # fmt: skip
    assert [trace.name for trace in figure.data] == ["A after", "A before", "B after", "B before"]
    np.testing.assert_allclose(figure.data[0].y, [1.5, 1.0, 0.75])
    go.Figure(figure.to_dict())  # valid plotly (raises if not)
