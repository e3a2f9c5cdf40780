import json

import torch

from core.datasets import cache
from core.datasets.class_dataset import from_class_lists


def _tiny():
    per_class = [torch.full((2, 1, 3, 3), c, dtype=torch.uint8) for c in range(3)]
    return from_class_lists("tiny", per_class, ["a", "b", "c"], ["x", "x", "y"], "scheme", ("bad.txt",))


def test_roundtrip_keeps_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_CACHE_DIR", str(tmp_path))
    built = cache.cached("tiny", {"v": 1}, _tiny)
    loaded = cache.cached("tiny", {"v": 1}, lambda: None)  # would fail if it rebuilt
    assert torch.equal(built.images, loaded.images) and torch.equal(built.labels, loaded.labels)
    assert loaded.class_names == ("a", "b", "c") and loaded.class_splits == ("x", "x", "y")
    assert loaded.split_scheme == "scheme" and loaded.skipped == ("bad.txt",)


def test_entries_hold_no_pickles(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_CACHE_DIR", str(tmp_path))
    cache.cached("tiny", {"v": 1}, _tiny)
    (entry,) = tmp_path.iterdir()
    assert sorted(p.name for p in entry.iterdir()) == ["images.npy", "labels.npy", "meta.json"]
    assert json.loads((entry / "meta.json").read_text())["name"] == "tiny"


def test_different_parts_are_different_entries(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_CACHE_DIR", str(tmp_path))
    cache.cached("tiny", {"size": 28}, _tiny)
    cache.cached("tiny", {"size": 84}, _tiny)
    assert len(list(tmp_path.iterdir())) == 2
    assert cache.cache_key({"a": 1}) != cache.cache_key({"a": 2})


def test_a_damaged_entry_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_CACHE_DIR", str(tmp_path))
    cache.cached("tiny", {"v": 1}, _tiny)
    (entry,) = tmp_path.iterdir()
    (entry / "images.npy").write_bytes(b"garbage")
    rebuilt = cache.cached("tiny", {"v": 1}, _tiny)
    assert rebuilt.images.shape == (6, 1, 3, 3)
    assert cache.cached("tiny", {"v": 1}, lambda: None).n_classes == 3


def test_fingerprint_changes_when_a_file_changes(tmp_path):
    files = [tmp_path / "a.png", tmp_path / "b.png"]
    for f in files:
        f.write_bytes(b"1234")
    before = cache.file_list_fingerprint(tmp_path, files)
    files[1].write_bytes(b"12345")
    assert cache.file_list_fingerprint(tmp_path, files) != before
