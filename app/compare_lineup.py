"""Which models and baselines a comparison can run on a data set, and the contenders made from them."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.i18n import t
from app.models import PAPER_ASSETS, load_shipped, session_models, shipped_checkpoints
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
    shipped_for: str  # the data source a shipped model was made for ("" for session and paper models)
    paper_cells: tuple[tuple[int, int], ...] = ()  # (n_way, n_shot) of each cell a paper model serves


def paper_candidates() -> list[Candidate]:
    """The models of ``assets/paper`` (Omniglot, Vinyals split), each labelled "paper" and with the cells it serves."""
    found = []
    for algorithm_name in ALGORITHMS:
        for name, path in shipped_checkpoints(algorithm_name, PAPER_ASSETS).items():
            loaded = load_shipped(path)
            if loaded:
                cells = tuple((c["n_way"], c["n_shot"]) for c in loaded[1].get("paper", {}).get("cells", []))
                found.append(Candidate(f"{display_name(loaded[0])} · paper: {name}", *loaded, "", cells))
    return found


def candidates(image_shape: tuple[int, ...], with_paper: bool = False) -> tuple[list[Candidate], list[str]]:
    """Shipped and session models (and with ``with_paper`` the paper models) whose input fits ``image_shape``,
    and a line for each that does not."""
    found, unfit = [], []
    for algorithm_name in ALGORITHMS:
        for name, path in shipped_checkpoints(algorithm_name).items():
            loaded = load_shipped(path)
            if loaded:
                source = loaded[1].get("dataset", {}).get("source", "")
                found.append(Candidate(f"{display_name(loaded[0])} · {name}", *loaded, source))
        for name, (algorithm, metadata) in session_models(algorithm_name).items():
            found.append(Candidate(f"{display_name(algorithm)} · trained here: {name}", algorithm, metadata, ""))
    if with_paper:
        found += paper_candidates()
    kept = []
    for candidate in found:
        reason = fits(candidate.algorithm, image_shape)
        (unfit.append(f"{candidate.label}: {reason}") if reason else kept.append(candidate))
    return kept, unfit


def default_lineup(found: list[Candidate], spec: DatasetSpec, n_way: int, n_shot: int) -> list[str]:
    """Both baselines and, on Omniglot's Vinyals split, the paper models trained for this cell (the papers' own
    setting); elsewhere, or where no paper model serves the cell, the shipped models made for this data set."""
    if spec.source == "omniglot" and spec.split_scheme == "vinyals":
        papers = [c.label for c in found if (n_way, n_shot) in c.paper_cells]
        if papers:
            return papers + [PIXEL_NN, FROM_SCRATCH]
    return [c.label for c in found if c.shipped_for == spec.source] + [PIXEL_NN, FROM_SCRATCH]


def lineup_picker(prefix: str, spec: DatasetSpec, image_shape: tuple[int, ...], n_way: int = 5,
                  n_shot: int = 1) -> list[str]:  # fmt: skip
    """A multiselect of models and baselines, at first ``default_lineup``. Until the visitor picks their own, the
    line-up follows the data set and the setting (the widget alone would keep the glyph models on Omniglot)."""
    found, unfit = candidates(image_shape, with_paper=spec.source == "omniglot")
    st.session_state[f"{prefix}_candidates"] = {c.label: c for c in found}
    labels = [c.label for c in found] + [PIXEL_NN, FROM_SCRATCH]
    default = default_lineup(found, spec, n_way, n_shot)
    key, last_default = f"{prefix}_lineup", f"{prefix}_lineup_default"
    if key in st.session_state and st.session_state[key] == st.session_state.get(last_default):
        st.session_state[key] = default  # not changed by hand: follow the new default
    elif key in st.session_state:  # picked by hand: keep what this data set still offers
        st.session_state[key] = [label for label in st.session_state[key] if label in labels]
    st.session_state[last_default] = default
    chosen = st.multiselect(t("compare.lineup"), labels, default=None if key in st.session_state else default,
                            key=key, help=t("compare.lineup_help"))  # fmt: skip
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
