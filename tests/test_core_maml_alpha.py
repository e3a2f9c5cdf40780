"""MAML's trace at another inner learning rate α than the model's own (the MAML page's α slider)."""

import itertools
import math

import pytest
import torch

from core.algorithms import MAML
from core.episodes import EpisodeSampler
from core.preprocessing import Preprocessing


@pytest.fixture
def maml():
    torch.manual_seed(0)
    return MAML(Preprocessing(mean=(0.09,), std=(0.26,)), n_way=5, hidden=8, inner_lr=0.4).eval()


@pytest.fixture
def episode(small_glyphs):
    return EpisodeSampler(small_glyphs, "evaluation", 5, 1, 3, seed=0).episode(0)


def test_the_models_own_alpha_given_explicitly_gives_the_same_trace(maml, episode):
    own, explicit = maml.explain(episode, steps=3), maml.explain(episode, steps=3, inner_lr=0.4)
    assert own.support_loss == explicit.support_loss and own.query_loss == explicit.query_loss
    assert own.query_accuracy == explicit.query_accuracy


def test_alpha_zero_never_moves_and_another_alpha_changes_every_step_after_the_first(maml, episode):
    still = maml.explain(episode, steps=3, inner_lr=0.0)
    assert still.support_loss == pytest.approx([still.support_loss[0]] * 4, rel=1e-5)
    own, smaller = maml.explain(episode, steps=3), maml.explain(episode, steps=3, inner_lr=0.1)
    assert smaller.support_loss[0] == own.support_loss[0]  # the same initialisation
    assert all(a != b for a, b in zip(smaller.support_loss[1:], own.support_loss[1:], strict=True))


def test_a_small_alpha_lowers_the_support_loss_at_every_step_and_a_huge_one_makes_it_grow(maml, episode):
    small = maml.explain(episode, steps=4, inner_lr=0.05).support_loss
    assert all(after < before for before, after in itertools.pairwise(small))
    huge = maml.explain(episode, steps=4, inner_lr=50.0).support_loss
    assert any(not after <= before for before, after in itertools.pairwise(huge))  # overshoots (NaN counts)
    assert max(v for v in huge if math.isfinite(v)) > huge[0]


def test_meta_sgd_learned_rates_are_replaced_by_one_alpha_when_given(episode):
    torch.manual_seed(0)
    model = MAML(Preprocessing(mean=(0.09,), std=(0.26,)), n_way=5, hidden=8, inner_lr=0.4, meta_sgd=True).eval()
    with torch.no_grad():
        for rate in model.inner_lrs:
            rate.mul_(0.25)  # learned rates unlike 0.4
    learned, single = model.explain(episode, steps=2), model.explain(episode, steps=2, inner_lr=0.4)
    assert learned.support_loss[1] != single.support_loss[1]
    torch.manual_seed(0)
    plain = MAML(Preprocessing(mean=(0.09,), std=(0.26,)), n_way=5, hidden=8, inner_lr=0.4).eval()
    assert single.support_loss == pytest.approx(plain.explain(episode, steps=2).support_loss)
