"""The one-shot game: trials as Lake's, scoring of people and models on the same trials."""

from __future__ import annotations

import pytest
import torch

from core.compare.baselines import pixel_nearest_neighbour_predict
from core.compare.game import alphabet, model_score, one_shot_trials, score


def test_a_trial_is_one_drawing_per_character_and_one_new_drawing_to_place(small_glyphs):
    trials = one_shot_trials(small_glyphs, "evaluation", 5, 20, seed=3)
    for trial in trials:
        assert trial.support_x.shape[0] == 5 and trial.query_x.shape[0] == 1
        assert torch.equal(trial.support_y, torch.arange(5))
        target = int(trial.query_y[0])
        assert not torch.equal(trial.query_x[0], trial.support_x[target])  # another drawing of the same character
        assert all(small_glyphs.class_splits[c] == "evaluation" for c in trial.class_ids)
    assert len({int(t.query_y[0]) for t in trials}) > 1  # the answer is not always in the same place


def test_within_alphabet_trials_draw_every_character_from_one_alphabet(small_glyphs):
    for trial in one_shot_trials(small_glyphs, "evaluation", 5, 10, seed=1, within_alphabet=True):
        assert len({alphabet(name) for name in trial.class_names}) == 1
    mixed = one_shot_trials(small_glyphs, "evaluation", 5, 30, seed=1, within_alphabet=False)
    assert any(len({alphabet(name) for name in trial.class_names}) > 1 for trial in mixed)


def test_trials_depend_only_on_the_seed(small_glyphs):
    first = one_shot_trials(small_glyphs, "evaluation", 5, 4, seed=9)
    again = one_shot_trials(small_glyphs, "evaluation", 5, 4, seed=9)
    other = one_shot_trials(small_glyphs, "evaluation", 5, 4, seed=10)
    assert all(torch.equal(a.query_x, b.query_x) for a, b in zip(first, again, strict=True))
    assert any(a.class_ids != b.class_ids for a, b in zip(first, other, strict=True))


def test_too_many_ways_for_any_alphabet_says_what_to_lower(small_glyphs):
    with pytest.raises(ValueError, match="lower n_way"):
        one_shot_trials(small_glyphs, "evaluation", 40, 3)


def test_a_perfect_player_scores_100_and_a_constant_player_scores_chance(small_glyphs):
    trials = one_shot_trials(small_glyphs, "evaluation", 5, 1000, seed=0, within_alphabet=False)
    perfect = score("perfect", [int(t.query_y[0]) for t in trials], trials)
    constant = score("always the first", [0] * len(trials), trials)
    assert perfect.accuracy.mean == 1.0
    assert abs(constant.accuracy.mean - 0.2) < 2 * constant.accuracy.ci95
    assert constant.accuracy.ci95 > 0


def test_answers_must_cover_every_trial(small_glyphs):
    trials = one_shot_trials(small_glyphs, "evaluation", 5, 3)
    with pytest.raises(ValueError, match="answer every trial"):
        score("you", [0, 1], trials)


def test_models_answer_the_same_trials(small_glyphs):
    trials = one_shot_trials(small_glyphs, "evaluation", 5, 30, seed=2)
    pixels = model_score("pixels", pixel_nearest_neighbour_predict, trials)
    assert len(pixels.answers) == 30 and pixels.accuracy.mean > 0.2

    def refuses(episode):
        raise ValueError("this MAML model has a 20-way head")

    assert "20-way head" in model_score("maml", refuses, trials).skipped
