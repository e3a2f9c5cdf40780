"""Scrub through training: a slider over the steps at which weights were kept, redrawing only its own part.

    scrub_snapshots([s.step for s in snapshots], draw_at_step, key="protonet_scrub")

``draw_at_step(step)`` draws what the model did with the weights of that step (a figure from
``core.training.replay``). The slider and the drawing run as a fragment: moving the slider reruns
this part alone, not the page, so a redraw costs one trace and one figure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import streamlit as st

from app.i18n import t
from app.model_picker import ModelChoice
from app.models import shipped_checkpoints
from app.training_panel import session_snapshots
from core.checkpoints import CheckpointError, Snapshot, load_snapshots

SHIPPED_LABEL = "shipped: "  # how ``app.model_picker`` labels a shipped checkpoint


def _format_step(step: int) -> str:
    return f"{step:,}"


@st.fragment
def scrub_snapshots(
    steps: Sequence[int],
    draw_at_step: Callable[[int], None],
    key: str,
    label: str | None = None,
    help: str | None = None,
    format_step: Callable[[int], str] = _format_step,
) -> int | None:
    """A select slider over ``steps`` (ascending) and what ``draw_at_step`` draws for the chosen one.

    It starts at the last step (the trained model) and stays on the visitor's step while ``steps``
    keep it; a new run's steps start at the end again. Draws nothing and returns None without steps. ``label`` and
    ``help`` default to the catalog's ``scrub.*`` words.
    """
    options = list(steps)
    if not options:
        return None
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[-1]
    label = t("scrub.label") if label is None else label
    help = t("scrub.help") if help is None else help
    step = st.select_slider(label, options=options, key=key, format_func=format_step, help=help,
                            disabled=len(options) < 2)  # fmt: skip
    draw_at_step(step)
    return step


def kept_snapshots(prefix: str, algorithm: str, model: ModelChoice) -> tuple[Snapshot, ...]:
    """The weights kept while ``model`` trained: those of a model trained on this page (``prefix``), or those
    saved in a shipped checkpoint of ``algorithm`` (``python -m core train --snapshots 10``); () when none."""
    kept = session_snapshots(prefix, model.label)
    listed = model.metadata.get("snapshots")
    if kept or not model.label.startswith(SHIPPED_LABEL) or not isinstance(listed, dict) or not listed.get("steps"):
        return kept
    path = shipped_checkpoints(algorithm).get(model.label.removeprefix(SHIPPED_LABEL))
    return _shipped_snapshots(str(path)) if path else ()


@st.cache_resource(max_entries=4, show_spinner=False)
def _shipped_snapshots(path: str) -> tuple[Snapshot, ...]:
    try:
        return load_snapshots(path)
    except CheckpointError:
        return ()  # the model itself loaded, so a broken snapshot list only costs the replay


def last_replay(cache: str, key: tuple, compute: Callable[[], object]) -> object:
    """``compute()``, kept in the session under ``cache`` for one ``key`` (model, episode, snapshot steps):
    sliding over the steps redraws from it, a new model or episode computes it again."""
    cached = st.session_state.get(cache)
    if cached is None or cached[0] != key:
        cached = (key, compute())
        st.session_state[cache] = cached
    return cached[1]


@contextmanager
def replay_expander(prefix: str, table: str, model: ModelChoice) -> Iterator[tuple[Snapshot, ...]]:
    """A page's "replay training" expander (words from the catalog table ``table``), entered: yields the
    ``model``'s kept snapshots once the visitor has opened it, () while it is closed or when the model has
    none (a caption then says how to get some).

    The expander is tracked (opening it reruns the page), so a page computes its replay only when it is
    looked at, not for every episode.
    """
    expander = st.expander(t(f"{table}.title"), icon=":material/history:", key=f"{prefix}_replay_open",
                           on_change="rerun")  # fmt: skip
    with expander:
        snapshots = kept_snapshots(prefix, prefix, model)
        if len(snapshots) < 2:
            st.caption(t(f"{table}.no_snapshots"))
            snapshots = ()
        yield snapshots if expander.open else ()
