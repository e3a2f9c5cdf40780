"""Which models and baselines a comparison can run on a data set, and the contenders made from them."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.i18n import t
from app.models import load_shipped, session_models, shipped_checkpoints
from core.algorithms import FewShotAlgorithm
from core.compare.contenders import (
    FROM_SCRATCH,
    PIXEL_NN,
    baseline_contenders,
    display_name,
    fits,
    model_contender,
    unseen_classes_note,
)  # fmt: skip
from core.compare.runner import Contender
from core.datasets import DatasetSpec

ALGORITHMS = ("maml", "protonet", "relationnet", "finetune")


@dataclass(frozen=True)
class Candidate:
    label: str
    algorithm: FewShotAlgorithm
    metadata: dict
    shipped_for: str  # the data source a shipped model was made for ("" for session models)


def candidates(image_shape: tuple[int, ...]) -> tuple[list[Candidate], list[str]]:
    """Shipped and session models whose input fits ``image_shape``, and a line for each that does not."""
    found, unfit = [], []
    for algorithm_name in ALGORITHMS:
        for name, path in shipped_checkpoints(algorithm_name).items():
            loaded = load_shipped(path)
            if loaded:
                source = loaded[1].get("dataset", {}).get("source", "")
                found.append(Candidate(f"{display_name(loaded[0])} · {name}", *loaded, source))
        for name, (algorithm, metadata) in session_models(algorithm_name).items():
            found.append(Candidate(f"{display_name(algorithm)} · trained here: {name}", algorithm, metadata, ""))
    kept = []
    for candidate in found:
        reason = fits(candidate.algorithm, image_shape)
        (unfit.append(f"{candidate.label}: {reason}") if reason else kept.append(candidate))
    return kept, unfit


def lineup_picker(prefix: str, spec: DatasetSpec, image_shape: tuple[int, ...]) -> list[str]:
    """A multiselect of models and baselines; by default the shipped models for this data set and both baselines."""
    found, unfit = candidates(image_shape)
    st.session_state[f"{prefix}_candidates"] = {c.label: c for c in found}
    labels = [c.label for c in found] + [PIXEL_NN, FROM_SCRATCH]
    default = [c.label for c in found if c.shipped_for == spec.source] + [PIXEL_NN, FROM_SCRATCH]
    chosen = st.multiselect(t("compare.lineup"), labels, default=default, key=f"{prefix}_lineup",
                            help=t("compare.lineup_help"))  # fmt: skip
    if unfit:
        st.caption(t("compare.left_out", models="; ".join(unfit)))
    return chosen


def contenders(prefix: str, chosen: list[str], scheme: str, split: str, image_shape: tuple[int, ...],
               n_way: int) -> list[Contender]:  # fmt: skip
    """The chosen labels as contenders, each with a note when its training classes are not held out from ``split``."""
    found: dict[str, Candidate] = st.session_state.get(f"{prefix}_candidates", {})
    baselines = {c.name: c for c in baseline_contenders(image_shape[0], image_shape[1], n_way)}
    lineup = []
    for label in chosen:
        if label in baselines:
            lineup.append(baselines[label])
        elif label in found:
            candidate = found[label]
            note = unseen_classes_note(candidate.metadata, scheme, split)
            lineup.append(model_contender(label, candidate.algorithm, note))
    return lineup
