import math

import pytest
import torch

from core.algorithms import FineTuning
from core.checkpoints import load_checkpoint, read_metadata, save_checkpoint
from core.cli.commands import main
from core.episodes import EpisodeSampler
from core.preprocessing import fitted_preprocessing
from core.training.pretraining import pretrain


@pytest.fixture
def model(small_glyphs):
    torch.manual_seed(0)
    preprocessing = fitted_preprocessing(small_glyphs.split_images("background"), bright_on_dark=True)
    return FineTuning(preprocessing, hidden=16, inner_lr=0.4)


def test_pretraining_learns_the_training_classes(model, small_glyphs):
    records = list(pretrain(model, small_glyphs, "background", epochs=4, batch_size=32))
    assert records[-1].step == records[-1].steps == len(records)
    first, last = records[:3], records[-3:]
    assert sum(r.loss for r in last) < sum(r.loss for r in first)
    n_classes = len(small_glyphs.classes_in("background"))
    assert sum(r.accuracy for r in last) / 3 > 3 / n_classes  # well above chance over all training classes


def test_a_new_task_starts_from_a_zero_head_and_one_step_helps(model, small_glyphs):
    list(pretrain(model, small_glyphs, "background", epochs=1, batch_size=32))
    episode = EpisodeSampler(small_glyphs, "evaluation", 4, 2, 3, seed=0).episode(0)
    trace = model.explain(episode, steps=2)
    assert trace.query_loss[0] == pytest.approx(math.log(4))  # uniform before any step
    assert trace.support_loss[1] < trace.support_loss[0]
    with torch.no_grad():
        assert model.predict_episode(episode).shape == (12,)  # adapts under no_grad, any n_way
    assert model.explain(episode, steps=1, inner_lr=0.0).support_loss[1] == pytest.approx(math.log(4))


def test_fractional_epochs_and_a_checkpoint_round_trip(model, small_glyphs, tmp_path):
    records = list(pretrain(model, small_glyphs, "background", epochs=0.5, batch_size=32))
    full = -(-len(small_glyphs.split_images("background")) // 32)
    assert len(records) == round(0.5 * full)
    save_checkpoint(tmp_path / "ft", model, {"note": "test"})
    loaded, _ = load_checkpoint(tmp_path / "ft")
    episode = EpisodeSampler(small_glyphs, "evaluation", 3, 1, 2, seed=1).episode(0)
    assert torch.equal(loaded.predict_episode(episode), model.predict_episode(episode))


@pytest.mark.slow
def test_the_cli_pretrains_and_tests(tmp_path):
    out = tmp_path / "finetune"
    flags = ["--algorithm", "finetune", "--dataset", "glyphs", "--epochs", "0.02", "--test-episodes", "5",
             "--test-shots", "1", "--test-steps", "2"]  # fmt: skip
    assert main(["train", *flags, "--out", str(out)]) == 0
    record = read_metadata(out)
    assert record["algorithm"] == "finetune" and record["settings"]["test_steps"] == 2
    assert record["training"]["pretraining"]["batches"] >= 1
    assert set(record["test_accuracy"]) == {"5-way 1-shot"}


def test_adaptation_is_chosen_as_the_best_pair_on_validation(small_glyphs):
    from core.training.pretraining import choose_adaptation

    torch.manual_seed(0)
    model = FineTuning(fitted_preprocessing(small_glyphs.split_images("background"), True), inner_lr=0.4, test_steps=1)
    validation = EpisodeSampler(small_glyphs, "evaluation", 3, 1, 2, seed=1)
    scores = choose_adaptation(model, validation, episodes=3, steps_options=(0, 2), rate_options=(0.01, 0.5))
    assert set(scores) == {(0, 0.01), (0, 0.5), (2, 0.01), (2, 0.5)}
    best = max(scores, key=scores.get)
    assert (model.test_steps, model.inner_lr) == best
    assert (model.settings["test_steps"], model.settings["inner_lr"]) == best
