import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from core.algorithms import MAML
from core.algorithms.adaptation import adapt, classification_loss, query_logits
from core.algorithms.maml_vectorised import meta_batch_loss
from core.episodes import EpisodeSampler
from core.preprocessing import Preprocessing


@pytest.fixture
def maml():
    torch.manual_seed(0)
    return MAML(Preprocessing(mean=(0.09,), std=(0.26,)), n_way=5, hidden=8, inner_lr=0.4)


@pytest.fixture
def episode(small_glyphs):
    return EpisodeSampler(small_glyphs, "evaluation", 5, 1, 3, seed=0).episode(0)


def test_zero_inner_steps_is_the_base_network(maml, episode):
    support_x, support_y, query_x, _ = maml.inputs(episode)
    params, losses = maml.adapt(support_x, support_y, steps=0)
    assert losses == []
    assert torch.equal(functional_call(maml.net, params, (query_x,)), maml.net(query_x))


def test_a_query_batch_of_one_per_class_is_normalised_alone_and_a_smaller_one_with_the_support_set(maml, episode):
    support_x, support_y, query_x, _ = maml.inputs(episode)
    params, _ = maml.adapt(support_x, support_y, steps=1)
    with torch.no_grad():
        alone = functional_call(maml.net, params, (query_x,))
        assert torch.equal(query_logits(maml.net, params, support_x, support_y, query_x), alone)  # evaluation as before
        lone = query_logits(maml.net, params, support_x, support_y, query_x[:1])
        beside = functional_call(maml.net, params, (torch.cat([support_x, query_x[:1]]),))[-1:]
        assert torch.equal(lone, beside)
        assert not torch.allclose(lone, functional_call(maml.net, params, (query_x[:1],)))


def test_one_inner_step_lowers_the_support_loss(maml, episode):
    support_x, support_y, _, _ = maml.inputs(episode)
    params, (before,) = maml.adapt(support_x, support_y, steps=1)
    after = F.cross_entropy(functional_call(maml.net, params, (support_x,)), support_y).item()
    assert after < before


def test_adaptation_works_under_no_grad(maml, episode):
    support_x, support_y, query_x, _ = maml.inputs(episode)
    maml.eval()
    with torch.no_grad():
        adapted = maml(support_x, support_y, query_x)
        base = maml.net(query_x)
    assert not torch.allclose(adapted, base)
    trace = maml.explain(episode, steps=3)
    assert len(trace.support_loss) == len(trace.query_loss) == len(trace.query_accuracy) == 4
    assert len(trace.update_norms) == 3 and set(trace.update_norms[0]) >= {"head", "features.blocks.0.0"}
    assert trace.support_loss[-1] < trace.support_loss[0]


def _tiny_problem():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    xs, ys = torch.randn(6, 3, dtype=torch.float64), torch.tensor([0, 1, 0, 1, 0, 1])
    xq, yq = torch.randn(6, 3, dtype=torch.float64), torch.tensor([1, 0, 1, 0, 1, 0])

    def meta_loss(params, first_order=False):
        adapted, _ = adapt(classification_loss(model, xs, ys), params, 2, 0.5, first_order)
        return F.cross_entropy(functional_call(model, adapted, (xq,)), yq)

    return model, meta_loss


def test_second_order_meta_gradient_matches_finite_differences_and_differs_from_first_order():
    model, meta_loss = _tiny_problem()
    params = {k: v.detach().clone().requires_grad_() for k, v in model.named_parameters()}
    exact = torch.autograd.grad(meta_loss(params), list(params.values()))
    first = torch.autograd.grad(meta_loss(params, first_order=True), list(params.values()))
    name, index, eps = "0.weight", (1, 2), 1e-6
    shifted = {k: v.detach().clone() for k, v in params.items()}
    shifted[name][index] += eps
    up = meta_loss({k: v.requires_grad_() for k, v in shifted.items()}).item()
    shifted = {k: v.detach().clone() for k, v in params.items()}
    shifted[name][index] -= eps
    down = meta_loss({k: v.requires_grad_() for k, v in shifted.items()}).item()
    numeric = (up - down) / (2 * eps)
    position = list(params).index(name)
    assert exact[position][index].item() == pytest.approx(numeric, rel=1e-5, abs=1e-8)
    assert not torch.allclose(exact[position], first[position])


def test_meta_sgd_learning_rates_receive_gradients(episode):
    torch.manual_seed(0)
    model = MAML(Preprocessing(), n_way=5, hidden=8, meta_sgd=True)
    loss, _ = model.episode_loss(episode)
    loss.backward()
    assert len(model.inner_lrs) == len(list(model.net.parameters()))
    assert all(rate.grad is not None and rate.grad.abs().sum() > 0 for rate in model.inner_lrs)


def test_a_head_of_the_wrong_size_says_what_to_do(maml, small_glyphs):
    episode = EpisodeSampler(small_glyphs, "evaluation", 3, 1, 1, seed=0).episode(0)
    with pytest.raises(ValueError, match="5-way head; sample 5-way episodes"):
        maml.predict_episode(episode)


@pytest.mark.parametrize("first_order", [False, True])
def test_the_vectorised_meta_batch_has_the_loop_s_meta_gradient(small_glyphs, first_order):
    torch.manual_seed(0)
    model = MAML(Preprocessing(), n_way=5, hidden=8, inner_lr=0.4, train_steps=2, first_order=first_order).double()
    model.train()
    episodes = [EpisodeSampler(small_glyphs, "background", 5, 1, 3, seed=0).episode(i) for i in range(3)]
    inputs = [[t.double() if t.is_floating_point() else t for t in model.inputs(e)] for e in episodes]
    for support_x, support_y, query_x, query_y in inputs:  # the reference: one task at a time
        (model.loss(model(support_x, support_y, query_x), query_y) / len(episodes)).backward()
    loop = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    stacked = [torch.stack([tensors[i] for tensors in inputs]) for i in range(4)]
    loss, _ = meta_batch_loss(model.initial_params(), model.learning_rates(), *stacked, 2, first_order)
    loss.backward()
    for (name, parameter), expected in zip(model.named_parameters(), loop, strict=True):
        # 1e-12 absolute: a conv bias before BatchNorm has a zero gradient, known only to float64 rounding
        tolerance = 1e-9 * expected.abs().max().item() + 1e-12
        difference = (parameter.grad - expected).abs().max().item()
        assert difference <= tolerance, f"{name}: {difference} vs {tolerance}"


def test_the_inner_learning_rate_at_test_can_differ_from_training(episode):
    torch.manual_seed(0)
    model = MAML(Preprocessing(), n_way=5, hidden=8, inner_lr=0.4, test_inner_lr=0.0)
    support_x, support_y, query_x, _ = model.inputs(episode)
    model.eval()
    with torch.no_grad():  # alpha 0 at test: adaptation changes nothing
        assert torch.allclose(model(support_x, support_y, query_x), model.net(query_x), atol=1e-3)
    model.train()
    params, _ = model.adapt(support_x, support_y, steps=1)
    assert not torch.equal(params["head.weight"], model.net.head.weight)
