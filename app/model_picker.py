"""Choose the model a page explains: shipped, trained in this session, or train one now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from app.charts import show_chart
from app.checkpoint_upload import checkpoint_upload
from app.models import checkpoint_zip, load_shipped, preferred_shipped, session_models, shipped_checkpoints
from app.training_panel import TrainingDefaults, last_curves, show_last_message, training_panel
from core.algorithms import FewShotAlgorithm
from core.datasets import ClassDataset, DatasetSpec
from core.datasets.roles import assign_roles
from core.figures.common import training_curves

SHIPPED, SESSION, TRAIN = "shipped checkpoint", "trained in this session", "train now"


@dataclass(frozen=True)
class ModelChoice:
    algorithm: FewShotAlgorithm
    metadata: dict
    label: str


def model_picker(
    prefix: str,
    algorithm: str,
    spec: DatasetSpec,
    dataset: ClassDataset,
    build: Callable[..., FewShotAlgorithm],
    hyperparameters: Callable[[], dict] | None = None,
    defaults: TrainingDefaults | None = None,
) -> ModelChoice | None:
    """The model section of an algorithm page; None while there is no model to show yet.

    ``build``, ``hyperparameters`` and ``defaults`` are for training here (see ``training_panel``).
    """
    source_key, session_key = f"{prefix}_model_source", f"{prefix}_session_model"
    pending = st.session_state.pop(f"{prefix}_select", None)
    if pending:  # a run just ended: show its model (set before the widgets exist)
        st.session_state[source_key], st.session_state[session_key] = SESSION, pending
    with st.expander("Upload a checkpoint"):
        before = set(session_models(algorithm))
        uploaded = checkpoint_upload(prefix)
    if uploaded in set(session_models(algorithm)) - before:  # newly uploaded for this page: show it
        st.session_state[source_key], st.session_state[session_key] = SESSION, uploaded
    shipped, trained = shipped_checkpoints(algorithm), session_models(algorithm)
    options = [o for o, present in ((SHIPPED, shipped), (SESSION, trained), (TRAIN, True)) if present]
    if st.session_state.get(source_key) not in options:
        st.session_state[source_key] = options[0]
    source = st.radio("Model", options, horizontal=True, key=source_key)
    if source == SHIPPED:
        names = list(shipped)
        name = st.selectbox(
            "checkpoint", names, index=preferred_shipped(names, spec.source, algorithm), key=f"{prefix}_shipped"
        )
        loaded = load_shipped(shipped[name])
        return ModelChoice(loaded[0], loaded[1], f"shipped: {name}") if loaded else None
    if source == SESSION:
        name = st.selectbox("model", list(trained), index=len(trained) - 1, key=session_key)
        algorithm_, metadata = trained[name]
        show_last_message(prefix)
        _session_model_tools(prefix, name, algorithm_, metadata)
        return ModelChoice(algorithm_, metadata, name)
    before = set(trained)
    dataset_with_roles, roles = assign_roles(dataset)
    training_panel(prefix, dataset_with_roles, roles, build, hyperparameters, defaults)
    new = [name for name in session_models(algorithm) if name not in before]
    if new:
        st.session_state[f"{prefix}_select"] = new[-1]
        st.rerun()
    if not shipped:
        st.info(
            "No shipped checkpoint was found in assets/: train a model here (a few hundred episodes take a minute)."
        )
    return None


def _session_model_tools(prefix: str, name: str, algorithm: FewShotAlgorithm, metadata: dict) -> None:
    left, right = st.columns([3, 1], vertical_alignment="center")
    training = metadata.get("training") if isinstance(metadata.get("training"), dict) else {}
    data = metadata.get("dataset") if isinstance(metadata.get("dataset"), dict) else {}  # uploads: any JSON
    left.caption(
        f"Trained on {data.get('name', data.get('source'))}: "
        f"{training.get('n_way')}-way {training.get('n_shot')}-shot, "
        f"{training.get('episodes')} episodes in {training.get('seconds')} s"
        + (", stopped early" if training.get("interrupted") else "")
    )
    file_name = "".join(c if c.isalnum() else "-" for c in name).strip("-")
    right.download_button(
        "Download checkpoint", data=checkpoint_zip(file_name, algorithm, metadata), file_name=f"{file_name}.zip",
        mime="application/zip", icon=":material/download:", key=f"{prefix}_download",
    )  # fmt: skip
    curves = last_curves(prefix)
    if curves:
        with st.expander("Training curves of the last run"):
            show_chart(training_curves(curves), key=f"{prefix}_last_curves")
