"""Choose the model a page explains: shipped, trained in this session, or train one now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from app.charts import show_chart
from app.checkpoint_upload import checkpoint_upload
from app.i18n import t
from app.models import checkpoint_zip, load_shipped, preferred_shipped, session_models, shipped_checkpoints
from app.training_panel import (
    TrainingDefaults,
    curve_labels,
    last_curves,
    session_snapshots,
    show_last_message,
    training_panel,
)  # fmt: skip
from core.algorithms import FewShotAlgorithm
from core.datasets import ClassDataset, DatasetSpec
from core.datasets.roles import assign_roles
from core.figures.common import training_curves

# The model source radio's values (kept in the session and by tests); the visitor reads them through SOURCE_TEXT.
SHIPPED, SESSION, TRAIN = "shipped checkpoint", "trained in this session", "train now"
SOURCE_TEXT = {SHIPPED: "model_picker.shipped", SESSION: "model_picker.session", TRAIN: "model_picker.train"}


@dataclass(frozen=True)
class ModelChoice:
    """The chosen model. ``label`` names it the same in every language ("shipped: <checkpoint>" or the session
    model's name; caches and the code view key on it); ``shown`` is how the page names it to the visitor."""

    algorithm: FewShotAlgorithm
    metadata: dict
    label: str
    shown: str = ""

    @property
    def display_name(self) -> str:
        return self.shown or self.label


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
    with st.expander(t("your.upload_checkpoint")):
        before = set(session_models(algorithm))
        uploaded = checkpoint_upload(prefix)
    if uploaded in set(session_models(algorithm)) - before:  # newly uploaded for this page: show it
        st.session_state[source_key], st.session_state[session_key] = SESSION, uploaded
    shipped, trained = shipped_checkpoints(algorithm), session_models(algorithm)
    options = [o for o, present in ((SHIPPED, shipped), (SESSION, trained), (TRAIN, True)) if present]
    if st.session_state.get(source_key) not in options:
        st.session_state[source_key] = options[0]
    # The options' words are looked up now, in this run's language: Streamlit may call format_func after the run.
    shown = {option: t(SOURCE_TEXT[option]) for option in options}
    source = st.radio(t("model_picker.source"), options, horizontal=True, key=source_key, format_func=shown.__getitem__)
    if source == SHIPPED:
        names = list(shipped)
        name = st.selectbox(
            t("model_picker.checkpoint"), names, index=preferred_shipped(names, spec.source, algorithm),
            key=f"{prefix}_shipped",
        )  # fmt: skip
        loaded = load_shipped(shipped[name])
        shown = t("model_picker.shipped_label", name=name)
        return ModelChoice(loaded[0], loaded[1], f"shipped: {name}", shown) if loaded else None
    if source == SESSION:
        name = st.selectbox(t("model_picker.session_model"), list(trained), index=len(trained) - 1, key=session_key)
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
        st.info(t("model_picker.no_shipped"))
    return None


def _session_model_tools(prefix: str, name: str, algorithm: FewShotAlgorithm, metadata: dict) -> None:
    left, right = st.columns([3, 1], vertical_alignment="center")
    training = metadata.get("training") if isinstance(metadata.get("training"), dict) else {}
    data = metadata.get("dataset") if isinstance(metadata.get("dataset"), dict) else {}  # uploads: any JSON
    left.caption(
        t("model_picker.trained_on", data=data.get("name", data.get("source")), n_way=training.get("n_way"),
          n_shot=training.get("n_shot"), episodes=training.get("episodes"), seconds=training.get("seconds"))
        + (t("model_picker.stopped_early") if training.get("interrupted") else "")
    )  # fmt: skip
    file_name = "".join(c if c.isalnum() else "-" for c in name).strip("-")
    kept = session_snapshots(prefix, name)  # read now: the zip is made on click, on another thread
    right.download_button(
        t("model_picker.download"), file_name=f"{file_name}.zip",
        data=lambda: checkpoint_zip(file_name, algorithm, metadata, kept),
        mime="application/zip", icon=":material/download:", key=f"{prefix}_download",
    )  # fmt: skip
    curves = last_curves(prefix)
    if curves:
        with st.expander(t("model_picker.curves")):
            show_chart(training_curves(curves, curve_labels()), key=f"{prefix}_last_curves")
