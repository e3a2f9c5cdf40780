"""Shipped checkpoints still do what their JSON says on the data the code makes today."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.checkpoints import load_checkpoint
from core.datasets import DatasetSpec, load_dataset
from core.datasets.roles import assign_roles
from core.episodes import EpisodeSampler
from core.evaluation import evaluate
from core.preprocessing import fitted_preprocessing

ASSETS = Path(__file__).resolve().parents[1] / "assets"
GLYPH_MODELS = sorted(p.stem for p in ASSETS.glob("*-glyphs.json"))
EPISODES = 40


@pytest.fixture(scope="module")
def glyphs():
    return assign_roles(load_dataset(DatasetSpec("glyphs")))


def test_every_glyph_checkpoint_was_trained_on_the_glyphs_generated_today(glyphs):
    dataset, roles = glyphs
    today = fitted_preprocessing(dataset.split_images(roles.train), bright_on_dark=True)
    for name in GLYPH_MODELS:
        recorded = json.loads((ASSETS / f"{name}.json").read_text())["preprocessing"]
        assert recorded["mean"] == pytest.approx(today.mean, abs=2e-4), f"{name}: made from other glyphs; remake it"


@pytest.mark.parametrize("name", GLYPH_MODELS)
def test_a_glyph_checkpoint_scores_what_its_json_records(glyphs, name):
    dataset, roles = glyphs
    algorithm, metadata = load_checkpoint(ASSETS / name)
    recorded = metadata["test_accuracy"]["5-way 1-shot"]
    sampler = EpisodeSampler(dataset, roles.test, algorithm.settings.get("n_way", 5), 1, 15, seed=0)
    measured = evaluate(algorithm, sampler, EPISODES)  # the first of the episodes the JSON's figure used
    assert abs(measured.mean - recorded["mean"]) < 2 * measured.ci95 + 0.01, (name, measured, recorded["mean"])
