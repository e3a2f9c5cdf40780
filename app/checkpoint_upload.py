"""Upload a checkpoint (``.json`` + ``.safetensors``, or the app's own download zip) as a session model.

The files come from anyone: they are size-limited, written to a temporary folder and read
by ``core.checkpoints.load_checkpoint`` alone (safetensors and JSON; nothing is unpickled
or run), which rebuilds the architecture its JSON names and checks every tensor against it.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from app.errors import explain
from app.i18n import t
from app.models import keep_session_model
from app.server_limits import server_limits
from app.training_panel import keep_snapshots
from core.checkpoints import CheckpointError, Snapshot, load_checkpoint, load_snapshots
from core.user import display_name


def max_upload_bytes() -> int:
    """Per file and for a zip's contents (20 MB, 5 in the public demo); shipped checkpoints are 0.5-2.8 MB
    (those with 10 snapshots are the larger)."""
    return server_limits().checkpoint_mb * 2**20


def checkpoint_upload(prefix: str) -> str | None:
    """An uploader for a checkpoint; on success the model joins this session's models and its name is returned."""
    files = st.file_uploader(
        t("your.checkpoint.upload"),
        type=["json", "safetensors", "zip"], accept_multiple_files=True, key=f"{prefix}_checkpoint_upload",
        max_upload_size=server_limits().checkpoint_mb,
    )  # fmt: skip
    if not files:
        return None
    try:
        chosen = newest_pair([(file.name, file.getvalue()) for file in files])
        name, algorithm, metadata, snapshots = load_uploaded(chosen)
    except CheckpointError as error:
        st.error(t("your.checkpoint.not_loaded", reason=explain(error)))
        return None
    if len(chosen) < len(files) and len(chosen) == 2:
        st.info(t("your.checkpoint.newest_pair", files=t("your.checkpoint.and").join(chosen)))
    keep_session_model(name, algorithm, metadata)
    if snapshots:  # the page's "replay training" scrubs them like those of a model trained here
        keep_snapshots(prefix, name, snapshots)
    st.success(t("your.checkpoint.loaded", name=name, algorithm=metadata["algorithm"]))
    return name


def newest_pair(files: list[tuple[str, bytes]]) -> dict[str, bytes]:
    """The uploads to load, oldest first in `files`: the newest .zip when it is the last file, else the newest
    .json and the newest .safetensors, so that files left from an earlier try never block a good pair."""
    if not files:
        raise CheckpointError(
            "no files; upload one .json and one .safetensors, or the .zip of “Download checkpoint”",
            code="checkpoint.no_files",
        )
    last_name, last_data = files[-1]
    if last_name.lower().endswith(".zip"):
        return {last_name: last_data}
    newest = {}
    for suffix in (".json", ".safetensors"):
        matching = [(name, data) for name, data in files if name.lower().endswith(suffix)]
        if matching:
            newest[matching[-1][0]] = matching[-1][1]
    return newest or dict(files)


def load_uploaded(files: dict[str, bytes]) -> tuple[str, object, dict, tuple[Snapshot, ...]]:
    """{file name: bytes} -> (model name, model, metadata, the snapshots saved with it or ()); raises
    ``CheckpointError`` saying what to upload.

    Messages name the visitor's files, never the temporary paths they are read from.
    """
    if len(files) == 1 and next(iter(files)).lower().endswith(".zip"):
        files = _unzip(*next(iter(files.items())))
    json_names = [name for name in files if name.lower().endswith(".json")]
    weight_names = [name for name in files if name.lower().endswith(".safetensors")]
    if len(json_names) != 1 or len(weight_names) != 1:
        shown = ", ".join(sorted(display_name(n) for n in files)) or "no files"
        raise CheckpointError(
            f"got {shown}; upload exactly one .json and one .safetensors (saved together), or the .zip that "
            "“Download checkpoint” gives", code="checkpoint.wrong_files", files=shown,
        )  # fmt: skip
    limit = max_upload_bytes()
    for name, data in files.items():
        if len(data) > limit:
            label = display_name(name)
            raise CheckpointError(f"{label} is {len(data) / 2**20:.1f} MB, over the {limit // 2**20} MB limit",
                                  code="checkpoint.upload_too_large", name=label, size_mb=len(data) / 2**20,
                                  limit_mb=limit // 2**20)  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:  # fixed names: an uploaded name is never used as a path
        json_path, weights_path = Path(folder) / "upload.json", Path(folder) / "upload.safetensors"
        json_path.write_bytes(files[json_names[0]])
        weights_path.write_bytes(files[weight_names[0]])
        try:
            algorithm, metadata = load_checkpoint(Path(folder) / "upload")
        except CheckpointError as error:
            shown = {
                str(json_path): json_names[0],
                str(weights_path): weight_names[0],
                json_path.name: json_names[0],
                weights_path.name: weight_names[0],
                str(Path(folder) / "upload"): Path(json_names[0]).stem,
            }
            raise error.renamed(lambda text: _renamed(text, {k: display_name(v) for k, v in shown.items()})) from None
        try:
            snapshots = load_snapshots(Path(folder) / "upload")
        except CheckpointError:
            snapshots = ()  # the model itself loaded, so a broken snapshot list only costs the replay
    stem = "".join(c for c in Path(json_names[0].replace("\\", "/")).stem if c.isprintable())[:60] or "checkpoint"
    return f"uploaded: {stem}", algorithm, metadata, snapshots


def _renamed(message: str, names: dict[str, str]) -> str:
    """`message` with each temporary path or file name replaced by the visitor's, in one pass (longest first)."""
    pattern = "|".join(re.escape(key) for key in sorted(names, key=len, reverse=True))
    return re.sub(pattern, lambda match: names[match.group(0)], message)


def _unzip(name: str, data: bytes) -> dict[str, bytes]:
    """A download zip's .json and .safetensors members, each read no further than the size limit."""
    label = display_name(name)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if info.filename.lower().endswith((".json", ".safetensors"))]
        files, limit = {}, max_upload_bytes()
        for info in members[:2]:
            with archive.open(info) as member:
                content = member.read(limit + 1)
            files[info.filename] = content
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as error:
        raise CheckpointError(f"{label} is not a readable zip ({error}); upload the two files instead",
                              code="checkpoint.bad_zip", name=label, detail=str(error)) from None  # fmt: skip
    if len(members) > 2:
        raise CheckpointError(f"{label} holds more than one checkpoint; upload one .json and one .safetensors",
                              code="checkpoint.zip_holds_several", name=label)  # fmt: skip
    return files
