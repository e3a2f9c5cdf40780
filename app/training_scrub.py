"""Scrub through training: a slider over the steps at which weights were kept, redrawing only its own part.

    scrub_snapshots([s.step for s in snapshots], draw_at_step, key="protonet_scrub")

``draw_at_step(step)`` draws what the model did with the weights of that step (a figure from
``core.training.replay``). The slider and the drawing run as a fragment: moving the slider reruns
this part alone, not the page, so a redraw costs one trace and one figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from app.i18n import t


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
