"""The comparison harness: same episodes for everyone, honest intervals, skips with reasons, peak memory."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from core.algorithms import MAML, PrototypicalNetworks
from core.compare.baselines import TrainFromScratch, pixel_nearest_neighbour_predict
from core.compare.contenders import baseline_contenders, model_contender, unseen_classes_note
from core.compare.memory import PeakTensorMemory
from core.compare.runner import Contender, compare, episode_hash, run_comparison, run_for, run_sweep
from core.episodes import EpisodeSampler
from core.evaluation import Z_95
from core.preprocessing import Preprocessing


@pytest.fixture
def sampler(small_glyphs) -> EpisodeSampler:
    return EpisodeSampler(small_glyphs, "evaluation", 5, 1, 3, seed=11)


def recording(name: str, seen: list[str]) -> Contender:
    """Pixel nearest neighbour that also hashes, on its own, every episode it is handed."""

    def predict(episode):
        seen.append(episode_hash(episode))
        return pixel_nearest_neighbour_predict(episode)

    return Contender(name, predict, kind="baseline")


def test_every_contender_receives_identical_episodes(sampler):
    seen_a, seen_b = [], []
    torch.manual_seed(0)
    protonet = model_contender("protonet", PrototypicalNetworks(Preprocessing()))
    results = compare([recording("a", seen_a), protonet, recording("b", seen_b)], sampler, 6)
    expected = [episode_hash(sampler.episode(i)) for i in range(6)]
    assert [r.episode_hashes for r in results] == [tuple(expected)] * 3
    # the recorders hashed what they got: the first episode twice (memory pass, timed pass), then once each
    assert seen_a == seen_b == [expected[0], *expected]
    assert len(set(expected)) == 6


def test_episode_hash_changes_with_any_pixel(sampler):
    episode = sampler.episode(0)
    changed = episode.query_x.clone()
    changed[0, 0, 0, 0] ^= 1
    other = type(episode)(**{**episode.__dict__, "query_x": changed})
    assert episode_hash(other) != episode_hash(episode)


def test_accuracy_and_interval_match_a_direct_computation(sampler):
    results = compare([Contender("pixels", pixel_nearest_neighbour_predict)], sampler, 12)
    direct = np.array([
        float((pixel_nearest_neighbour_predict(sampler.episode(i)) == sampler.episode(i).query_y).float().mean())
        for i in range(12)
    ])  # fmt: skip
    accuracy = results[0].accuracy
    assert accuracy.mean == pytest.approx(direct.mean())
    assert accuracy.ci95 == pytest.approx(Z_95 * direct.std(ddof=1) / np.sqrt(12))
    assert accuracy.episodes == 12 and len(results[0].seconds) == 12


def test_a_model_that_cannot_take_the_episodes_is_skipped_with_its_reason(sampler):
    maml_20_way = model_contender("maml", MAML(Preprocessing(), n_way=20))
    results = compare([maml_20_way, Contender("pixels", pixel_nearest_neighbour_predict)], sampler, 3)
    assert "20-way head" in results[0].skipped and results[0].accuracy is None
    assert results[1].accuracy.episodes == 3


def test_progress_streams_one_record_per_episode(sampler):
    records = list(run_comparison([Contender("pixels", pixel_nearest_neighbour_predict)], sampler, 4))
    assert [r.done for r in records] == [1, 2, 3, 4]
    assert [len(r.results[0].per_episode) for r in records] == [1, 2, 3, 4]


def slow(seconds: float, seen: list[int]) -> Contender:
    """Pixel nearest neighbour that takes ``seconds`` per call and counts its calls."""

    def predict(episode):
        seen.append(episode.index)
        time.sleep(seconds)
        return pixel_nearest_neighbour_predict(episode)

    return Contender("slow pixels", predict, kind="baseline")


def test_a_run_for_some_seconds_stops_after_the_episode_that_passes_them(sampler):
    seen: list[int] = []
    records = list(run_for([slow(0.05, seen)], sampler, seconds=0.3, max_episodes=100, min_episodes=2))
    done = records[-1].done
    assert 6 <= done < 100 and [r.done for r in records] == list(range(1, done + 1))
    assert records[-1].results[0].accuracy.episodes == done
    assert records[-1].results[0].peak_mib is None and seen == list(range(done))  # no memory pass: one call each


def test_a_run_for_no_time_still_runs_its_minimum_and_never_more_than_its_maximum(sampler):
    pixels = Contender("pixels", pixel_nearest_neighbour_predict)
    assert list(run_for([pixels], sampler, seconds=0, max_episodes=10, min_episodes=3))[-1].done == 3
    assert list(run_for([pixels], sampler, seconds=60, max_episodes=4, min_episodes=3))[-1].done == 4
    with pytest.raises(ValueError, match="min_episodes <= max_episodes"):
        list(run_for([pixels], sampler, seconds=1, max_episodes=2, min_episodes=3))


def test_sweep_over_n_way_leaves_gaps_where_a_model_cannot_run(small_glyphs):
    maml = model_contender("maml", MAML(Preprocessing(), n_way=5))
    pixels = Contender("pixels", pixel_nearest_neighbour_predict)

    def make_sampler(n_way, n_shot):
        return EpisodeSampler(small_glyphs, "evaluation", n_way, n_shot, 2, seed=0)

    *_, last = run_sweep([maml, pixels], make_sampler, "n_way", [5, 8], (5, 1), episodes=2)
    points = {(p.contender, p.value): p for p in last.points}
    assert last.fraction == 1 and len(points) == 4
    assert points["maml", 5].accuracy is not None and points["maml", 8].accuracy is None
    assert "5-way head" in points["maml", 8].skipped
    assert points["pixels", 8].accuracy.episodes == 2


def test_training_from_scratch_learns_something_from_one_shot(sampler):
    results = compare([Contender("scratch", TrainFromScratch(steps=20).predict)], sampler, 8)
    assert results[0].accuracy.mean > 0.35  # chance is 0.2


def test_baselines_name_their_parameter_counts():
    pixels, scratch = baseline_contenders(1, 28, n_way=5)
    assert pixels.parameters == 0 and scratch.parameters > 100_000


def test_peak_memory_counts_what_is_alive_at_once():
    with PeakTensorMemory() as memory:
        first = torch.zeros(1000, 1000)  # 4 MB
        second = first + 1  # 4 MB more
        del first
        third = torch.zeros(500, 1000)  # 2 MB, while 4 MB is freed
        view = third.view(-1)
    assert memory.peak_bytes == 8_000_000
    assert view.numel() == 500_000 and second.shape == (1000, 1000)


def test_peak_memory_ignores_views_of_tensors_made_before():
    weights = torch.zeros(1000, 1000)
    with PeakTensorMemory() as memory:
        weights.t()
        weights.add_(1)
    assert memory.peak_bytes == 0


def test_the_note_says_when_classes_may_have_been_seen_in_training():
    metadata = {
        "dataset": {"split_scheme_used": "glyphs seed 0"},
        "splits": {"train": "background", "test": "evaluation"},
    }
    assert unseen_classes_note(metadata, "glyphs seed 0", "evaluation") == ""
    assert "memory, not few-shot" in unseen_classes_note(metadata, "glyphs seed 0", "background")
    assert "may have been seen" in unseen_classes_note(metadata, "Lake background/evaluation", "evaluation")
