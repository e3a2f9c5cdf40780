import copy
import math

import pytest
import torch

from core.algorithms import PrototypicalNetworks
from core.episodes import EpisodeSampler
from core.preprocessing import Preprocessing
from core.training import Progress, TrainConfig, train
from core.training.config import cpu_has_bf16


@pytest.fixture
def setup(small_glyphs):
    torch.manual_seed(0)
    model = PrototypicalNetworks(Preprocessing(mean=(0.09,), std=(0.26,)), hidden=16)
    sampler = EpisodeSampler(small_glyphs, "background", 5, 1, 2, seed=0)
    validation = EpisodeSampler(small_glyphs, "evaluation", 5, 1, 3, seed=1)
    return model, sampler, validation


def test_records_are_flat_and_validation_arrives_when_due(setup):
    model, sampler, validation = setup
    config = TrainConfig(episodes=6, validate_every=3, validation_episodes=4)
    records = list(train(model, sampler, config, validation))
    assert [r.step for r in records] == [1, 2, 3, 4, 5, 6]
    assert all(isinstance(r, Progress) for r in records)
    assert [r.val_accuracy is not None for r in records] == [False, False, True, False, False, True]
    assert records[0].seconds <= records[-1].seconds
    assert all(isinstance(v, int | float | bool | type(None)) for v in records[-1].__dict__.values())


def test_learning_rate_follows_the_step_decay(setup):
    model, sampler, _ = setup
    records = list(train(model, sampler, TrainConfig(episodes=5, lr_decay_every=2, validate_every=0)))
    assert [round(r.learning_rate, 6) for r in records] == [0.001, 0.0005, 0.0005, 0.00025, 0.00025]


def test_stopping_early_and_finishing_restores_the_best_validated_weights(setup):
    model, sampler, validation = setup
    run = train(model, sampler, TrainConfig(episodes=100, validate_every=2, validation_episodes=3), validation)
    for record in run:
        if record.step == 2:
            validated = {k: v.clone() for k, v in model.state_dict().items()}
        if record.step == 3:  # weights moved on after the only validation
            break
    assert not all(torch.equal(validated[k], v) for k, v in model.state_dict().items())
    run.finish()
    assert run.best_step == 2 and not model.training
    assert all(torch.equal(validated[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("task_batched", [False, True], ids=["per-task loop", "task-batched"])
def test_a_meta_batch_steps_on_the_mean_of_its_episodes_gradients(setup, task_batched):
    model, sampler, _ = setup
    start = copy.deepcopy(model.state_dict())
    single = [_episode_gradient(model, start, sampler.episode(index)) for index in range(3)]  # step 0 draws 0, 1, 2
    mean = torch.stack([gradient for _, gradient in single]).mean(0)
    model.load_state_dict(start)
    config = TrainConfig(episodes=1, meta_batch=3, validate_every=0, task_batched=task_batched)
    run = train(model, sampler, config)
    applied = []
    run.optimizer.register_step_pre_hook(lambda *_: applied.append(_flat([p.grad for p in model.parameters()])))
    record = next(run)
    assert len(applied) == 1 and record.loss == pytest.approx(sum(loss for loss, _ in single) / 3, rel=1e-5)
    # float32 sums in another order differ by ~1e-5 of the norm; any one episode (or the sum) is off by ~1
    assert _relative_error(applied[0], mean) < 1e-3
    assert all(_relative_error(gradient, mean) > 0.1 for _, gradient in single)


def _episode_gradient(model, state, episode) -> tuple[float, torch.Tensor]:
    """One episode's loss and flat parameter gradient from ``state``, in training mode like the loop."""
    model.load_state_dict(state)
    model.train()
    loss, _ = model.episode_loss(episode)
    return loss.item(), _flat(torch.autograd.grad(loss, list(model.parameters())))


def _flat(tensors) -> torch.Tensor:
    return torch.cat([t.detach().flatten() for t in tensors])


def _relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    return ((got - expected).norm() / expected.norm()).item()


def test_a_diverging_loss_stops_with_advice(setup):
    model, sampler, _ = setup
    with torch.no_grad():
        model.backbone.blocks[0][0].weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="smaller learning rate"):
        next(train(model, sampler, TrainConfig(episodes=2, validate_every=0)))


def test_amp_is_refused_on_a_cpu_without_bf16_instructions_with_advice(setup, monkeypatch):
    model, sampler, _ = setup
    monkeypatch.setattr("core.training.config.cpu_has_bf16", lambda: False)
    with pytest.raises(ValueError, match="needs a CUDA device or a CPU with bf16 instructions.*Drop --amp"):
        train(model, sampler, TrainConfig(episodes=1, amp=True))


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no bf16 instructions (AVX-512 BF16 or AMX)")
def test_amp_on_a_bf16_cpu_trains_in_bf16_and_validates_in_float32(setup):
    model, sampler, validation = setup
    seen = []
    model.backbone.blocks[0][0].register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    run = train(model, sampler, TrainConfig(episodes=2, validate_every=2, validation_episodes=2, amp=True), validation)
    records = list(run)
    assert torch.bfloat16 in seen and torch.float32 in seen  # training under autocast, validation outside it
    assert all(math.isfinite(r.loss) for r in records) and records[-1].val_accuracy is not None
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_a_non_finite_loss_leaves_the_last_good_weights_and_statistics(setup, monkeypatch):
    model, sampler, _ = setup
    run = train(model, sampler, TrainConfig(episodes=3, validate_every=0))
    next(run)
    good = {k: v.clone() for k, v in model.state_dict().items()}
    inputs = model.inputs

    def poisoned(episode):  # infinite pixels: the forward pass runs BatchNorm's statistics into NaN
        support_x, support_y, query_x, query_y = inputs(episode)
        return support_x * float("inf"), support_y, query_x, query_y

    monkeypatch.setattr(model, "inputs", poisoned)
    with pytest.raises(FloatingPointError, match="smaller learning rate"):
        next(run)
    assert run.step == 1 and all(torch.equal(good[k], v) for k, v in model.state_dict().items())


def test_resuming_from_the_resume_state_repeats_the_same_updates(setup, small_glyphs):
    model, sampler, _ = setup
    start = {k: v.clone() for k, v in model.state_dict().items()}
    whole = train(model, sampler, TrainConfig(episodes=4, lr_decay_every=3, validate_every=0))
    list(whole)
    model.load_state_dict(start)
    half = train(model, sampler, TrainConfig(episodes=2, lr_decay_every=3, validate_every=0))
    list(half)
    rest = train(model, sampler, TrainConfig(episodes=4, lr_decay_every=3, validate_every=0))
    rest.resume(2, half.resume_state())
    assert [r.step for r in rest] == [3, 4] and rest.optimizer.param_groups[0]["lr"] == pytest.approx(5e-4)
    for key, value in whole.resume_state().items():
        assert torch.allclose(value.float(), rest.resume_state()[key].float(), atol=1e-6), key


def test_clipping_bounds_each_part_of_the_model_separately():
    from core.algorithms import RelationNetworks
    from core.training.config import clip_each_part

    model = RelationNetworks(Preprocessing(mean=(0.1,), std=(0.3,)), hidden=8)
    for parameter in model.embedding.parameters():
        parameter.grad = torch.full_like(parameter, 3.0)
    for parameter in model.relation.parameters():
        parameter.grad = torch.full_like(parameter, 1e-4)  # already under the bound: left as it is
    small = [p.grad.clone() for p in model.relation.parameters()]
    clip_each_part(model, 0.5)
    norm = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model.embedding.parameters()]))
    assert norm == pytest.approx(0.5, rel=1e-4)
    assert all(torch.equal(p.grad, s) for p, s in zip(model.relation.parameters(), small))


def test_training_clips_before_each_optimiser_step(setup, monkeypatch):
    model, sampler, _ = setup
    norms = []
    original = torch.optim.Adam.step

    def step(self, *args, **kwargs):
        norms.append(torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model.parameters()])).item())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    list(train(model, sampler, TrainConfig(episodes=3, validate_every=0, clip_grad_norm=1e-3, snapshots=0)))
    assert len(norms) == 3 and max(norms) <= 1e-3 * (1 + 1e-4)


def test_the_cosine_schedule_falls_from_the_rate_to_the_floor_and_a_resumed_run_follows_it(setup):
    model, sampler, _ = setup
    config = TrainConfig(episodes=4, validate_every=0, lr_schedule="cosine", min_learning_rate=1e-5, snapshots=0)
    rates = [r.learning_rate for r in train(model, sampler, config)]
    assert rates == pytest.approx([1e-5 + (1e-3 - 1e-5) * (1 + math.cos(math.pi * s / 4)) / 2 for s in (1, 2, 3, 4)])
    assert rates[-1] == pytest.approx(1e-5)
    resumed = train(model, sampler, config)
    resumed.resume(2, resumed.resume_state())
    assert [r.learning_rate for r in resumed] == pytest.approx(rates[2:])
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        train(model, sampler, TrainConfig(lr_schedule="linear"))


def test_an_annealed_run_holds_its_rate_until_the_anneal_starts_then_falls_to_the_floor(setup):
    model, sampler, _ = setup
    config = TrainConfig(episodes=6, validate_every=0, lr_schedule="cosine", anneal_from=2, snapshots=0)
    rates = [r.learning_rate for r in train(model, sampler, config)]
    falling = [1e-5 + (1e-3 - 1e-5) * (1 + math.cos(math.pi * (s - 2) / 4)) / 2 for s in (3, 4, 5, 6)]
    assert rates == pytest.approx([1e-3, 1e-3, *falling])
    resumed = train(model, sampler, config)  # a later sitting that starts the anneal where the first stopped
    resumed.resume(2, resumed.resume_state())
    assert [r.learning_rate for r in resumed] == pytest.approx(falling)
    for wrong in (TrainConfig(episodes=6, anneal_from=2), TrainConfig(episodes=6, lr_schedule="cosine", anneal_from=6)):
        with pytest.raises(ValueError, match="anneal_from"):
            train(model, sampler, wrong)


def test_maml_is_first_order_for_the_first_steps_then_its_own_order(small_glyphs):
    from core.algorithms import MAML

    model = MAML(Preprocessing(mean=(0.09,), std=(0.26,)), n_way=5, hidden=8)
    sampler = EpisodeSampler(small_glyphs, "background", 5, 1, 1, seed=0)
    orders = []
    original = model.meta_batch_loss

    def spy(*inputs):
        orders.append(model.first_order)
        return original(*inputs)

    model.meta_batch_loss = spy
    list(train(model, sampler, TrainConfig(episodes=4, meta_batch=2, validate_every=0, first_order_until=2)))
    assert orders == [True, True, False, False] and model.first_order is False
    with pytest.raises(ValueError, match="first_order_until is for MAML"):
        train(PrototypicalNetworks(Preprocessing(mean=(0.09,), std=(0.26,)), hidden=8), sampler,
              TrainConfig(first_order_until=3))  # fmt: skip
