"""MAML's inner loop on the current episode, one step at a time, at an α the visitor chooses.

The stepper is a fragment: its buttons and sliders rerun only it, not the many-episode and
comparison sections below, and traces are memoised per (model, episode, steps, α), so a click
redraws what changed and nothing else (``benchmarks/redraw_maml.py`` measures it).
"""

from __future__ import annotations

import io
import time

import numpy as np
import streamlit as st
from PIL import Image

from app.charts import show_chart
from app.maml_view import cached
from core.algorithms import MAML
from core.algorithms.maml import AdaptationTrace
from core.episodes import Episode
from core.figures.maml import marked_predictions, stepper_curves, update_sizes
from core.figures.montage import display_scale

STEP_KEY = "maml_step"
PLAY_DELAY = 0.7  # seconds per step while playing: slow enough to follow
ALPHAS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)  # roughly log-spaced

TEXT = {
    "play": "Play", "pause": "Pause", "one": "One step", "reset": "Reset",
    "pause_help": "stops a running Play where it is", "alpha": "inner learning rate α (★ meta-trained: {trained:g})",
    "trained_mark": "{alpha:g} ★ meta-trained", "test_mark": "{alpha:g} (its α at test)",
    "alpha_help": "The step size of every inner step. ★ marks the α this model was meta-trained with.",
    "learned": "use Meta-SGD's learned per-weight rates",
    "steps": "inner steps", "steps_help": "this model takes {steps} at test time",
    "step_metric": "inner step", "step_value": "{k} of {steps}", "accuracy": "query accuracy",
    "change": "{points:+.0f} points", "change_help": "the arrow: change since step 0, the initialisation",
    "support_loss": "support loss", "query_loss": "query loss",
    "title": "Each inner step at α = {alpha}", "loss_axis": "cross-entropy", "accuracy_axis": "query accuracy",
    "step_axis": "inner step", "accuracy_name": "query accuracy", "support_name": "support loss",
    "query_name": "query loss", "reference": "query at α = {alpha:g} (meta-trained)", "learned_alpha": "learned",
    "why": (
        "**Why a large α diverges.** Each inner step moves the weights by α times the gradient of the support "
        "loss. Near a minimum the loss curves like a bowl: with curvature *c* along the step, a step longer than "
        "about **2/c** lands past the bottom and higher up the other side than it started, so the support loss "
        "**grows**; the gradient there is steeper, the next step overshoots further, and the losses climb off the "
        "chart (▲ at the top, true value on hover). Far from a minimum, at the initialisation, the bowl is only a "
        "rough picture and a longer step can still help. This model was meta-trained at α = {trained:g} (★ on the "
        "slider): its initialisation is shaped for steps of that size."
    ),
    "grew": " Here the support loss grew at step {k} ({before:.3g} → {after:.3g}): that step overshot.",
    "no_growth": " Here the support loss fell at every step.",
    "predictions": "**Query predictions after step {k}**: true → predicted class, framed :green[green] when right "
    "and :red[red] when wrong ({wrong} wrong, {changed} changed at this step).",
    "step_zero": "Step 0 is the meta-learned initialisation itself: nothing has been adapted yet.",
    "updates": "How far step {k} moved each layer, relative to its size",
}  # fmt: skip


def alpha_options(trained: float, test: float) -> list[float]:
    """The slider's α values: a roughly logarithmic ladder plus the model's own α (training and test)."""
    return sorted({*ALPHAS, float(trained), float(test)})


def stepper(maml: MAML, episode: Episode, model_key: tuple) -> None:
    """Play, pause, one step, reset, α and steps: the inner loop on this episode (a fragment)."""
    _stepper_fragment(maml, episode, model_key)


@st.fragment
def _stepper_fragment(maml: MAML, episode: Episode, model_key: tuple) -> None:
    controls, chart = st.columns([1, 2], gap="medium")
    # Play redraws each step into placeholders; otherwise plain containers, so that the browser updates
    # the charts in place instead of swapping a placeholder in and out (a full redraw of each chart).
    with controls:
        steps, playing = _buttons_and_sliders(maml)
        slot = st.empty if playing else st.container
        metrics_slot = slot()
    alpha = _chosen_alpha(maml)
    trace = _trace(maml, episode, model_key, steps, alpha)
    reference = None
    if alpha is not None and alpha != maml.inner_lr:
        trained = _trace(maml, episode, model_key, steps, maml.inner_lr)
        reference = (TEXT["reference"].format(alpha=maml.inner_lr), trained.query_loss, trained.query_accuracy)
    step = min(st.session_state.get(STEP_KEY, 0), steps)
    slots = (metrics_slot, chart.empty() if playing else chart.container(), slot(), slot())
    if not playing:
        _show_step(slots, trace, reference, episode, step, steps, (alpha, maml.inner_lr), "still")
        return
    for k in range(0 if step == steps else step, steps + 1):
        st.session_state[STEP_KEY] = k
        _show_step(slots, trace, reference, episode, k, steps, (alpha, maml.inner_lr), f"play{k}")
        if k < steps:
            time.sleep(PLAY_DELAY)


def _buttons_and_sliders(maml: MAML) -> tuple[int, bool]:
    """The buttons and sliders; returns the number of steps and whether Play was pressed, and stores the
    step to show (One step, Reset) in the session."""
    top_left, top_right = st.columns(2)
    bottom_left, bottom_right = st.columns(2)
    playing = top_left.button(TEXT["play"], icon=":material/play_arrow:", key="maml_play", use_container_width=True)
    top_right.button(TEXT["pause"], icon=":material/pause:", key="maml_pause", use_container_width=True,
                     help=TEXT["pause_help"])  # fmt: skip
    one = bottom_left.button(TEXT["one"], icon=":material/skip_next:", key="maml_one", use_container_width=True)
    reset = bottom_right.button(TEXT["reset"], icon=":material/replay:", key="maml_reset", use_container_width=True)
    if maml.inner_lrs is not None:
        st.toggle(TEXT["learned"], value=True, key="maml_learned_rates")
    if maml.inner_lrs is None or not st.session_state.get("maml_learned_rates", True):
        marks = {maml.test_inner_lr: TEXT["test_mark"], maml.inner_lr: TEXT["trained_mark"]}  # trained wins a tie
        options = alpha_options(maml.inner_lr, maml.test_inner_lr)
        st.select_slider(TEXT["alpha"].format(trained=maml.inner_lr), options, value=float(maml.inner_lr),
                         key=f"maml_alpha_{maml.inner_lr:g}",
                         format_func=lambda a: marks.get(a, "{alpha:g}").format(alpha=a),
                         help=TEXT["alpha_help"])  # fmt: skip
    steps = st.slider(TEXT["steps"], 1, 20, max(maml.test_steps, 5), key="maml_view_steps",
                      help=TEXT["steps_help"].format(steps=maml.test_steps))  # fmt: skip
    step = min(st.session_state.get(STEP_KEY, 0), steps)
    st.session_state[STEP_KEY] = 0 if reset else min(step + 1, steps) if one else step
    return steps, playing


def _chosen_alpha(maml: MAML) -> float | None:
    """The α on the slider; None for Meta-SGD's own learned rates."""
    if maml.inner_lrs is not None and st.session_state.get("maml_learned_rates", True):
        return None
    return float(st.session_state[f"maml_alpha_{maml.inner_lr:g}"])


def _trace(maml: MAML, episode: Episode, model_key: tuple, steps: int, alpha: float | None) -> AdaptationTrace:
    return cached((*model_key, "trace", steps, alpha), lambda: maml.explain(episode, steps, inner_lr=alpha))


def _show_step(slots: tuple, trace: AdaptationTrace, reference: tuple | None, episode: Episode, k: int, steps: int,
               alphas: tuple[float | None, float], suffix: str) -> None:  # fmt: skip
    """Step ``k`` into the slots (metrics, chart, explanation, predictions); ``alphas``: shown and trained α."""
    metrics_slot, chart_slot, why_slot, below_slot = slots
    alpha, trained_alpha = alphas
    with metrics_slot.container():
        _metrics(trace, k, steps)
    label = TEXT["learned_alpha"] if alpha is None else f"{alpha:g}"
    titles = {"title": TEXT["title"].format(alpha=label), "loss": TEXT["loss_axis"], "step": TEXT["step_axis"],
              "accuracy": TEXT["accuracy_axis"], "accuracy_name": TEXT["accuracy_name"]}  # fmt: skip
    losses = {TEXT["support_name"]: trace.support_loss, TEXT["query_name"]: trace.query_loss}
    figure = stepper_curves(losses, trace.query_accuracy, shown_steps=k, titles=titles, reference=reference)
    show_chart(figure, key=f"maml_curves_{suffix}", container=chart_slot)
    why_slot.markdown(_why(trace, trained_alpha))
    with below_slot.container():
        _predictions_and_updates(trace, episode, k, suffix)


def _metrics(trace: AdaptationTrace, k: int, steps: int) -> None:
    before, now = trace.query_accuracy[0], trace.query_accuracy[k]
    first, second = st.columns(2)
    first.metric(TEXT["step_metric"], TEXT["step_value"].format(k=k, steps=steps))
    change = TEXT["change"].format(points=100 * (now - before)) if k else None
    second.metric(TEXT["accuracy"], f"{100 * now:.0f}%", change, help=TEXT["change_help"])
    first.metric(TEXT["support_loss"], f"{trace.support_loss[k]:.3g}")
    second.metric(TEXT["query_loss"], f"{trace.query_loss[k]:.3g}")


def _why(trace: AdaptationTrace, trained_alpha: float) -> str:
    """The divergence explanation, with the first step at which the support loss grew, if one did."""
    losses = trace.support_loss
    grew = next((k for k in range(1, len(losses)) if not losses[k] <= losses[k - 1]), None)  # NaN counts as grown
    if grew is None:
        return TEXT["why"].format(trained=trained_alpha) + TEXT["no_growth"]
    return TEXT["why"].format(trained=trained_alpha) + TEXT["grew"].format(k=grew, before=losses[grew - 1],
                                                                            after=losses[grew])  # fmt: skip


def _predictions_and_updates(trace: AdaptationTrace, episode: Episode, k: int, suffix: str) -> None:
    predictions = trace.predictions[k]
    changed = int((predictions != trace.predictions[k - 1]).sum()) if k else 0
    wrong = int((predictions != trace.query_y).sum())
    st.markdown(TEXT["predictions"].format(k=k, wrong=wrong, changed=changed))
    scale = display_scale(episode.query_x.shape[-1], target=56)
    count = len(predictions)
    per_row = -(-count // -(-count // 12))  # rows of at most 12, as even as they can be
    st.image(_png(marked_predictions(episode.query_x, trace.query_y, predictions, scale, per_row=per_row)))
    updates, _ = st.columns(2)
    if k == 0:
        updates.info(TEXT["step_zero"])
    else:
        show_chart(update_sizes(trace.relative_update_norms[k - 1], TEXT["updates"].format(k=k)),
                             key=f"maml_updates_{suffix}", container=updates)  # fmt: skip


def _png(picture: np.ndarray) -> bytes:
    """PNG bytes at low compression: twice as fast to make as Streamlit's default, a tenth larger."""
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
