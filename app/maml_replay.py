"""Replay MAML's meta-training on the current episode: the inner loop from the initialisation of each kept step."""

from __future__ import annotations

import streamlit as st

from app.charts import show_chart
from app.i18n import t
from app.model_picker import ModelChoice
from app.training_scrub import last_replay, replay_expander, scrub_snapshots
from core.algorithms import FewShotAlgorithm
from core.episodes import Episode
from core.figures.maml import inner_loop_curves
from core.training.replay import AdaptationAtStep, maml_adaptations

PREFIX = "maml"
CACHE = "maml_replay_adaptations"  # one entry: the model and episode last replayed


def replay_section(model: ModelChoice, episode: Episode, episode_key: object) -> None:
    """An expander with a slider over the meta-training steps kept for ``model`` (trained on this page, or
    shipped with its snapshots) and the query loss and accuracy after each inner step on this episode,
    starting from that step's initialisation; one caption for a model without snapshots.

    The inner loops of all steps are run once per model and ``episode_key``; moving the slider only draws.
    """
    with replay_expander(PREFIX, "maml_replay", model) as snapshots:
        if not snapshots:
            return
        records = _adaptations(model.algorithm, model.label, snapshots, episode, episode_key)
        by_step = {record.step: record for record in records}
        final = records[-1]
        top = 1.05 * max(max(record.trace.query_loss) for record in records)
        scrub_snapshots(list(by_step), lambda step: _draw(by_step[step], final, top), key="maml_replay_step",
                        help=t("maml_replay.slider_help"))  # fmt: skip
        st.caption(t("maml_replay.caption"))


def _adaptations(algorithm: FewShotAlgorithm, model_name: str, snapshots, episode: Episode, episode_key: object):
    key = (model_name, episode_key, tuple(s.step for s in snapshots))
    return last_replay(CACHE, key, lambda: maml_adaptations(algorithm, snapshots, episode))


def _draw(record: AdaptationAtStep, final: AdaptationAtStep, top: float) -> None:
    """The chosen step's curves, with the last kept step's faint beside them for comparison (axes fixed over
    all steps, so that sliding does not rescale)."""
    trace, last = record.trace, final.trace
    at_step, at_end = t("maml_replay.at_step", step=f"{record.step:,}"), t("maml_replay.at_end", step=f"{final.step:,}")
    loss = {at_step: list(trace.query_loss)}
    accuracy = {at_step: list(trace.query_accuracy)}
    if record.step != final.step:
        loss[at_end], accuracy[at_end] = list(last.query_loss), list(last.query_accuracy)
    adapted = len(trace.query_loss) - 1
    loss_title = t("maml_replay.loss_title", step=f"{record.step:,}", before=f"{trace.query_loss[0]:.2f}",
                   after=f"{trace.query_loss[-1]:.2f}", steps=adapted)  # fmt: skip
    accuracy_title = t("maml_replay.accuracy_title", step=f"{record.step:,}",
                       before=f"{trace.query_accuracy[0]:.0%}", after=f"{trace.query_accuracy[-1]:.0%}")  # fmt: skip
    loss_figure = inner_loop_curves(loss, loss_title, t("maml_replay.loss_axis"), y_range=[0, top])
    accuracy_figure = inner_loop_curves(accuracy, accuracy_title, t("maml_replay.accuracy_axis"), y_range=[0, 1.05])
    accuracy_figure.update_yaxes(tickformat=".0%")
    for figure in (loss_figure, accuracy_figure):
        figure.update_xaxes(title=t("maml_replay.inner_step"))
        if len(figure.data) > 1:
            figure.data[1].update(line={"color": "#b0b0b0", "dash": "dot"})
    columns = st.columns(2)  # inside the slider's fragment, so that a slide redraws them in place
    show_chart(loss_figure, key="maml_replay_loss", container=columns[0])
    show_chart(accuracy_figure, key="maml_replay_accuracy", container=columns[1])
