"""Shipped checkpoints still do what their JSON says on the data the code makes today."""

from __future__ import annotations

import dataclasses
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
pytestmark = pytest.mark.slow  # the full glyph set and 40 episodes per checkpoint: about a minute


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


OMNIGLOT_MODELS = sorted(p.stem for p in ASSETS.glob("*-omniglot.json"))


def omniglot(scheme: str, image_size: int | None = None):
    from core.datasets import find_omniglot_root

    root = find_omniglot_root()
    if root is None:
        pytest.skip("Omniglot is absent (set OMNIGLOT_ROOT or put it in ../shared/data/omniglot)")
    return load_dataset(DatasetSpec("omniglot", str(root), scheme, image_size))


@pytest.fixture(scope="module")
def lake_omniglot():
    """The Lake split at a model's image size (28 for all but the 56-pixel one), each size loaded once."""
    loaded = {}

    def at(size: int):
        if size not in loaded:
            loaded[size] = omniglot("lake", size)
        return loaded[size]

    return at


@pytest.mark.parametrize("name", OMNIGLOT_MODELS)
def test_an_omniglot_checkpoint_scores_what_its_json_records(lake_omniglot, name):
    algorithm, metadata = load_checkpoint(ASSETS / name)
    data = lake_omniglot(algorithm.preprocessing.image_size)
    assert metadata["dataset"]["split_scheme"] == "lake" and metadata["splits"]["train"] == "background"
    setting, recorded = next(iter(metadata["test_accuracy"].items()))  # e.g. "20-way 1-shot" for maml-20way
    n_way, n_shot = (int(part.split("-")[0]) for part in setting.split())
    sampler = EpisodeSampler(data, recorded["split"], n_way, n_shot, 15, seed=0)
    measured = evaluate(algorithm, sampler, EPISODES)
    assert abs(measured.mean - recorded["mean"]) < 2 * measured.ci95 + 0.01, (name, measured, recorded["mean"])


PAPER_MODELS = sorted(p.stem for p in (ASSETS / "paper").glob("*.json"))


@pytest.fixture(scope="module")
def vinyals_omniglot():
    return omniglot("vinyals")


def test_every_paper_model_has_weights_a_json_with_its_cells_and_a_resume_state():
    assert PAPER_MODELS, "assets/paper holds no models"
    for name in PAPER_MODELS:
        record = json.loads((ASSETS / "paper" / f"{name}.json").read_text())
        assert (ASSETS / "paper" / f"{name}.safetensors").is_file()
        assert (ASSETS / "paper" / f"{name}.resume.safetensors").is_file(), f"{name}: nothing to --resume from"
        assert record["dataset"]["split_scheme"] == "vinyals" and record["splits"]["test"] == "test"
        assert record["paper"]["cells"] and record["paper"]["sittings"], name
        for cell in record["paper"]["cells"]:
            assert cell["test"]["episodes"] == 1000, (name, cell)


@pytest.mark.parametrize("name", PAPER_MODELS)
def test_a_paper_model_scores_what_its_json_records(vinyals_omniglot, name):
    algorithm, metadata = load_checkpoint(ASSETS / "paper" / name)
    cell = metadata["paper"]["cells"][0]
    sampler = EpisodeSampler(vinyals_omniglot, "test", cell["n_way"], cell["n_shot"], 15, seed=0)
    measured = evaluate(algorithm, sampler, 10)  # the first of the 1000 episodes behind the JSON's figure
    assert abs(measured.mean - cell["test"]["mean"]) < 2 * measured.ci95 + 0.02, (name, measured, cell)


def test_the_shipped_sine_pair_records_how_it_was_trained():
    from core.sinusoid import SineTrainConfig

    for name in ("maml", "joint"):
        record = json.loads((ASSETS / "sine" / f"{name}.json").read_text())
        assert (ASSETS / "sine" / f"{name}.safetensors").is_file()
        config = SineTrainConfig(**record["config"])  # every setting it was trained with, and only those
        assert record["trainer"] == name and record["steps"] == config.steps
        assert record["made_by"].startswith("python -m scripts.make_sine_assets") and record["date"]
        assert record["seconds"] > 0 and set(record["held_out"]["grid_mse"]) == {"maml", "joint"}


def test_the_shipped_sine_pair_scores_what_its_json_records_and_maml_wins_after_one_step():
    from app.sinusoid_view import load_pair
    from core.sinusoid import mean_grid_mse

    pair = load_pair(ASSETS / "sine")
    held_out = pair["metadata"]["maml"]["held_out"]
    for name in ("maml", "joint"):
        measured = mean_grid_mse(pair[name], held_out["n_shot"], held_out["steps"], held_out["tasks"], held_out["seed"])
        assert measured == pytest.approx(held_out["grid_mse"][name], abs=1e-3), name
    # other held-out tasks than the JSON's: one fine-tuning step from MAML's start fits better
    n_shot = pair["config"].n_shot
    maml, joint = (mean_grid_mse(pair[name], n_shot, (1,), 10, seed=50_000)[0] for name in ("maml", "joint"))
    assert maml < 0.5 * joint, (maml, joint)


@pytest.mark.parametrize("name", ["maml-glyphs", "fomaml-glyphs", "finetune-glyphs"])
def test_a_lone_query_gets_the_answer_it_gets_among_a_batch_of_queries(glyphs, name):
    """Their BatchNorm uses the batch's statistics: one query alone (the game, Lake's trials, one upload)
    is normalised with its support set (``query_logits``). Normalised by itself, as before, the answers
    agreed 57-84% of the time."""
    dataset, roles = glyphs
    algorithm, _ = load_checkpoint(ASSETS / name)
    sampler = EpisodeSampler(dataset, roles.test, 5, 1, 3, seed=0)
    agree = total = 0
    for index in range(10):
        episode = sampler.episode(index)
        in_batch = algorithm.predict_episode(episode)
        for query in range(len(episode.query_y)):
            lone = dataclasses.replace(episode, query_x=episode.query_x[query : query + 1],
                                       query_y=episode.query_y[query : query + 1])  # fmt: skip
            agree += int(algorithm.predict_episode(lone)[0] == in_batch[query])
            total += 1
    assert agree / total >= 0.85, (name, agree, total)
