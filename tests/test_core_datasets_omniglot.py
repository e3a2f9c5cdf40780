import urllib.error

import pytest
import torch

import core.datasets.omniglot as omniglot
from core.datasets import load_omniglot


@pytest.fixture(scope="module")
def lake(omniglot_path):
    return load_omniglot(omniglot_path, "lake")


def test_lake_split_has_the_published_counts(lake):
    assert lake.n_classes == 1623 and len(lake.images) == 32460
    assert [(r["split"], r["classes"]) for r in lake.summary()] == [("background", 964), ("evaluation", 659)]
    assert set(lake.class_counts.tolist()) == {20}


def test_images_are_28px_uint8_bright_strokes_on_dark(lake):
    assert lake.images.shape[1:] == (1, 28, 28) and lake.images.dtype == torch.uint8
    sample = lake.images[::500].float()
    assert sample.mean() < 60, "mostly dark background"
    assert ((sample > 0) & (sample < 255)).any(), "antialiased edges"


def test_alphabets_never_straddle_lakes_splits(lake):
    alphabets = {}
    for name, split in zip(lake.class_names, lake.class_splits):
        alphabets.setdefault(name.split("/")[0], set()).add(split)
    assert len(alphabets) == 50 and all(len(s) == 1 for s in alphabets.values())


def test_vinyals_split_with_rotations(omniglot_path, lake):
    vinyals = load_omniglot(omniglot_path, "vinyals")
    counts = {r["split"]: r["classes"] for r in vinyals.summary()}
    assert counts == {"train": 4112, "val": 688, "test": 1692}
    assert "Vinyals" in vinyals.split_scheme
    train, test = vinyals.classes_in("train"), vinyals.classes_in("test")
    characters = lambda ids: {vinyals.class_names[i].rsplit("/", 1)[0] for i in ids}  # noqa: E731
    assert not characters(train) & characters(test)
    name = vinyals.class_names[1]
    assert name.endswith("rot090")
    base = lake.class_images(lake.class_names.index(name.rsplit("/", 1)[0]))
    assert torch.equal(vinyals.class_images(1), torch.rot90(base, 1, dims=(2, 3)))


def test_without_vinyals_lists_a_named_seeded_split(omniglot_path, tmp_path):
    for name in omniglot.SETS:
        (tmp_path / name).symlink_to(omniglot_path / name)
    dataset = load_omniglot(tmp_path, "vinyals")
    assert dataset.split_scheme == "seeded 1200/423 characters (seed 0) + rotations; Vinyals lists not found"
    assert {r["split"]: r["classes"] for r in dataset.summary()} == {"train": 4800, "test": 1692}


def test_seeded_split_depends_on_its_seed(omniglot_path):
    first = load_omniglot(omniglot_path, "seeded", rotations=False, seed=0)
    second = load_omniglot(omniglot_path, "seeded", rotations=False, seed=1)
    assert first.class_names[:1200] != second.class_names[:1200]
    assert sorted(first.class_names) == sorted(second.class_names)


def test_second_load_reads_the_cache_instead_of_decoding(omniglot_path, lake, monkeypatch):
    monkeypatch.setattr(omniglot, "_decode", lambda *_: pytest.fail("decoded again"))
    again = load_omniglot(omniglot_path, "lake")
    assert torch.equal(again.images, lake.images)


def test_missing_folder_says_where_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not hold Omniglot.*images_background.zip.*download=True"):
        load_omniglot(tmp_path)


def test_offline_download_says_what_to_do(tmp_path, monkeypatch):
    import torchvision.datasets

    class Offline:
        def __init__(self, *args, **kwargs):
            raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets, "Omniglot", Offline)
    with pytest.raises(FileNotFoundError, match="Could not download Omniglot .*URLError.*unzip both"):
        load_omniglot(tmp_path, download=True)


def test_unknown_split_scheme_is_refused(tmp_path):
    with pytest.raises(ValueError, match="split_scheme must be one of lake, vinyals, seeded"):
        load_omniglot(tmp_path, "random")
