"""The one inner loop: the task-batched pass against the per-task loop, its reference."""

import pytest
import torch

from core.algorithms import MAML, fused_block
from core.algorithms.adaptation import task_batched, task_batched_classifier
from core.algorithms.maml import multi_step_weights
from core.episodes import EpisodeSampler, stack_episodes
from core.preprocessing import Preprocessing
from core.training import TrainConfig, train


def _maml(**settings) -> MAML:
    torch.manual_seed(0)
    return MAML(Preprocessing(mean=(0.1,), std=(0.3,)), n_way=5, hidden=8, **settings).double().train()


def _episodes(dataset, count: int, n_shot: int = 1):
    sampler = EpisodeSampler(dataset, "background", 5, n_shot, 2, seed=3)
    return [sampler.episode(i) for i in range(count)]


def _inputs(model: MAML, episode):
    return [t.double() if t.is_floating_point() else t for t in MAML.inputs(model, episode)]


def _loop_gradients(model: MAML, episodes) -> list[torch.Tensor]:
    model.zero_grad()
    for episode in episodes:
        support_x, support_y, query_x, query_y = _inputs(model, episode)
        (model.loss(model(support_x, support_y, query_x), query_y) / len(episodes)).backward()
    return [p.grad.clone() for p in model.parameters()]


def _batched_gradients(model: MAML, episodes) -> list[torch.Tensor]:
    model.zero_grad()
    loss, _ = model.meta_batch_loss(*_inputs(model, stack_episodes(episodes)))
    loss.backward()
    return [p.grad.clone() for p in model.parameters()]


@pytest.fixture(params=["fused kernel", "PyTorch kernels"])
def block_kernel(request, monkeypatch):
    """The task-batched pass with our BatchNorm + pool kernel (fused_block.py), and without it."""
    if request.param == "PyTorch kernels":
        monkeypatch.setenv(fused_block.DISABLE, "1")
    elif not fused_block.ready(wait=True):
        pytest.skip(f"the fused kernel is not built here: {fused_block.unavailable_reason()}")
    return request.param


@pytest.mark.parametrize("steps", [1, 5])
@pytest.mark.parametrize("variant", ["second order", "first order", "Meta-SGD"])
def test_the_task_batched_meta_gradient_equals_the_per_task_loop(small_glyphs, steps, variant, block_kernel):
    model = _maml(inner_lr=0.3, train_steps=steps, first_order=variant == "first order",
                  meta_sgd=variant == "Meta-SGD")  # fmt: skip
    episodes = _episodes(small_glyphs, 4)
    expected, got = _loop_gradients(model, episodes), _batched_gradients(model, episodes)
    exact_zeros, scale = 0, max(g.abs().max().item() for g in expected)
    for (name, _), want, have in zip(model.named_parameters(), expected, got, strict=True):
        if want.abs().max() < 1e-9 * scale:
            # a conv bias in front of BatchNorm (and its Meta-SGD rate) has a zero gradient in exact
            # arithmetic, known only to float64 rounding: compare absolutely
            assert (have - want).abs().max().item() < 1e-10 * scale, name
            exact_zeros += 1
        else:
            assert torch.allclose(have, want, rtol=1e-8, atol=1e-8 * want.abs().max().item()), name
    assert exact_zeros <= (8 if variant == "Meta-SGD" else 4)  # the conv biases (and their rates) only


def test_the_task_batched_classifier_gives_each_task_s_own_logits(small_glyphs):
    model = _maml()
    episodes = _episodes(small_glyphs, 3, n_shot=2)
    batch = _inputs(model, stack_episodes(episodes))
    params = task_batched(model.initial_params(), len(episodes))
    batched = task_batched_classifier(params, batch[0])
    for index, episode in enumerate(episodes):
        assert torch.allclose(batched[index], model.net(_inputs(model, episode)[0]), atol=1e-12)


def test_the_adapted_predictions_are_identical(small_glyphs):
    model = _maml(inner_lr=0.4, train_steps=3)
    episodes = _episodes(small_glyphs, 3)
    support_x, support_y, query_x, query_y = _inputs(model, stack_episodes(episodes))
    _, accuracy = model.meta_batch_loss(support_x, support_y, query_x, query_y)
    per_task = [(model(*_inputs(model, e)[:3]).argmax(1) == e.query_y).double().mean() for e in episodes]
    assert accuracy.item() == pytest.approx(torch.stack(per_task).mean().item(), abs=1e-6)  # a float32 mean


def test_episodes_of_different_shapes_are_not_stacked(small_glyphs):
    first = EpisodeSampler(small_glyphs, "background", 5, 1, 2, seed=0).episode(0)
    other = EpisodeSampler(small_glyphs, "background", 5, 2, 2, seed=0).episode(0)
    assert stack_episodes([first, other]) is None
    assert stack_episodes([first, first]).support_x.shape == (2, *first.support_x.shape)


def test_twenty_training_steps_give_the_same_weights_by_loop_one_pass_and_passes_of_two_tasks(small_glyphs):
    weights = []
    for task_batched_run, images in ((False, None), (True, 10**6), (True, 2 * 15)):
        model = _maml(inner_lr=0.4, train_steps=2)
        model.inputs = lambda episode, model=model: _inputs(model, episode)  # float64 all through
        sampler = EpisodeSampler(small_glyphs, "background", 5, 1, 2, seed=0)
        config = TrainConfig(
            episodes=20, meta_batch=4, validate_every=0, task_batched=task_batched_run, task_batch_images=images
        )  # 15 images a task: 2 tasks a pass
        records = list(train(model, sampler, config))
        assert len(records) == 20
        weights.append([p.detach().clone() for p in model.parameters()])
    for loop, batched, passes in zip(*weights, strict=True):
        assert torch.allclose(loop, passes, rtol=1e-7, atol=1e-9)
        # float64: in float32, Adam's first steps (lr x the gradient's sign) turn rounding noise in
        # near-zero gradients into whole steps, and the runs drift apart by ~1e-2
        assert torch.allclose(loop, batched, rtol=1e-7, atol=1e-9)


def test_pooling_before_batch_norms_affine_map_keeps_values_and_second_derivatives():
    """batch_norm_pooled = max_pool(batch_norm_from_moments(.)), negative scales included (they flip the pool)."""
    from torch.nn import functional as F

    from core.algorithms.adaptation import batch_norm_from_moments, batch_norm_pooled

    torch.manual_seed(0)
    x = torch.randn(6, 8, 10, 10, dtype=torch.float64, requires_grad=True)
    scale = torch.randn(8, dtype=torch.float64).requires_grad_()  # about half of them negative
    shift = torch.randn(8, dtype=torch.float64, requires_grad=True)
    assert (scale < 0).any() and (scale > 0).any()
    weights, probe = torch.randn(6, 8, 5, 5, dtype=torch.float64), torch.randn(6, 8, 10, 10, dtype=torch.float64)

    def first_and_second(out):
        first = torch.autograd.grad((out * weights).square().sum(), (x, scale, shift), create_graph=True)
        second = torch.autograd.grad((first[0] * probe).sum() + first[1].sum() + first[2].sum(), (x, scale, shift))
        return out, *first, *second

    reference = first_and_second(F.max_pool2d(batch_norm_from_moments(x, scale, shift), 2))
    pooled = first_and_second(batch_norm_pooled(x, scale, shift))
    for ours, theirs in zip(pooled, reference, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-11)


def _loop_episode_gradients(model: MAML, episodes) -> list[torch.Tensor]:
    """The per-task path as the training loop takes it (``episode_loss``), in float64."""
    model.inputs = lambda episode: _inputs(model, episode)
    model.zero_grad()
    for episode in episodes:
        loss, _ = model.episode_loss(episode)
        (loss / len(episodes)).backward()
    return [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("steps", [1, 3])
@pytest.mark.parametrize("first_order", [False, True])
def test_per_step_rates_and_the_multi_step_loss_agree_between_the_loop_and_the_task_batched_pass(
    small_glyphs, steps, first_order
):
    model = _maml(inner_lr=0.3, train_steps=steps, first_order=first_order, per_step_rates=True)
    with torch.no_grad():  # distinct rates per step and layer, so that a mix-up would show
        model.step_lrs.copy_(0.1 + 0.3 * torch.rand_like(model.step_lrs))
    model.step_loss_weights = multi_step_weights(steps, 0.4)
    episodes = _episodes(small_glyphs, 3)
    expected, got = _loop_episode_gradients(model, episodes), _batched_gradients(model, episodes)
    scale = max(g.abs().max().item() for g in expected)
    for (name, _), want, have in zip(model.named_parameters(), expected, got, strict=True):
        assert torch.allclose(have, want, rtol=1e-8, atol=1e-10 * scale), name
    assert model.step_lrs.grad is not None and model.step_lrs.grad.abs().sum() > 0  # the rates are learned


def test_equal_per_step_rates_and_a_last_step_only_weighting_are_plain_maml(small_glyphs):
    plain = _maml(inner_lr=0.3, train_steps=2)
    lslr = _maml(inner_lr=0.3, train_steps=2, per_step_rates=True)
    lslr.load_state_dict(plain.state_dict(), strict=False)
    lslr.step_loss_weights = torch.tensor([0.0, 1.0])
    episodes = _episodes(small_glyphs, 2)
    batch = stack_episodes(episodes)
    want, _ = plain.meta_batch_loss(*_inputs(plain, batch))
    have, _ = lslr.meta_batch_loss(*_inputs(lslr, batch))
    assert torch.allclose(have, want, rtol=1e-12)
    assert multi_step_weights(4, 0.0).tolist() == pytest.approx([0.25] * 4)
    for progress in (0.3, 1.0):
        weights = multi_step_weights(4, progress)
        assert weights.sum().item() == pytest.approx(1.0) and weights[-1] == weights.max()
    assert multi_step_weights(4, 1.0)[:3].tolist() == pytest.approx([0.0075] * 3)
    with pytest.raises(ValueError, match="not both"):
        _maml(meta_sgd=True, per_step_rates=True)


def test_the_training_loop_anneals_the_multi_step_loss_then_drops_it(small_glyphs):
    model = _maml(inner_lr=0.3, train_steps=2).float()
    seen = []
    original = model.meta_batch_loss

    def spy(*inputs):
        weights = model.step_loss_weights
        seen.append(None if weights is None else weights.tolist())
        return original(*inputs)

    model.meta_batch_loss = spy
    sampler = EpisodeSampler(small_glyphs, "background", 5, 1, 2, seed=0)
    list(train(model, sampler, TrainConfig(episodes=3, meta_batch=2, validate_every=0, multi_step_loss_until=2)))
    assert seen[0] == pytest.approx([0.5, 0.5]) and seen[1][1] > seen[1][0] and seen[2] is None
    assert model.step_loss_weights is None


@pytest.mark.parametrize("first_order", [False, True])
def test_per_step_batch_norm_agrees_between_the_loop_and_the_one_pass_and_is_learned(small_glyphs, first_order):
    model = _maml(inner_lr=0.3, train_steps=2, first_order=first_order, per_step_batch_norm=True)
    with torch.no_grad():  # each step's scale and shift distinct, so that a mix-up of steps would show
        for name, rows in zip(model.batch_norm_names, model.step_norms):
            rows.add_(0.3 * torch.randn_like(rows))
            model.net.get_parameter(name).add_(0.3 * torch.randn_like(rows[0]))
    model.step_loss_weights = multi_step_weights(2, 0.5)
    episodes = _episodes(small_glyphs, 3)
    expected, got = _loop_episode_gradients(model, episodes), _batched_gradients(model, episodes)
    for (name, _), want, have in zip(model.named_parameters(), expected, got, strict=True):
        scale = want.abs().max().item()
        assert torch.allclose(have, want, rtol=1e-8, atol=1e-10 + 1e-8 * scale), name
    assert all(rows.grad is not None and rows.grad.abs().sum() > 0 for rows in model.step_norms)
    assert not set(model.batch_norm_names) & set(model.initial_params())  # not adapted in the inner loop


def test_per_step_batch_norm_starts_as_the_nets_own_and_holds_it_after_the_trained_steps(small_glyphs):
    model = _maml(inner_lr=0.3, train_steps=2, per_step_batch_norm=True).eval()
    episode = _episodes(small_glyphs, 1)[0]
    support_x, support_y, _, _ = _inputs(model, episode)
    params, _ = model.adapt(support_x, support_y, 2)
    for name in model.batch_norm_names:  # every row starts as the net's own, and is held, not adapted
        assert torch.equal(params[name], model.net.get_parameter(name))
    model.inputs = lambda episode: _inputs(model, episode)
    assert len(model.explain(episode, steps=3).query_loss) == 4  # past the trained steps: the net's own serve
