"""MAML's inner loop on the current episode, one step at a time, at an α the visitor chooses.

The stepper is a fragment: its buttons and sliders rerun only it, not the many-episode and
comparison sections below, and traces are memoised per (model, episode, steps, α), so a click
redraws what changed and nothing else (``benchmarks/redraw_maml.py`` measures it).
"""

from __future__ import annotations

import time

import streamlit as st

from app.charts import show_chart
from app.i18n import t
from app.maml_view import cached
from core.algorithms import MAML
from core.algorithms.maml import AdaptationTrace
from core.episodes import Episode
from core.figures.maml import marked_predictions, stepper_curves, update_sizes
from core.figures.montage import display_scale, png_data_url

STEP_KEY = "maml_step"
PLAY_DELAY = 0.7  # seconds per step while playing: slow enough to follow
ALPHAS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)  # roughly log-spaced


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
        reference = (t("maml.stepper.reference", alpha=maml.inner_lr), trained.query_loss, trained.query_accuracy)
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
    playing = top_left.button(t("maml.stepper.play"), icon=":material/play_arrow:", key="maml_play",
                              use_container_width=True)  # fmt: skip
    top_right.button(t("maml.stepper.pause"), icon=":material/pause:", key="maml_pause", use_container_width=True,
                     help=t("maml.stepper.pause_help"))  # fmt: skip
    one = bottom_left.button(t("maml.stepper.one"), icon=":material/skip_next:", key="maml_one",
                             use_container_width=True)  # fmt: skip
    reset = bottom_right.button(t("maml.stepper.reset"), icon=":material/replay:", key="maml_reset",
                                use_container_width=True)  # fmt: skip
    if maml.inner_lrs is not None:
        st.toggle(t("maml.stepper.learned"), value=True, key="maml_learned_rates")
    if maml.inner_lrs is None or not st.session_state.get("maml_learned_rates", True):
        marks = {maml.test_inner_lr: t("maml.stepper.test_mark", alpha=maml.test_inner_lr)}
        marks[maml.inner_lr] = t("maml.stepper.trained_mark", alpha=maml.inner_lr)  # trained wins a tie
        options = alpha_options(maml.inner_lr, maml.test_inner_lr)
        st.select_slider(t("maml.stepper.alpha", trained=maml.inner_lr), options, value=float(maml.inner_lr),
                         key=f"maml_alpha_{maml.inner_lr:g}", format_func=lambda a: marks.get(a, f"{a:g}"),
                         help=t("maml.stepper.alpha_help"))  # fmt: skip
    steps = st.slider(t("maml.stepper.steps"), 1, 20, max(maml.test_steps, 5), key="maml_view_steps",
                      help=t("maml.stepper.steps_help", steps=maml.test_steps))  # fmt: skip
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
    label = t("maml.stepper.learned_alpha") if alpha is None else f"{alpha:g}"
    titles = {"title": t("maml.stepper.title", alpha=label), "loss": t("maml.stepper.loss_axis"),
              "step": t("maml.stepper.step"), "accuracy": t("maml.stepper.accuracy"),
              "accuracy_name": t("maml.stepper.accuracy")}  # fmt: skip
    support = t("maml.stepper.support_loss")
    losses = {support: trace.support_loss, t("maml.stepper.query_loss"): trace.query_loss}
    figure = stepper_curves(losses, trace.query_accuracy, shown_steps=k, titles=titles, reference=reference,
                            dotted=(support,))  # fmt: skip
    show_chart(figure, key=f"maml_curves_{suffix}", container=chart_slot)
    why_slot.markdown(_why(trace, trained_alpha))
    with below_slot.container():
        _predictions_and_updates(trace, episode, k, suffix)


def _metrics(trace: AdaptationTrace, k: int, steps: int) -> None:
    before, now = trace.query_accuracy[0], trace.query_accuracy[k]
    first, second = st.columns(2)
    first.metric(t("maml.stepper.step"), t("maml.stepper.step_value", k=k, steps=steps))
    change = t("maml.stepper.change", points=100 * (now - before)) if k else None
    second.metric(t("maml.stepper.accuracy"), f"{100 * now:.0f}%", change, help=t("maml.stepper.change_help"))
    first.metric(t("maml.stepper.support_loss"), f"{trace.support_loss[k]:.3g}")
    second.metric(t("maml.stepper.query_loss"), f"{trace.query_loss[k]:.3g}")


def _why(trace: AdaptationTrace, trained_alpha: float) -> str:
    """The divergence explanation, with the first step at which the support loss grew, if one did."""
    losses = trace.support_loss
    grew = next((k for k in range(1, len(losses)) if not losses[k] <= losses[k - 1]), None)  # NaN counts as grown
    why = t("maml.stepper.why", trained=trained_alpha)
    if grew is None:
        return why + t("maml.stepper.no_growth")
    return why + t("maml.stepper.grew", k=grew, before=losses[grew - 1], after=losses[grew])


def _predictions_and_updates(trace: AdaptationTrace, episode: Episode, k: int, suffix: str) -> None:
    predictions = trace.predictions[k]
    changed = int((predictions != trace.predictions[k - 1]).sum()) if k else 0
    wrong = int((predictions != trace.query_y).sum())
    st.markdown(t("maml.stepper.predictions", k=k, wrong=wrong, changed=changed))
    scale = display_scale(episode.query_x.shape[-1], target=56)
    count = len(predictions)
    per_row = -(-count // -(-count // 12))  # rows of at most 12, as even as they can be
    # a data URL, not a /media/ file: the picture cannot go stale between runs
    st.image(png_data_url(marked_predictions(episode.query_x, trace.query_y, predictions, scale, per_row=per_row)))
    updates, _ = st.columns(2)
    if k == 0:
        updates.info(t("maml.stepper.step_zero"))
    else:
        # {value} and {n} are left for the figure to fill, per bar
        words = {"hover": t("maml.stepper.update_hover", value="{value}"), "zero_text": t("maml.stepper.update_zero"),
                 "block_conv": t("maml.stepper.block_conv", n="{n}"),
                 "block_norm": t("maml.stepper.block_norm", n="{n}")}  # fmt: skip
        figure = update_sizes(trace.relative_update_norms[k - 1], t("maml.stepper.updates", k=k), **words)
        show_chart(figure, key=f"maml_updates_{suffix}", container=updates)
