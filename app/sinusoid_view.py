"""The MAML regression page's pieces: training settings, the training run, the task, the comparison, and
training replayed from the snapshots kept along the way."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pandas as pd
import streamlit as st
from safetensors.torch import load_file

from app.charts import show_chart
from app.errors import explain
from app.fair_use import Deadline, limits_sentence, training_turn
from app.i18n import t
from app.server_limits import server_limits
from app.training_scrub import scrub_snapshots
from core.checkpoints import split_snapshot_tensors
from core.figures.sinusoid import fine_tune_figure, fit_at_step_figure, sine_training_curves, value_by_step_figure
from core.sinusoid import (
    AMPLITUDE_RANGE,
    SineTrainConfig,
    SinusoidTask,
    fine_tune_curve,
    joint_train,
    mean_grid_mse,
    meta_train,
    random_task,
    regressor,
)
from core.training.replay import models_at, sine_fits
from core.training.snapshots import SnapshotKeeper

SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "sine"
RUN_KEY = "sine_run"
UPDATE_SECONDS = 1.0  # between chart redraws; a Stop click takes effect at the next redraw
HELD_OUT_TASKS = 50
STEP_CHOICES = [0, 1, 2, 5, 10, 20, 50, 100]
NAMES = ("maml", "joint")
# Chart keys stay as they were in English, so a language switch keeps each chart's place.
ENGLISH_NAMES = {"maml": "MAML", "joint": "joint training"}
COLOURS = {"maml": "#1f77b4", "joint": "#ff7f0e"}
SCRUB_TASKS = 20  # held-out tasks behind the MSE-by-meta-iteration chart (about 10 ms a snapshot)


def training_settings() -> SineTrainConfig | None:
    """K, steps, meta-batch and meta learning rate; None (with what to change) if they cannot work."""
    k, steps, batch, rate = st.columns(4)
    n_shot = k.radio(t("sine.n_shot"), [5, 10], index=1, horizontal=True, key="sine_n_shot")
    n_steps = steps.number_input(t("sine.steps"), 1, 20000, 2000, step=100, key="sine_steps")
    meta_batch = batch.number_input(t("sine.meta_batch"), 1, 200, 25, key="sine_meta_batch")
    meta_lr = rate.selectbox(t("sine.meta_lr"), [0.001, 0.003, 0.01], key="sine_meta_lr", help=t("sine.meta_lr_help"))
    try:
        return SineTrainConfig(n_shot=int(n_shot), steps=int(n_steps), meta_batch=int(meta_batch), meta_lr=meta_lr)
    except ValueError as error:
        st.error(t("sine.cannot_train", reason=explain(error)))
        return None


def training_panel(config: SineTrainConfig | None) -> dict | None:
    """Meta-train and Stop buttons, live curves; returns the run kept in the session, if any."""
    train_button, stop_button, limits_text = st.columns([1, 2, 3], vertical_alignment="center")
    start = train_button.button(t("sine.train"), type="primary", icon=":material/play_arrow:", key="sine_train",
                                disabled=config is None)  # fmt: skip
    stop_button.button(t("sine.stop"), icon=":material/stop:", key="sine_stop")
    limits = server_limits()
    limits_text.caption(limits_sentence(limits, count_episodes=False))
    if start and config is not None:
        with training_turn(limits) as deadline:
            if deadline is not None:
                run = {"config": config, "maml": regressor(config.seed), "joint": regressor(config.seed),
                       "maml_records": [], "joint_records": [], "finished": False, "stopped": False,
                       "keepers": {name: SnapshotKeeper(total=config.steps) for name in NAMES}}  # fmt: skip
                st.session_state[RUN_KEY] = run
                _drive(run, deadline)
                run["finished"] = True
    run = st.session_state.get(RUN_KEY)
    if run is None or not run["maml_records"]:
        return None
    if not run["finished"]:  # a rerun (Stop, or any other click) interrupted the loop
        run["finished"] = run["stopped"] = True
    _keep_snapshots(run)
    _report(run)
    return run


def _keep_snapshots(run: dict) -> None:
    """The snapshots of a finished or stopped run (the last step's weights included), kept in the run."""
    if "snapshots" in run or "keepers" not in run:
        return
    done = len(run["maml_records"])
    for name, keeper in run["keepers"].items():
        keeper.finish(done, run[name])
    run["snapshots"] = {name: tuple(s for s in keeper.snapshots if s.step <= done)
                        for name, keeper in run.pop("keepers").items()}  # fmt: skip
    run["snapshot_mse"] = snapshot_mse(run)


def load_pair(directory: Path | None = None) -> dict | None:
    """The MAML and joint-training networks of ``directory`` (``scripts/make_sine_assets.py``), shaped like a run:
    ``config``, ``maml``, ``joint`` and each one's JSON under ``metadata``; None when the files are absent."""
    directory = SHIPPED if directory is None else directory
    if not all((directory / f"{name}.{ext}").exists() for name in ("maml", "joint") for ext in ("json", "safetensors")):
        return None
    pair: dict = {"metadata": {}, "snapshots": {}}
    for name in NAMES:
        metadata = json.loads((directory / f"{name}.json").read_text())
        model = regressor()
        tensors = load_file(str(directory / f"{name}.safetensors"))
        model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("snapshot.")})
        steps = metadata.get("snapshots", {}).get("steps", [])
        pair["snapshots"][name] = split_snapshot_tensors(tensors, steps, model.state_dict())
        pair[name], pair["metadata"][name] = model.eval(), metadata
    pair["config"] = SineTrainConfig(**pair["metadata"]["maml"]["config"])
    pair["snapshot_mse"] = snapshot_mse(pair)
    return pair


def snapshot_mse(pair: dict) -> dict[str, list[float]]:
    """Each network's grid MSE after one step at each of its snapshots, over ``SCRUB_TASKS`` held-out tasks."""
    n_shot = pair["config"].n_shot
    return {name: [mean_grid_mse(replica, n_shot, (1,), SCRUB_TASKS)[0]
                   for _, replica in models_at(pair[name], pair["snapshots"].get(name, ()))]
            for name in NAMES}  # fmt: skip


@st.cache_resource
def shipped_pair() -> dict | None:
    """The shipped pair, loaded once per server; fine-tuning never changes the networks it holds."""
    return load_pair()


def shipped_caption(pair: dict) -> None:
    """Which pair the page shows and what it scored on held-out tasks, in two lines (the first screen is short)."""
    maml = pair["metadata"]["maml"]
    held_out = maml["held_out"]
    after_one = {name: values[held_out["steps"].index(1)] for name, values in held_out["grid_mse"].items()}
    st.info(
        t("sine.shipped", steps=f"{maml['steps']:,}", k=pair["config"].n_shot, tasks=held_out["tasks"],
          maml=f"{after_one['maml']:.2f}", joint=f"{after_one['joint']:.2f}"),
        icon=":material/inventory_2:",
    )  # fmt: skip


def shipped_provenance(pair: dict) -> None:
    """How the shipped pair was made (shown under the replay, where it is not in the way)."""
    if "maml_records" in pair:
        return
    maml, config = pair["metadata"]["maml"], pair["config"]
    st.caption(
        t("sine.provenance", made_by=maml["made_by"], date=maml["date"], steps=f"{maml['steps']:,}", k=config.n_shot,
          meta_batch=config.meta_batch, meta_lr=config.meta_lr, seconds=f"{maml['seconds']:.0f}")
    )  # fmt: skip


def _drive(run: dict, deadline: Deadline) -> None:
    config = run["config"]
    progress, chart, drawn = st.progress(0.0, text=t("sine.starting")), st.empty(), 0.0
    for name, keeper in run["keepers"].items():
        keeper.offer(0, run[name])
    for maml, joint in zip(meta_train(run["maml"], config), joint_train(run["joint"], config)):
        run["maml_records"].append(maml)
        run["joint_records"].append(joint)
        for name, keeper in run["keepers"].items():
            keeper.offer(maml.step, run[name])
        if maml.seconds - drawn >= UPDATE_SECONDS or maml.step == config.steps:
            drawn = maml.seconds
            progress.progress(maml.step / config.steps, text=t("sine.progress", step=maml.step, total=config.steps,
                              seconds=f"{maml.seconds:.0f}", mse=f"{maml.loss_after:.3f}"))  # fmt: skip
            show_chart(training_curves(run), key=f"sine_live_{maml.step}", container=chart)
        if deadline.passed():
            run["stopped"], run["reason"] = True, deadline.reason
            break
    progress.empty()
    chart.empty()


def _report(run: dict) -> None:
    """One line on how the run ended; the curves come further down (``show_training_report``)."""
    config, records = run["config"], run["maml_records"]
    if "held_out" not in run:
        steps = (0, 1, 10)
        run["held_out"] = {name: mean_grid_mse(run[name], config.n_shot, steps, HELD_OUT_TASKS)
                           for name in ("maml", "joint")}  # fmt: skip
    reason = run.get("reason")
    key = "sine.finished" if not run["stopped"] else "sine.stopped" if reason else "sine.stopped_plain"
    words = {"reason": reason} if reason else {}
    (st.warning if reason else st.success)(
        t(key, done=len(records), total=config.steps, seconds=f"{records[-1].seconds:.0f}", k=config.n_shot,
          meta_batch=config.meta_batch, meta_lr=config.meta_lr, **words)
    )  # fmt: skip


def show_training_report(run: dict) -> None:
    """The training curves of a pair trained in the page and its held-out MSEs (nothing for the shipped pair)."""
    if "maml_records" not in run:
        return
    show_chart(training_curves(run), key="sine_curves")
    maml, joint = (" / ".join(f"{mse:.2f}" for mse in run["held_out"][name]) for name in NAMES)
    st.caption(t("sine.held_out", tasks=HELD_OUT_TASKS, maml=maml, joint=joint))


def network_name(name: str) -> str:
    return t("nav.maml") if name == "maml" else t("sine.joint")


def steps_label(steps: int) -> str:
    """A curve's name after ``steps`` gradient steps, in the visitor's language."""
    if steps == 0:
        return t("sine.before_adapting")
    return t("sine.after_one_step") if steps == 1 else t("sine.after_steps", steps=steps)


def training_curves(run: dict):
    return sine_training_curves(
        run["maml_records"], run["joint_records"], names=(network_name("maml"), network_name("joint")),
        steps_label=steps_label,
        title=t("sine.curves_title", window=50), x_title=t("sine.curves_x"),
    )  # fmt: skip


def _draw_new_task() -> None:
    seed = random.randrange(1_000_000)
    task = random_task(seed)
    st.session_state["sine_amplitude"] = round(task.amplitude, 1)
    st.session_state["sine_phase"] = round(task.phase, 2)
    st.session_state["sine_points_seed"] = seed


def _draw_new_points() -> None:
    st.session_state["sine_points_seed"] = random.randrange(1_000_000)


def task_controls() -> tuple[SinusoidTask, int, list[int]]:
    """One row: amplitude and phase sliders, the fine-tuning steps to show, buttons for a random task or new
    points; returns the task, the points' seed and the step counts."""
    st.session_state.setdefault("sine_points_seed", 0)
    amplitude, phase, steps, buttons = st.columns([2, 2, 3, 1.6])
    value = amplitude.slider(t("sine.amplitude"), *AMPLITUDE_RANGE, 3.0, 0.1, key="sine_amplitude")
    shift = phase.slider(t("sine.phase"), 0.0, round(math.pi, 2), 1.0, 0.01, key="sine_phase")
    chosen = step_choice(steps)
    buttons.button(t("sine.new_task"), icon=":material/casino:", key="sine_new_task", on_click=_draw_new_task,
                   help=t("sine.new_task_help"), width="stretch")  # fmt: skip
    buttons.button(t("sine.new_points"), icon=":material/scatter_plot:", key="sine_new_points",
                   on_click=_draw_new_points, help=t("sine.new_points_help"), width="stretch")  # fmt: skip
    return SinusoidTask(float(value), float(shift)), int(st.session_state["sine_points_seed"]), chosen


def step_choice(container=st) -> list[int]:
    return container.multiselect(t("sine.fine_tune_steps"), STEP_CHOICES, default=[0, 1, 10],
                                 key="sine_fine_tune_steps", help=t("sine.fine_tune_steps_help"))  # fmt: skip


def show_comparison(run: dict, task: SinusoidTask, n_shot: int, points_seed: int, steps: list[int]) -> None:
    """Both networks fine-tuned the same way on the same K points: two figures and a table of grid MSEs."""
    trained_k = run["config"].n_shot
    if n_shot != trained_k:
        st.info(t("sine.other_k", trained=trained_k, k=n_shot))
    support_x, support_y = task.points(n_shot, points_seed)
    curves = {name: fine_tune_curve(run[name], task, support_x, support_y, steps) for name in NAMES}
    left, right = st.columns(2)
    for column, (name, curve) in zip((left, right), curves.items()):
        figure = fine_tune_figure(curve, support_x, support_y, t(f"sine.{name}_fit_title"),
                                  truth_label=t("sine.true_wave"), points_label=t("sine.points", k=len(support_x)),
                                  fit_label=lambda steps, mse: t("sine.fit_label", label=steps_label(steps),
                                                                 mse=f"{mse:.3f}"))  # fmt: skip
        show_chart(figure, key=f"sine_fit_{ENGLISH_NAMES[name]}", container=column)
    first = curves["maml"].steps
    columns = {t("sine.column_mse", name=network_name(name)): curve.mse for name, curve in curves.items()}
    table = pd.DataFrame({t("sine.column_steps"): first, **columns})
    st.dataframe(table, hide_index=True, width="content")
    if 1 in first:
        index = first.index(1)
        maml, joint = curves["maml"].mse[index], curves["joint"].mse[index]
        one, two = st.columns(2)
        one.metric(t("sine.maml_after_one"), f"{maml:.3f}")
        difference = t("sine.versus_maml", difference=f"{joint - maml:+.3f}")
        two.metric(t("sine.joint_after_one"), f"{joint:.3f}", delta=difference, delta_color="inverse")


def show_training_scrub(run: dict, task: SinusoidTask, n_shot: int, points_seed: int) -> None:
    """A slider over the kept meta-iterations: both networks as they were then, one step on this task's K points,
    beside their held-out MSE after one step at every snapshot."""
    snapshots = run.get("snapshots", {})
    steps = [snapshot.step for snapshot in snapshots.get("maml", ())]
    if len(steps) < 2 or [s.step for s in snapshots.get("joint", ())] != steps:
        st.info(t("sine.no_snapshots"), icon=":material/history:")
        return
    support_x, support_y = task.points(n_shot, points_seed)
    total = steps[-1]

    def draw_at_step(step: int) -> None:
        index = steps.index(step)
        fits = {name: sine_fits(run[name], [snapshots[name][index]], task, support_x, support_y, (0, 1))[0].curve
                for name in NAMES}  # fmt: skip
        lines = [(t("sine.scrub_before", mse=f"{fits['maml'].mse[0]:.2f}"), fits["maml"].predictions[0].numpy(),
                  COLOURS["maml"], "dot")]  # fmt: skip
        lines += [(t("sine.scrub_after", name=network_name(name), mse=f"{fit.mse[1]:.2f}"), fit.predictions[1].numpy(),
                   COLOURS[name], "solid") for name, fit in fits.items()]  # fmt: skip
        curve = fits["maml"]
        left, right = st.columns([3, 2])
        show_chart(fit_at_step_figure(
            curve.grid.numpy(), curve.truth.numpy(), lines, support_x.squeeze(1).numpy(), support_y.squeeze(1).numpy(),
            t("sine.fit_at_title", step=f"{step:,}", total=f"{total:,}"), t("sine.true_wave"),
            t("sine.points", k=n_shot),
        ), key="sine_scrub_fit", container=left)  # fmt: skip
        series = [(network_name(name), run["snapshot_mse"][name], COLOURS[name]) for name in NAMES]
        mse_title = t("sine.mse_title", tasks=SCRUB_TASKS)
        figure = value_by_step_figure(steps, series, step, mse_title, t("sine.mse_x"), t("sine.mse_y"))
        show_chart(figure, key="sine_scrub_mse", container=right)

    scrub_snapshots(steps, draw_at_step, key="sine_scrub_step", label=t("sine.scrub_slider"), help=t("sine.scrub_help"))
