"""The MAML regression page's pieces: training settings, the training run, the task and the comparison."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pandas as pd
import streamlit as st
from safetensors.torch import load_file

from app.fair_use import Deadline, limits_sentence, training_turn
from app.server_limits import server_limits
from core.figures.sinusoid import fine_tune_figure, sine_training_curves
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

SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "sine"
RUN_KEY = "sine_run"
UPDATE_SECONDS = 1.0  # between chart redraws; a Stop click takes effect at the next redraw
HELD_OUT_TASKS = 50
STEP_CHOICES = [0, 1, 2, 5, 10, 20, 50, 100]


def training_settings() -> SineTrainConfig | None:
    """K, steps, meta-batch and meta learning rate; None (with what to change) if they cannot work."""
    k, steps, batch, rate = st.columns(4)
    n_shot = k.radio("K (n_shot, points per task)", [5, 10], index=1, horizontal=True, key="sine_n_shot")
    n_steps = steps.number_input("training steps", 1, 20000, 2000, step=100, key="sine_steps")
    meta_batch = batch.number_input("meta-batch (tasks per step)", 1, 200, 25, key="sine_meta_batch")
    meta_lr = rate.selectbox("meta learning rate β", [0.001, 0.003, 0.01], key="sine_meta_lr",
                             help="0.001 is the paper's; larger ones learn in fewer steps, less smoothly.")  # fmt: skip
    try:
        return SineTrainConfig(n_shot=int(n_shot), steps=int(n_steps), meta_batch=int(meta_batch), meta_lr=meta_lr)
    except ValueError as error:
        st.error(f"These settings cannot train: {error}. Change them above.")
        return None


def training_panel(config: SineTrainConfig | None) -> dict | None:
    """Meta-train and Stop buttons, live curves; returns the run kept in the session, if any."""
    start = st.button("Meta-train", type="primary", icon=":material/play_arrow:", key="sine_train",
                      disabled=config is None)  # fmt: skip
    st.button("Stop (keep what was trained so far)", icon=":material/stop:", key="sine_stop")
    limits = server_limits()
    st.caption(limits_sentence(limits, count_episodes=False))
    if start and config is not None:
        with training_turn(limits) as deadline:
            if deadline is not None:
                run = {"config": config, "maml": regressor(config.seed), "joint": regressor(config.seed),
                       "maml_records": [], "joint_records": [], "finished": False, "stopped": False}  # fmt: skip
                st.session_state[RUN_KEY] = run
                _drive(run, deadline)
                run["finished"] = True
    run = st.session_state.get(RUN_KEY)
    if run is None or not run["maml_records"]:
        return None
    if not run["finished"]:  # a rerun (Stop, or any other click) interrupted the loop
        run["finished"] = run["stopped"] = True
    _report(run)
    return run


def load_pair(directory: Path | None = None) -> dict | None:
    """The MAML and joint-training networks of ``directory`` (``scripts/make_sine_assets.py``), shaped like a run:
    ``config``, ``maml``, ``joint`` and each one's JSON under ``metadata``; None when the files are absent."""
    directory = SHIPPED if directory is None else directory
    if not all((directory / f"{name}.{ext}").exists() for name in ("maml", "joint") for ext in ("json", "safetensors")):
        return None
    pair: dict = {"metadata": {}}
    for name in ("maml", "joint"):
        metadata = json.loads((directory / f"{name}.json").read_text())
        model = regressor()
        model.load_state_dict(load_file(str(directory / f"{name}.safetensors")))
        pair[name], pair["metadata"][name] = model.eval(), metadata
    pair["config"] = SineTrainConfig(**pair["metadata"]["maml"]["config"])
    return pair


@st.cache_resource
def shipped_pair() -> dict | None:
    """The shipped pair, loaded once per server; fine-tuning never changes the networks it holds."""
    return load_pair()


def shipped_caption(pair: dict) -> None:
    """Where the shipped pair comes from and what it scored on held-out tasks."""
    maml = pair["metadata"]["maml"]
    config, held_out = pair["config"], maml["held_out"]
    after_one = held_out["steps"].index(1)
    st.info(
        f"Shown below: the **shipped pair** (`assets/sine`, made by `{maml['made_by']}` on {maml['date']}: "
        f"{maml['steps']} steps, K = {config.n_shot}, meta-batch {config.meta_batch}, β = {config.meta_lr}, "
        f"{maml['seconds']:.0f} s on one CPU thread). Over {held_out['tasks']} held-out tasks, grid MSE after 1 "
        f"step: MAML {held_out['grid_mse']['maml'][after_one]:.2f}, joint training "
        f"{held_out['grid_mse']['joint'][after_one]:.2f}. Press **Meta-train** to train your own pair.",
        icon=":material/inventory_2:",
    )


def _drive(run: dict, deadline: Deadline) -> None:
    config = run["config"]
    progress, chart, drawn = st.progress(0.0, text="starting…"), st.empty(), 0.0
    for maml, joint in zip(meta_train(run["maml"], config), joint_train(run["joint"], config)):
        run["maml_records"].append(maml)
        run["joint_records"].append(joint)
        if maml.seconds - drawn >= UPDATE_SECONDS or maml.step == config.steps:
            drawn = maml.seconds
            progress.progress(maml.step / config.steps, text=f"step {maml.step} of {config.steps} · "
                              f"{maml.seconds:.0f} s · MAML query MSE {maml.loss_after:.3f}")  # fmt: skip
            chart.plotly_chart(sine_training_curves(run["maml_records"], run["joint_records"]),
                               key=f"sine_live_{maml.step}")  # fmt: skip
        if deadline.passed():
            run["stopped"], run["reason"] = True, deadline.reason
            break
    progress.empty()
    chart.empty()


def _report(run: dict) -> None:
    config, records = run["config"], run["maml_records"]
    if "held_out" not in run:
        steps = (0, 1, 10)
        run["held_out"] = {name: mean_grid_mse(run[name], config.n_shot, steps, HELD_OUT_TASKS)
                           for name in ("maml", "joint")}  # fmt: skip
    verb = "Stopped" if run["stopped"] else "Finished"
    why = f" ({run['reason']})" if run.get("reason") else ""
    (st.warning if why else st.success)(
        f"{verb} after {len(records)} of {config.steps} steps ({records[-1].seconds:.0f} s){why}, "
        f"K = {config.n_shot}, meta-batch {config.meta_batch}, β = {config.meta_lr}."
    )
    st.plotly_chart(sine_training_curves(records, run["joint_records"]), key="sine_curves")
    maml, joint = run["held_out"]["maml"], run["held_out"]["joint"]
    st.caption(
        f"Over {HELD_OUT_TASKS} new tasks, MSE on the grid before adapting / after 1 step / after 10 steps: "
        f"MAML {maml[0]:.2f} / {maml[1]:.2f} / {maml[2]:.2f}, joint training {joint[0]:.2f} / {joint[1]:.2f} / "
        f"{joint[2]:.2f}."
    )


def _draw_new_task() -> None:
    seed = random.randrange(1_000_000)
    task = random_task(seed)
    st.session_state["sine_amplitude"] = round(task.amplitude, 1)
    st.session_state["sine_phase"] = round(task.phase, 2)
    st.session_state["sine_points_seed"] = seed


def _draw_new_points() -> None:
    st.session_state["sine_points_seed"] = random.randrange(1_000_000)


def task_controls() -> tuple[SinusoidTask, int]:
    """Amplitude and phase sliders, buttons for a random task or new points; the task and the points' seed."""
    st.session_state.setdefault("sine_points_seed", 0)
    amplitude, phase, buttons = st.columns([2, 2, 1])
    value = amplitude.slider("amplitude", *AMPLITUDE_RANGE, 3.0, 0.1, key="sine_amplitude")
    shift = phase.slider("phase", 0.0, round(math.pi, 2), 1.0, 0.01, key="sine_phase")
    buttons.button("New random task", icon=":material/casino:", key="sine_new_task", on_click=_draw_new_task)
    buttons.button("New K points", icon=":material/scatter_plot:", key="sine_new_points", on_click=_draw_new_points)
    return SinusoidTask(float(value), float(shift)), int(st.session_state["sine_points_seed"])


def step_choice() -> list[int]:
    return st.multiselect("fine-tuning steps to show (gradient steps on the K points, learning rate 0.01)",
                          STEP_CHOICES, default=[0, 1, 10], key="sine_fine_tune_steps")  # fmt: skip


def show_comparison(run: dict, task: SinusoidTask, n_shot: int, points_seed: int, steps: list[int]) -> None:
    """Both networks fine-tuned the same way on the same K points: two figures and a table of grid MSEs."""
    trained_k = run["config"].n_shot
    if n_shot != trained_k:
        st.info(f"The networks were trained with K = {trained_k}; they are shown on K = {n_shot} points. "
                f"Press Meta-train to train for K = {n_shot}.")  # fmt: skip
    support_x, support_y = task.points(n_shot, points_seed)
    curves = {name: fine_tune_curve(run[key], task, support_x, support_y, steps)
              for name, key in (("MAML", "maml"), ("joint training", "joint"))}  # fmt: skip
    left, right = st.columns(2)
    for column, (name, curve) in zip((left, right), curves.items()):
        title = f"{name}: {'meta-trained' if name == 'MAML' else 'trained on all tasks'}, then fine-tuned"
        column.plotly_chart(fine_tune_figure(curve, support_x, support_y, title), key=f"sine_fit_{name}")
    first = curves["MAML"].steps
    table = pd.DataFrame({"steps": first, **{f"{name} MSE": curve.mse for name, curve in curves.items()}})
    st.dataframe(table, hide_index=True, width="content")
    if 1 in first:
        index = first.index(1)
        maml, joint = curves["MAML"].mse[index], curves["joint training"].mse[index]
        one, two = st.columns(2)
        one.metric("MAML, MSE after 1 step", f"{maml:.3f}")
        two.metric("joint training, MSE after 1 step", f"{joint:.3f}", delta=f"{joint - maml:+.3f} vs MAML",
                   delta_color="inverse")  # fmt: skip
