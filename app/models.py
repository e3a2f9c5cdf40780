"""Models a page can use: shipped checkpoints (cached, shared) and those trained in this session."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from app.errors import explain
from app.i18n import t
from core.algorithms import FewShotAlgorithm
from core.checkpoints import CheckpointError, Snapshot, load_checkpoint, save_checkpoint

ASSETS = Path(__file__).resolve().parents[1] / "assets"
PAPER_ASSETS = ASSETS / "paper"  # the models behind the README's table against the papers (Omniglot, Vinyals split)
SESSION_MODELS = "trained_models"


def shipped_checkpoints(algorithm: str, folder: Path = ASSETS) -> dict[str, Path]:
    """Name -> path of every checkpoint in ``folder`` (assets/, or assets/paper) for ``algorithm``."""
    found = {}
    for path in sorted(folder.glob("*.json")):
        try:
            if json.loads(path.read_text()).get("algorithm") == algorithm:
                found[path.stem] = path.with_suffix("")
        except (OSError, json.JSONDecodeError):
            continue
    return found


@st.cache_resource(max_entries=32, show_spinner=False)  # assets/ and assets/paper: about 30 models, 0.5-1 MB each
def cached_checkpoint(path: str) -> tuple[FewShotAlgorithm, dict]:
    """A shipped model, loaded once and shared read-only by every session."""
    return load_checkpoint(path)


def session_models(algorithm: str) -> dict[str, tuple[FewShotAlgorithm, dict]]:
    """Models this browser session trained, newest last."""
    models = st.session_state.setdefault(SESSION_MODELS, {})
    return {name: entry for name, entry in models.items() if entry[0].name == algorithm}


def keep_session_model(name: str, algorithm: FewShotAlgorithm, metadata: dict) -> None:
    st.session_state.setdefault(SESSION_MODELS, {})[name] = (algorithm, metadata)


def checkpoint_zip(name: str, algorithm: FewShotAlgorithm, metadata: dict, snapshots: Sequence[Snapshot] = ()) -> bytes:
    """The model as a zip of ``name.safetensors`` and ``name.json``, for download, with the ``snapshots`` kept
    while it trained (uploaded again, they replay its training)."""
    metadata = {key: value for key, value in metadata.items() if key != "snapshots"}  # listed anew, or not at all
    with tempfile.TemporaryDirectory() as folder:
        paths = save_checkpoint(Path(folder) / name, algorithm, metadata, snapshots)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in paths:
                archive.write(path, path.name)
    return buffer.getvalue()


def preferred_shipped(names: list[str], source: str, algorithm: str = "") -> int:
    """Index of ``algorithm-source`` (e.g. maml-glyphs rather than fomaml-glyphs), else of any model
    trained on ``source``, else 0."""
    exact = f"{algorithm}-{source}"
    return next((i for i, name in enumerate(names) if name == exact),
                next((i for i, name in enumerate(names) if name.endswith(source)), 0))  # fmt: skip


def load_shipped(path: Path) -> tuple[FewShotAlgorithm, dict] | None:
    try:
        return cached_checkpoint(str(path))
    except CheckpointError as error:
        st.error(t("model_picker.not_loaded", error=explain(error)))
        return None
