"""Snapshots kept during training, saved in checkpoints, and training replayed from them (no Streamlit)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.algorithms import MAML, PrototypicalNetworks
from core.checkpoints import CheckpointError, load_checkpoint, load_snapshots, save_checkpoint
from core.episodes import EpisodeSampler
from core.preprocessing import Preprocessing
from core.sinusoid import SineTrainConfig, fine_tune_curve, mean_grid_mse, meta_train, random_task, regressor
from core.training import SnapshotKeeper, TrainConfig, train
from core.training.replay import maml_adaptations, models_at, protonet_maps, sine_fits

PREPROCESSING = Preprocessing(mean=(0.09,), std=(0.26,))


def _offer_all(keeper: SnapshotKeeper, model: torch.nn.Module, last: int) -> list[int]:
    for step in range(last + 1):
        with torch.no_grad():
            model.weight.fill_(step)  # each step's weights are recognisable
        keeper.offer(step, model)
    keeper.finish(last, model)
    return [snapshot.step for snapshot in keeper.snapshots]


@pytest.mark.parametrize("total", [9, 100, 2000, 2001])
def test_a_run_of_known_length_keeps_about_ten_evenly_spaced_steps_with_its_start_and_end(total):
    keeper = SnapshotKeeper(10, total)
    steps = _offer_all(keeper, torch.nn.Linear(1, 1), total)
    assert steps[0] == 0 and steps[-1] == total and 9 <= len(steps) <= 10
    assert set(np.diff(steps[:-1])) == {keeper.stride} and steps[-1] - steps[-2] <= keeper.stride


@pytest.mark.parametrize("last", [7, 30, 500, 4321])
def test_a_run_of_unknown_length_is_thinned_to_at_most_count_evenly_spaced_steps(last):
    keeper = SnapshotKeeper(8)
    steps = _offer_all(keeper, torch.nn.Linear(1, 1), last)
    regular = steps if last % keeper.stride == 0 else steps[:-1]
    assert steps[0] == 0 and steps[-1] == last and 5 <= len(regular) <= 8
    assert set(np.diff(regular)) == {keeper.stride}


def test_a_snapshot_is_a_copy_that_later_training_does_not_change():
    model = torch.nn.Linear(1, 1)
    keeper = SnapshotKeeper(4, 3)
    _offer_all(keeper, model, 3)
    assert [float(s.state["weight"]) for s in keeper.snapshots] == [0.0, 1.0, 2.0, 3.0]


@pytest.fixture
def protonet_run(small_glyphs):
    torch.manual_seed(0)
    model = PrototypicalNetworks(PREPROCESSING, hidden=16)
    sampler = EpisodeSampler(small_glyphs, "background", 5, 5, 5, seed=0)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    run = train(model, sampler, TrainConfig(episodes=40, validate_every=0, snapshots=5))
    for _ in run:
        pass
    return model, run, start


def test_the_training_loop_keeps_the_start_evenly_spaced_steps_and_the_end(protonet_run):
    model, run, start = protonet_run
    steps = [snapshot.step for snapshot in run.snapshots]
    assert steps == [0, 10, 20, 30, 40]
    assert all(torch.equal(run.snapshots[0].state[k], v) for k, v in start.items())
    assert all(torch.equal(run.snapshots[-1].state[k], v.cpu()) for k, v in model.state_dict().items())


def test_the_loop_keeps_none_when_asked_and_refuses_a_single_snapshot(setup_model_and_sampler):
    model, sampler = setup_model_and_sampler
    run = train(model, sampler, TrainConfig(episodes=3, validate_every=0, snapshots=0))
    assert len(list(run)) == 3 and run.snapshots == ()
    with pytest.raises(ValueError, match="snapshots must be 0"):
        train(model, sampler, TrainConfig(episodes=3, snapshots=1))


@pytest.fixture
def setup_model_and_sampler(small_glyphs):
    torch.manual_seed(0)
    return PrototypicalNetworks(PREPROCESSING, hidden=16), EpisodeSampler(small_glyphs, "background", 5, 1, 2)


def test_snapshots_round_trip_through_a_checkpoint_in_half_precision(protonet_run, tmp_path):
    model, run, _ = protonet_run
    save_checkpoint(tmp_path / "m", model, {"note": "with snapshots"}, run.snapshots)
    loaded, record = load_checkpoint(tmp_path / "m")
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())
    assert record["snapshots"] == {"steps": [0, 10, 20, 30, 40], "dtype": "float16"}
    replayed = load_snapshots(tmp_path / "m")
    assert [s.step for s in replayed] == [0, 10, 20, 30, 40]
    for saved, read in zip(run.snapshots, replayed):
        for name, tensor in saved.state.items():
            assert read.state[name].dtype == tensor.dtype
            torch.testing.assert_close(read.state[name], tensor, rtol=1e-3, atol=1e-3)


def test_a_checkpoint_without_snapshots_loads_and_has_none(setup_model_and_sampler, tmp_path):
    model, _ = setup_model_and_sampler
    save_checkpoint(tmp_path / "old", model, {})
    assert "snapshots" not in json.loads((tmp_path / "old.json").read_text())
    assert load_snapshots(tmp_path / "old") == () and load_checkpoint(tmp_path / "old")[0] is not None


def test_snapshot_steps_that_do_not_match_the_file_are_refused(protonet_run, tmp_path):
    model, run, _ = protonet_run
    save_checkpoint(tmp_path / "m", model, {}, run.snapshots)
    record = json.loads((tmp_path / "m.json").read_text())
    record["snapshots"]["steps"] = [0, 5]
    (tmp_path / "m.json").write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="snapshot steps"):
        load_snapshots(tmp_path / "m")


def test_protonet_maps_pull_classes_apart_over_training(protonet_run, small_glyphs):
    model, run, _ = protonet_run
    before = {k: v.clone() for k, v in model.state_dict().items()}
    episode = EpisodeSampler(small_glyphs, "evaluation", 5, 5, 5, seed=3).episode(0)
    maps = protonet_maps(model, run.snapshots, episode)
    assert [m.step for m in maps] == [0, 10, 20, 30, 40]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the model is not changed
    first, last = maps[0], maps[-1]
    assert last.separation > first.separation and last.accuracy > first.accuracy
    n_points = 25 + 25 + 5
    assert all(m.coords.shape == (n_points, 2) and 0 < m.explained <= 1 for m in maps)
    # the prototypes are class means in the plane too (PCA is affine, the alignment orthogonal)
    labels = np.concatenate([last.trace.support_y.numpy()])
    support = last.coords[:25]
    np.testing.assert_allclose(last.coords[-5:], [support[labels == c].mean(0) for c in range(5)], atol=1e-4)


def test_aligning_a_map_rotates_it_without_changing_any_distance(protonet_run, small_glyphs):
    model, run, _ = protonet_run
    episode = EpisodeSampler(small_glyphs, "evaluation", 5, 5, 5, seed=3).episode(0)
    aligned = protonet_maps(model, run.snapshots[:2], episode)[0]
    alone = protonet_maps(model, run.snapshots[:1], episode)[0]  # the last map is never rotated

    def distances(coords):
        return np.linalg.norm(coords[:, None] - coords[None], axis=-1)

    np.testing.assert_allclose(distances(aligned.coords), distances(alone.coords), atol=1e-6)


def test_maml_replay_traces_the_inner_loop_at_each_snapshot(small_glyphs):
    torch.manual_seed(0)
    model = MAML(PREPROCESSING, n_way=5, hidden=8, train_steps=1, test_steps=2, inner_lr=0.4)
    sampler = EpisodeSampler(small_glyphs, "background", 5, 1, 3, seed=0)
    run = train(model, sampler, TrainConfig(episodes=6, validate_every=0, snapshots=3))
    list(run)
    episode = EpisodeSampler(small_glyphs, "evaluation", 5, 1, 3, seed=1).episode(0)
    replays = maml_adaptations(model, run.snapshots, episode)
    assert [r.step for r in replays] == [0, 3, 6] and all(len(r.trace.query_loss) == 3 for r in replays)
    assert replays[0].trace.query_loss != replays[-1].trace.query_loss
    expected = model.eval().explain(episode)  # the last snapshot holds the final weights
    assert replays[-1].trace.query_loss == pytest.approx(expected.query_loss, rel=1e-5)


def test_sine_fits_after_one_step_improve_over_meta_training():
    config = SineTrainConfig(steps=300, meta_lr=0.01)
    model = regressor(config.seed)
    keeper = SnapshotKeeper(4, config.steps)
    keeper.offer(0, model)
    for record in meta_train(model, config):
        keeper.offer(record.step, model)
    keeper.finish(config.steps, model)
    task = random_task(7)
    x, y = task.points(10, seed=8)
    fits = sine_fits(model, keeper.snapshots, task, x, y, (0, 1))
    assert [f.step for f in fits] == [0, 100, 200, 300]
    untrained = fine_tune_curve(regressor(config.seed), task, x, y, (0, 1))
    assert torch.equal(fits[0].curve.predictions, untrained.predictions)
    held_out = [mean_grid_mse(replica, 10, (1,), 20)[0] for _, replica in models_at(model, keeper.snapshots)]
    assert held_out[-1] < held_out[0]
