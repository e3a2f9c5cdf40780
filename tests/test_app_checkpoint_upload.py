"""AppTest of the checkpoint upload on an algorithm page: the shipped pair loads, pickles and damaged files don't."""

from __future__ import annotations

import io
import pickle
import tempfile
import zipfile
from pathlib import Path

import torch
from conftest import open_page

from app.checkpoint_upload import newest_pair

PAGE = "pages/2_Prototypical_Networks.py"
ASSETS = Path(__file__).resolve().parents[1] / "assets"
JSON = ("protonet-glyphs.json", (ASSETS / "protonet-glyphs.json").read_bytes(), "application/json")
WEIGHTS = (ASSETS / "protonet-glyphs.safetensors").read_bytes()


def upload(files: list[tuple[str, bytes, str]]):
    at = open_page(PAGE)
    at.file_uploader(key="protonet_checkpoint_upload").set_value(files).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_shipped_pair_uploads_and_becomes_the_selected_session_model():
    at = upload([JSON, ("protonet-glyphs.safetensors", WEIGHTS, "application/octet-stream")])
    assert not at.error and "Loaded uploaded: protonet-glyphs" in at.success[0].value
    assert at.radio(key="protonet_model_source").value == "trained in this session"
    assert at.selectbox(key="protonet_session_model").value == "uploaded: protonet-glyphs"


def test_the_apps_own_download_zip_uploads():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mine.json", JSON[1])
        archive.writestr("mine.safetensors", WEIGHTS)
    at = upload([("mine.zip", buffer.getvalue(), "application/zip")])
    assert not at.error and at.selectbox(key="protonet_session_model").value == "uploaded: mine"


def test_a_pickle_renamed_safetensors_is_refused_with_a_message():
    class Trap:
        def __reduce__(self):
            return (print, ("unpickled!",))

    for weights in (pickle.dumps(Trap()), _torch_save()):
        at = upload([JSON, ("protonet-glyphs.safetensors", weights, "application/octet-stream")])
        assert "pickle or torch.save file" in at.error[0].value and not at.success


def test_a_truncated_file_or_a_lone_json_is_refused_with_a_message():
    at = upload([JSON, ("protonet-glyphs.safetensors", WEIGHTS[:5000], "application/octet-stream")])
    assert "truncated or not a safetensors file" in at.error[0].value
    at = upload([JSON])
    assert "upload exactly one .json and one .safetensors" in at.error[0].value


def test_a_good_pair_added_after_a_bad_try_loads_and_the_old_files_are_ignored():
    at = upload([JSON, ("mine.safetensors", WEIGHTS[:5000], "application/octet-stream")])
    assert "mine.safetensors is truncated" in at.error[0].value
    at.file_uploader(key="protonet_checkpoint_upload").set_value([
        JSON, ("mine.safetensors", WEIGHTS[:5000], "application/octet-stream"),
        ("protonet-glyphs.json", JSON[1], "application/json"),
        ("fixed.safetensors", WEIGHTS, "application/octet-stream"),
    ]).run()  # fmt: skip
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Loaded uploaded: protonet-glyphs" in at.success[0].value
    assert "protonet-glyphs.json and fixed.safetensors" in at.info[0].value


def test_messages_name_the_visitors_files_not_the_servers_temporary_ones():
    for weights, message in ((WEIGHTS[:5000], "my weights.safetensors is truncated"),
                             (pickle.dumps([1]), "my weights.safetensors is a pickle")):  # fmt: skip
        at = upload([JSON, ("my weights.safetensors", weights, "application/octet-stream")])
        error = at.error[0].value
        assert message in error and "upload." not in error and tempfile.gettempdir() not in error, error
    at = upload([("broken.json", b"{not json", "application/json"), ("w.safetensors", WEIGHTS, "x")])
    assert "broken.json is not valid JSON" in at.error[0].value and "upload." not in at.error[0].value


def test_the_newest_pair_or_the_newest_zip_is_chosen():
    files = [("a.json", b"1"), ("a.safetensors", b"2"), ("b.json", b"3"), ("b.safetensors", b"4")]
    assert newest_pair(files) == {"b.json": b"3", "b.safetensors": b"4"}
    assert newest_pair([*files, ("c.zip", b"5")]) == {"c.zip": b"5"}
    assert newest_pair([("c.zip", b"5"), ("d.json", b"6")]) == {"d.json": b"6"}


def _torch_save() -> bytes:
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buffer)
    return buffer.getvalue()


def _with_snapshots(folder: Path) -> tuple[bytes, bytes, list]:
    """The shipped glyph ProtoNet saved again with two snapshots: (json, weights, snapshots)."""
    from core.checkpoints import Snapshot, load_checkpoint, save_checkpoint

    algorithm, metadata = load_checkpoint(ASSETS / "protonet-glyphs")
    end = {name: value.clone() for name, value in algorithm.state_dict().items()}  # copies, as training keeps them
    start = {name: value.clone().zero_() if value.is_floating_point() else value.clone() for name, value in end.items()}
    snapshots = [Snapshot(0, start), Snapshot(800, end)]
    weights, json = save_checkpoint(folder / "kept", algorithm, metadata, snapshots)
    return json.read_bytes(), weights.read_bytes(), snapshots


def test_an_uploaded_checkpoint_brings_its_snapshots_to_the_pages_replay(tmp_path):
    json, weights, _ = _with_snapshots(tmp_path)
    at = upload([("kept.json", json, "application/json"), ("kept.safetensors", weights, "application/octet-stream")])
    kept = at.session_state["protonet_snapshots"]["uploaded: kept"]
    assert [s.step for s in kept] == [0, 800]
    assert all(not value.any() for value in kept[0].state.values() if value.is_floating_point())


def test_the_download_zip_keeps_the_snapshots_and_uploads_again(tmp_path):
    from app.checkpoint_upload import load_uploaded
    from app.models import checkpoint_zip
    from core.checkpoints import load_checkpoint

    _, _, snapshots = _with_snapshots(tmp_path)
    algorithm, metadata = load_checkpoint(tmp_path / "kept")
    assert "snapshots" in metadata  # the loaded record lists them; the zip lists only those it holds
    name, _, _, again = load_uploaded({"mine.zip": checkpoint_zip("mine", algorithm, metadata, snapshots)})
    assert name == "uploaded: mine" and [s.step for s in again] == [0, 800]
    torch.testing.assert_close(again[1].state["backbone.blocks.0.0.weight"],
                               snapshots[1].state["backbone.blocks.0.0.weight"].half().float())  # fmt: skip
    _, _, _, none = load_uploaded({"bare.zip": checkpoint_zip("bare", algorithm, metadata)})
    assert none == ()
