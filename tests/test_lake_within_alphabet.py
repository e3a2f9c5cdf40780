"""Lake's 20-way within-alphabet benchmark: trials as Lake's, drawers kept apart, only fair models scored.

The trials are built on a stand-in for the loaded Omniglot data set (the real class names,
splits and drawing counts, in ``load_omniglot``'s order) whose tiny images encode their
own row, so no drawing is decoded and every image in an episode can be traced to a file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from benchmarks.lake_within_alphabet import (
    ASSETS,
    batch_statistics_note,
    cannot_answer,
    drawer_rows,
    main,
    plan_trials,
    refusal,
    score_checkpoint,
    table,
    trial_episode,
)
from core.algorithms import PrototypicalNetworks
from core.checkpoints import build_algorithm, read_metadata, save_checkpoint
from core.compare.game import alphabet
from core.datasets import ClassDataset, find_omniglot_root
from core.datasets.class_dataset import from_class_lists
from core.episodes import Episode
from core.preprocessing import Preprocessing

BACKGROUND_ALPHABETS = 2  # a few background classes first, so that evaluation rows do not start at 0


@pytest.fixture(scope="module")
def root() -> Path:
    found = find_omniglot_root()
    if found is None:
        pytest.skip(
            "Omniglot not found by core.datasets.find_omniglot_root() (set OMNIGLOT_ROOT); a fresh clone has none"
        )
    return found


@pytest.fixture(scope="module")
def stand_in(root) -> ClassDataset:
    """Omniglot's classes in load_omniglot's order; image ``r`` is [1, 1, 2] uint8 holding ``r``."""
    names, splits, counts = [], [], []
    for split in ("background", "evaluation"):
        alphabets = sorted(p for p in (root / f"images_{split}").iterdir() if p.is_dir())
        for folder in alphabets[:BACKGROUND_ALPHABETS] if split == "background" else alphabets:
            for character in sorted(p for p in folder.iterdir() if p.is_dir()):
                names.append(f"{folder.name}/{character.name}")
                splits.append(split)
                counts.append(len(list(character.glob("*.png"))))
    rows = torch.arange(sum(counts))
    images = torch.stack([rows // 256, rows % 256], dim=1).to(torch.uint8).view(-1, 1, 1, 2)
    return from_class_lists("omniglot", list(torch.split(images, counts)), names, splits, "Lake background/evaluation")


@pytest.fixture(scope="module")
def rows(stand_in, root) -> dict[int, dict[int, int]]:
    return drawer_rows(stand_in, root)


def image_rows(images: torch.Tensor) -> list[int]:
    pairs = images.view(-1, 2).long()
    return (pairs[:, 0] * 256 + pairs[:, 1]).tolist()


def test_each_row_gets_the_drawer_its_file_names(stand_in, rows, root):
    assert set(rows) == set(stand_in.classes_in("evaluation").tolist())
    class_id = max(rows)
    files = sorted((root / "images_evaluation" / stand_in.class_names[class_id]).glob("*.png"))
    first = int(stand_in.class_offsets[class_id])
    assert {drawer: row - first for drawer, row in rows[class_id].items()} == {
        int(path.stem.split("_")[1]): k for k, path in enumerate(files)
    }
    assert all(sorted(drawers) == list(range(1, 21)) for drawers in rows.values())


def test_a_data_set_whose_counts_differ_from_the_files_is_refused(stand_in, root):
    first_evaluation = int(stand_in.classes_in("evaluation")[0])
    per_class = [stand_in.class_images(c) for c in range(stand_in.n_classes)]
    per_class[first_evaluation] = per_class[first_evaluation][:-1]
    short = from_class_lists("omniglot", per_class, list(stand_in.class_names), list(stand_in.class_splits))
    with pytest.raises(ValueError, match="holds 20 drawings but the data set has 19"):
        drawer_rows(short, root)


def test_a_trial_is_twenty_characters_of_one_evaluation_alphabet(stand_in, rows):
    trials = plan_trials(stand_in, rows, 60, seed=0)
    for trial in trials:
        episode = trial_episode(stand_in, trial)
        assert len(set(episode.class_ids)) == 20 and episode.support_x.shape[0] == 20
        assert {alphabet(name) for name in episode.class_names} == {trial.alphabet}
        assert all(stand_in.class_splits[c] == "evaluation" for c in episode.class_ids)
    assert len({t.alphabet for t in trials}) > 10  # the trials range over the alphabets


def test_support_drawings_share_one_drawer_and_the_query_is_another_drawers(stand_in, rows):
    drawer_of = {row: drawer for by_drawer in rows.values() for drawer, row in by_drawer.items()}
    class_of = {row: c for c, by_drawer in rows.items() for row in by_drawer.values()}
    for trial in plan_trials(stand_in, rows, 60, seed=1):
        episode = trial_episode(stand_in, trial)
        support, (query,) = image_rows(episode.support_x), image_rows(episode.query_x)
        assert [class_of[r] for r in support] == list(episode.class_ids)
        assert {drawer_of[r] for r in support} == {trial.support_drawer}
        assert drawer_of[query] == trial.query_drawer != trial.support_drawer
        assert class_of[query] == episode.class_ids[int(episode.query_y[0])]


def test_trials_depend_only_on_the_seed(stand_in, rows):
    first, again = plan_trials(stand_in, rows, 20, seed=5), plan_trials(stand_in, rows, 20, seed=5)
    other = plan_trials(stand_in, rows, 20, seed=6)
    assert first == again
    assert sum(a != b for a, b in zip(first, other, strict=True)) > 15
    assert len({t.target for t in first}) > 1


def test_only_models_trained_on_lake_background_alphabets_are_scored():
    shipped = read_metadata(ASSETS / "protonet-omniglot")
    assert refusal(shipped) == ""
    vinyals = {**shipped, "dataset": {**shipped["dataset"], "split_scheme": "vinyals",
                                      "split_scheme_used": "Vinyals train/val/test + rotations"}}  # fmt: skip
    assert "'vinyals' split" in refusal(vinyals)
    saw_evaluation = {**shipped, "splits": {"train": "evaluation", "val": "val", "test": "background"}}
    assert "train split is 'evaluation'" in refusal(saw_evaluation)
    chose_on_evaluation = {**shipped, "splits": {**shipped["splits"], "val": "evaluation"}}
    assert "val split is 'evaluation'" in refusal(chose_on_evaluation)
    assert "not Omniglot" in refusal(read_metadata(ASSETS / "protonet-glyphs"))


def test_the_command_refuses_a_vinyals_checkpoint_before_loading_any_data(tmp_path, monkeypatch, capsys):
    record = json.loads((ASSETS / "protonet-omniglot.json").read_text())
    record["dataset"] |= {"split_scheme": "vinyals", "split_scheme_used": "Vinyals train/val/test + rotations"}
    (tmp_path / "vinyals-protonet.json").write_text(json.dumps(record))
    monkeypatch.setattr("sys.argv", ["lake_within_alphabet", "--checkpoint", str(tmp_path / "vinyals-protonet")])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    assert "refused: trained on the 'vinyals' split" in capsys.readouterr().err


def test_a_maml_head_that_is_not_twenty_way_is_skipped():
    record = json.loads((ASSETS / "maml-omniglot.json").read_text())
    assert "fixed at 5-way" in cannot_answer(build_algorithm(record), (1, 28, 28))
    twenty = {**record, "settings": {**record["settings"], "n_way": 20}}
    assert cannot_answer(build_algorithm(twenty), (1, 28, 28)) == ""


def test_models_that_normalise_a_lone_query_with_its_support_set_are_flagged():
    def model(name):
        return build_algorithm(json.loads((ASSETS / f"{name}-omniglot.json").read_text()))

    assert "normalised together with its support set" in batch_statistics_note(model("finetune"))
    assert batch_statistics_note(model("protonet")) == ""


def test_the_report_names_trials_seed_command_and_the_references():
    row = {"model": "m", "trials": 400, "accuracy": 0.9, "ci95": 0.03, "seconds": 2.0, "note": "a caveat"}
    result = {"date": "2026-01-01", "trials": 400, "seed": 3, "command": "python -m x --seed 3",
              "rows": [row, {"model": "maml", "skipped": "its head is fixed at 5-way"}]}  # fmt: skip
    report = table(result)
    assert "400 trials (seed 3)" in report and "`python -m x --seed 3`" in report
    assert "| m | 400 | 90.0 ± 3.0 | -5.5 | -6.7 |" in report
    assert "- maml: its head is fixed at 5-way" in report and "- m: a caveat" in report


def test_a_model_of_another_image_size_is_scored_on_the_trials_decoded_at_its_size(tmp_path):
    shipped = read_metadata(ASSETS / "protonet-omniglot")  # trained on Lake's background alphabets
    metadata = {"dataset": shipped["dataset"], "splits": shipped["splits"]}
    model = PrototypicalNetworks(Preprocessing(image_size=56, mean=(0.08,), std=(0.27,)), backbone="conv4-stride2")
    save_checkpoint(tmp_path / "fine", model, metadata)
    asked = []

    def trials_at(size):
        asked.append(size)
        images = torch.randint(0, 256, (21, 1, size, size), dtype=torch.uint8)
        episode = Episode(support_x=images[:20], support_y=torch.arange(20), query_x=images[20:],
                          query_y=torch.tensor([3]), class_names=tuple("abcdefghijklmnopqrst"),
                          class_ids=tuple(range(20)), seed=0, index=0)  # fmt: skip
        dataset = from_class_lists("stand-in", [images[:1]], ["a"], ["evaluation"])
        return dataset, [episode]

    [row] = score_checkpoint(tmp_path / "fine", trials_at)
    assert asked == [56] and row["trials"] == 1 and "accuracy" in row, row
