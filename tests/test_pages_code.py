"""AppTest: each algorithm page's "The code" shows the live source of what it ran, a snippet that runs, a valid CLI."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from conftest import open_page

from app.code_view import episode_snippet, function_source, train_command
from app.episode_controls import EpisodeChoice
from core.algorithms import MAML, PrototypicalNetworks, RelationNetworks
from core.algorithms.adaptation import adapt, classification_loss
from core.algorithms.protonet import compute_prototypes, squared_euclidean
from core.algorithms.relationnet import RelationModule, class_features, relation_pairs
from core.checkpoints import load_checkpoint
from core.cli.commands import build_parser
from core.datasets import DatasetSpec, load_dataset
from core.episodes import EpisodeSampler
from core.preprocessing import adapt_episode
from core.training.loop import TrainingRun

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "pages/2_Prototypical_Networks.py": (
        "protonet-glyphs",
        [compute_prototypes, squared_euclidean, PrototypicalNetworks.distances, PrototypicalNetworks.logits],
    ),
    "pages/3_MAML.py": ("maml-glyphs", [adapt, classification_loss, MAML.meta_batch_loss, TrainingRun._meta_batch]),
    "pages/5_Relation_Networks.py": (
        "relationnet-glyphs",
        [class_features, relation_pairs, RelationModule, RelationNetworks.relation_values],
    ),
}


def code_blocks(page: str) -> list[str]:
    at = open_page(page)
    expanders = [e for e in at.expander if e.label == "The code"]
    assert len(expanders) == 1
    return [block.value for block in expanders[0].code]


def parse_train(command: str):
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "core"]
    return build_parser().parse_args(words[3:])


def run_snippet(snippet: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    monkeypatch.chdir(ROOT)  # the snippet's checkpoint path is relative to the repository
    namespace: dict = {}
    exec(snippet, namespace)
    return namespace["predictions"].tolist()


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_code_shows_the_current_source_of_each_function_then_a_snippet_and_a_command(page, monkeypatch):
    checkpoint, functions = PAGES[page]
    blocks = code_blocks(page)
    assert blocks[: len(functions)] == [function_source(f) for f in functions]
    snippet, command = blocks[len(functions) :]
    assert f"load_checkpoint('assets/{checkpoint}')" in snippet
    record = json.loads((ROOT / "assets" / f"{checkpoint}.json").read_text())
    args = parse_train(command)
    assert (args.algorithm, args.dataset) == (record["algorithm"], "glyphs")
    assert (args.n_way, args.n_shot, args.episodes) == tuple(
        record["training"][k] for k in ("n_way", "n_shot", "episodes")
    )
    assert args.meta_batch == record["training"]["config"]["meta_batch"]


def test_the_protonet_snippet_reproduces_the_pages_episode_and_predictions(monkeypatch):
    snippet = code_blocks("pages/2_Prototypical_Networks.py")[-2]
    model, _ = load_checkpoint(ROOT / "assets" / "protonet-glyphs")
    episode = EpisodeSampler(load_dataset(DatasetSpec("glyphs")), "evaluation", 5, 1, 5, seed=0).episode(0)
    expected = model.predict_episode(adapt_episode(episode, model.preprocessing)).tolist()
    assert run_snippet(snippet, monkeypatch) == expected


def test_a_snippet_for_another_episode_predicts_that_episode(monkeypatch):
    choice = EpisodeChoice("evaluation", n_way=3, n_shot=2, n_query=2, seed=4, index=7)
    snippet = episode_snippet(DatasetSpec("glyphs"), choice, "assets/relationnet-glyphs")
    model, _ = load_checkpoint(ROOT / "assets" / "relationnet-glyphs")
    episode = EpisodeSampler(load_dataset(DatasetSpec("glyphs")), "evaluation", 3, 2, 2, seed=4).episode(7)
    assert run_snippet(snippet, monkeypatch) == model.predict_episode(episode).tolist()


def test_the_command_carries_maml_settings_and_without_a_training_block_uses_the_model_settings():
    settings = {"n_way": 7, "inner_lr": 0.1, "train_steps": 2, "test_steps": 4, "first_order": True, "meta_sgd": False}
    args = parse_train(train_command("maml", settings, {}, DatasetSpec("omniglot", split_scheme="vinyals"), "m"))
    assert (args.algorithm, args.dataset, args.split_scheme, args.n_way) == ("maml", "omniglot", "vinyals", 7)
    assert (args.inner_lr, args.train_steps, args.test_steps, args.first_order, args.meta_sgd) == (
        0.1,
        2,
        4,
        True,
        False,
    )
    assert args.out == Path("m")


def test_the_command_carries_the_training_improvements_a_checkpoint_used_and_leaves_defaults_out():
    settings = {"n_way": 5, "inner_lr": 0.4, "train_steps": 2, "test_steps": 3, "per_step_rates": True}
    config = {"lr_schedule": "cosine", "min_learning_rate": 1e-4, "clip_grad_norm": None, "amp": True,
              "first_order_until": 100, "multi_step_loss_until": 50, "anneal_from": 700}  # fmt: skip
    metadata = {"training": {"config": config, "trained_on": "train+val"}}
    command = train_command("maml", settings, metadata, DatasetSpec("omniglot", split_scheme="vinyals"), "m")
    args = parse_train(command)
    assert args.per_step_rates and args.amp and args.train_on_val and args.clip_grad_norm is None
    assert (args.lr_schedule, args.min_lr, args.first_order_until, args.multi_step_loss_until, args.anneal_from) == (
        "cosine", 1e-4, 100, 50, 700)  # fmt: skip
    plain = train_command("maml", {"n_way": 5}, {"training": {"config": {"lr_schedule": "step", "amp": False}}},
                          DatasetSpec("omniglot", split_scheme="vinyals"), "m")  # fmt: skip
    assert not {"--lr-schedule", "--anneal-from", "--amp", "--train-on-val"} & set(plain.split())
