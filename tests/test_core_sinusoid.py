import math

import pytest
import torch
from torch.func import functional_call
from torch.nn import functional as F

from core.figures.sinusoid import fine_tune_figure, fit_at_step_figure, sine_training_curves, value_by_step_figure
from core.sinusoid import (
    SineProgress,
    SineTrainConfig,
    SinusoidTask,
    adapt,
    fine_tune_curve,
    joint_train,
    mean_grid_mse,
    meta_train,
    random_task,
    regressor,
    sample_batch,
)


@pytest.fixture
def task_points():
    task = SinusoidTask(amplitude=2.0, phase=0.5)
    return task, *task.points(10, seed=3)


def test_tasks_and_points_lie_in_the_paper_ranges_and_follow_the_seed():
    tasks = [random_task(seed) for seed in range(200)]
    assert all(0.1 <= t.amplitude <= 5.0 and 0.0 <= t.phase <= math.pi for t in tasks)
    assert random_task(7) == random_task(7) and random_task(7) != random_task(8)
    x, y = tasks[0].points(50, seed=1)
    assert x.shape == y.shape == (50, 1) and x.min() >= -5 and x.max() <= 5
    assert torch.allclose(y, tasks[0].amplitude * torch.sin(x - tasks[0].phase))
    assert torch.equal(tasks[0].points(50, seed=1)[0], x) and not torch.equal(tasks[0].points(50, seed=2)[0], x)


def test_a_batch_has_k_support_and_k_other_query_points_of_the_same_wave():
    batch = sample_batch(4, 5, torch.Generator().manual_seed(0))
    assert batch.support_x.shape == batch.query_y.shape == (4, 5, 1)
    assert not torch.equal(batch.support_x, batch.query_x)
    assert batch.support_x.abs().max() <= 5 and batch.query_y.abs().max() <= 5
    again = sample_batch(4, 5, torch.Generator().manual_seed(0))
    assert torch.equal(again.query_y, batch.query_y)


def test_regressor_is_1_40_40_1_and_seeded():
    model = regressor(seed=1)
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes == [(40, 1), (40,), (40, 40), (40,), (1, 40), (1,)]
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), regressor(seed=1).parameters()))


def test_zero_inner_steps_returns_the_same_params(task_points):
    _, x, y = task_points
    model = regressor()
    params = dict(model.named_parameters())
    adapted, losses = adapt(model, params, x, y, steps=0)
    assert losses.numel() == 0 and all(adapted[name] is params[name] for name in params)
    assert torch.equal(functional_call(model, adapted, (x,)), model(x))


def test_one_inner_step_lowers_the_k_point_loss(task_points):
    _, x, y = task_points
    model = regressor()
    adapted, (before,) = adapt(model, dict(model.named_parameters()), x, y, steps=1)
    after = F.mse_loss(functional_call(model, adapted, (x,)), y)
    assert after < before


def test_adaptation_works_under_no_grad(task_points):
    _, x, y = task_points
    model = regressor()
    with torch.no_grad():
        adapted, losses = adapt(model, dict(model.named_parameters()), x, y, steps=5)
        assert not torch.allclose(functional_call(model, adapted, (x,)), model(x))
    assert losses.shape == (5,) and losses[-1] < losses[0]


def test_second_order_meta_gradient_matches_autograd_with_create_graph(task_points):
    _, x, y = task_points
    model = regressor().double()
    x, y = x.double(), y.double()
    query_x, query_y = x.flip(0) * 0.9, y.flip(0)
    params = dict(model.named_parameters())

    def reference(params: dict, first_order: bool) -> torch.Tensor:
        for _ in range(2):
            loss = F.mse_loss(functional_call(model, params, (x,)), y)
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=not first_order)
            params = {name: value - 0.01 * grad for (name, value), grad in zip(params.items(), grads)}
        return F.mse_loss(functional_call(model, params, (query_x,)), query_y)

    def ours(first_order: bool) -> torch.Tensor:
        adapted, _ = adapt(model, params, x, y, steps=2, first_order=first_order)
        return F.mse_loss(functional_call(model, adapted, (query_x,)), query_y)

    gradients = {}
    for first_order in (False, True):
        gradients[first_order] = torch.autograd.grad(ours(first_order), list(params.values()))
        expected = torch.autograd.grad(reference(params, first_order), list(params.values()))
        assert all(torch.allclose(a, b, atol=1e-10) for a, b in zip(gradients[first_order], expected)), first_order
    assert not torch.allclose(gradients[False][0], gradients[True][0])


def test_fine_tune_curve_predicts_the_grid_after_each_step_count(task_points):
    task, x, y = task_points
    model = regressor()
    before = [p.clone() for p in model.parameters()]
    curve = fine_tune_curve(model, task, x, y, steps=[10, 0, 1])
    assert curve.steps == (0, 1, 10) and curve.predictions.shape == (3, 200) == (3, *curve.grid.shape)
    assert torch.allclose(curve.predictions[0], model(curve.grid.unsqueeze(1)).squeeze(1).detach())
    assert torch.allclose(curve.truth, task(curve.grid))
    assert curve.mse[0] == pytest.approx(float((curve.predictions[0] - curve.truth).pow(2).mean()))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # the model is not changed
    with pytest.raises(ValueError, match="step counts must lie in 0..1000"):
        fine_tune_curve(model, task, x, y, steps=[-1])


def test_training_yields_one_record_per_step_and_changes_the_model():
    config = SineTrainConfig(n_shot=5, steps=3, meta_batch=4)
    for train in (meta_train, joint_train):
        model = regressor()
        start = model[0].weight.clone()
        records = list(train(model, config))
        assert [r.step for r in records] == [1, 2, 3] and all(r.loss_before > 0 for r in records)
        assert not torch.equal(start, model[0].weight)
    with pytest.raises(ValueError, match="meta_batch must be at least 1"):
        SineTrainConfig(meta_batch=0)


def test_maml_adapts_in_one_step_better_than_the_jointly_trained_network():
    """The paper's Figure 2 claim, on 20 held-out tasks; a large meta learning rate keeps the training short."""
    config = SineTrainConfig(n_shot=10, steps=150, meta_batch=25, meta_lr=1e-2, seed=0)
    maml, joint = regressor(0), regressor(0)
    for _ in zip(meta_train(maml, config), joint_train(joint, config)):
        pass
    maml_mse = mean_grid_mse(maml, 10, (0, 1), n_tasks=20)
    joint_mse = mean_grid_mse(joint, 10, (0, 1), n_tasks=20)
    assert maml_mse[1] < 0.8 * joint_mse[1], (maml_mse, joint_mse)
    assert maml_mse[1] < 0.8 * maml_mse[0]  # the step itself matters: MAML's initialisation alone is no fit


def test_figures_show_the_wave_the_points_and_each_step_count(task_points):
    task, x, y = task_points
    curve = fine_tune_curve(regressor(), task, x, y, steps=[0, 1, 10])
    figure = fine_tune_figure(curve, x, y, "MAML")
    names = [trace.name for trace in figure.data]
    assert names[0] == "true wave" and names[-1] == "the 10 points (K)" and len(names) == 5
    assert names[2].startswith(f"after 1 step (MSE {curve.mse[1]:.3f}")
    records = [SineProgress(step, 1.0 / step, 2.0, 0.1 * step) for step in range(1, 101)]
    curves = sine_training_curves(records, records[:50], window=10)
    assert len(curves.data) == 4 and len(curves.data[3].x) == 50
    assert curves.data[0].y[-1] == pytest.approx(sum(1.0 / s for s in range(91, 101)) / 10)


def test_the_scrub_figures_take_their_words_from_the_caller_and_keep_their_axes_still(task_points):
    task, x, y = task_points
    curves = [fine_tune_curve(regressor(seed), task, x, y, steps=[0, 1]) for seed in (0, 1)]
    figures = [fit_at_step_figure(c.grid.numpy(), c.truth.numpy(), [("after one", c.predictions[1].numpy(), "red",
                                  "solid")], x[:, 0].numpy(), y[:, 0].numpy(), "at step 5", "wave", "points")
               for c in curves]  # fmt: skip
    assert [t.name for t in figures[0].data] == ["wave", "after one", "points"]
    assert figures[0].layout.title.text == "at step 5"
    assert figures[0].layout.yaxis.range == figures[1].layout.yaxis.range  # set by the wave, not the predictions
    assert list(figures[0].data[1].y) != list(figures[1].data[1].y)
    by_step = value_by_step_figure([0, 10, 20], [("MAML", [3.0, 1.0, 0.5], "blue")], 10, "t", "step", "MSE")
    assert list(by_step.data[0].x) == [0, 10, 20] and by_step.layout.shapes[0].x0 == 10
    assert by_step.layout.xaxis.title.text == "step" and by_step.layout.yaxis.type == "log"
