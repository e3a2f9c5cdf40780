"""MAML in 2-D: the controls, the meta-training stepper and the figure, as one fragment.

θ moves with two sliders or a click on the plane (a grid of invisible markers makes every spot
selectable). Meta-training takes one outer step per frame, for MAML and for joint training side by
side; the points so far live in the session, so Pause (any click) keeps them and Step adds one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import streamlit as st
import torch

from app.charts import show_chart
from app.code_view import function_source, qualified_name
from app.i18n import t
from core.figures.plane import PlaneLabels, plane_figure, training_losses
from core.toys.maml_plane import (
    FAMILIES,
    TaskFamily,
    maml_loss,
    outer_step,
    quadratic_fixed_points,
    snapshot,
    task_losses,
    trajectory,
)

RUN_KEY, CLICKS_KEY = "plane_run", "plane_clicks"
PLAY_DELAY = 0.12  # seconds per outer step while playing
ARROW_STRETCH = 3  # the meta-gradient arrows are drawn this many outer steps long, to be seen beside the inner ones


def plane_labels() -> PlaneLabels:
    """The plane figure's words in the visitor's language ({i} is left for the figure to fill, per task)."""
    words = {name: t(f"maml_plane.{name}") for name in ("maml_path", "joint_path", "maml_point", "joint_point",
                                                        "click_hint", "minimum", "loss")}  # fmt: skip
    return PlaneLabels(
        title=t("maml_plane.plot_title"), task=t("maml_plane.task", i="{i}"), theta="θ",
        adapted=t("maml_plane.adapted", i="{i}"), second_order=t("maml_plane.second_order", stretch=ARROW_STRETCH),
        first_order=t("maml_plane.first_order", stretch=ARROW_STRETCH), **words,
    )  # fmt: skip


@dataclass(frozen=True)
class PlaneSettings:
    """What the controls chose; all but ``outer_steps`` define the meta-training run (a change starts a new one)."""

    family_name: str
    start: tuple[float, float]
    alpha: float
    steps: int
    beta: float
    outer_steps: int
    first_order: bool

    @property
    def family(self) -> TaskFamily:
        return FAMILIES[self.family_name]

    @property
    def method(self) -> str:
        return "first_order" if self.first_order else "second_order"


def _move_theta(chart_key: str) -> None:
    """A click on the plane: θ goes to the clicked grid point, and the chart gets a fresh key (no selection)."""
    points = st.session_state.get(chart_key, {}).get("selection", {}).get("points", [])
    if points:
        st.session_state["plane_x"], st.session_state["plane_y"] = round(points[0]["x"], 2), round(points[0]["y"], 2)
        st.session_state[CLICKS_KEY] = st.session_state.get(CLICKS_KEY, 0) + 1


def _on_family_change() -> None:
    family = FAMILIES[st.session_state["plane_family"]]
    st.session_state["plane_x"], st.session_state["plane_y"] = family.start
    st.session_state["plane_alpha"], st.session_state["plane_beta"] = family.alpha, family.beta


def controls() -> tuple[PlaneSettings, str | None]:
    """The widgets; returns the settings and the stepper button pressed ("play", "one", "reset" or None)."""
    names = {family: t(f"maml_plane.{family}_name") for family in FAMILIES}  # this run's language, fixed
    name = st.selectbox(t("maml_plane.family"), list(FAMILIES), format_func=names.get, key="plane_family",
                        on_change=_on_family_change)  # fmt: skip
    family = FAMILIES[name]
    x_min, x_max, y_min, y_max = family.extent
    for key, value in zip(
        ("plane_x", "plane_y", "plane_alpha", "plane_beta"), (*family.start, family.alpha, family.beta)
    ):
        st.session_state.setdefault(key, value)
    x = st.slider("θ₁", x_min, x_max, step=0.05, key="plane_x", help=t("maml_plane.theta_help"))
    y = st.slider("θ₂", y_min, y_max, step=0.05, key="plane_y", help=t("maml_plane.theta_help"))
    alpha = st.slider(t("maml_plane.alpha"), 0.0, family.alpha_max, step=0.05, key="plane_alpha")
    steps = st.slider(t("maml_plane.steps"), 1, 5, 1, key="plane_steps")
    st.markdown(t("maml_plane.train"))
    top_left, top_right = st.columns(2)
    bottom_left, bottom_right = st.columns(2)
    pressed = None
    if top_left.button(t("maml_plane.play"), icon=":material/play_arrow:", key="plane_play", use_container_width=True):
        pressed = "play"
    top_right.button(t("maml_plane.pause"), icon=":material/pause:", key="plane_pause", use_container_width=True,
                     help=t("maml_plane.pause_help"))  # fmt: skip
    if bottom_left.button(t("maml_plane.one"), icon=":material/skip_next:", key="plane_one", use_container_width=True):
        pressed = "one"
    if bottom_right.button(t("maml_plane.reset"), icon=":material/replay:", key="plane_reset",
                           use_container_width=True):  # fmt: skip
        pressed = "reset"
    with st.expander(t("maml_plane.more")):
        beta = st.slider(t("maml_plane.beta"), 0.1, 5.0, step=0.1, key="plane_beta")
        outer = st.slider(t("maml_plane.outer"), 5, 200, 40, step=5, key="plane_outer")
        first_order = st.toggle(t("maml_plane.first_order_toggle"), key="plane_first_order")
    return PlaneSettings(name, (float(x), float(y)), float(alpha), int(steps), float(beta), int(outer),
                         bool(first_order)), pressed  # fmt: skip


def _run(settings: PlaneSettings, reset: bool) -> dict:
    """The session's meta-training points (MAML and joint), started afresh when the settings change."""
    run = st.session_state.get(RUN_KEY)
    if reset or run is None or replace(run["settings"], outer_steps=0) != replace(settings, outer_steps=0):
        start = torch.tensor(settings.start, dtype=torch.float64)
        run = {"settings": settings, "maml": [start], "joint": [start], "diverged_at": None}
        st.session_state[RUN_KEY] = run
    run["settings"] = settings
    return run


def _advance(run: dict) -> bool:
    """One outer step of MAML and of joint training; False when there is nothing more to do."""
    settings: PlaneSettings = run["settings"]
    if run["diverged_at"] is not None or len(run["maml"]) > settings.outer_steps:
        return False
    family, alpha, steps, beta = settings.family, settings.alpha, settings.steps, settings.beta
    maml = outer_step(family, run["maml"][-1], settings.method, alpha, steps, beta)
    joint = outer_step(family, run["joint"][-1], "joint", alpha, steps, beta)
    if (
        not (torch.isfinite(maml).all() and torch.isfinite(joint).all())
        or max(maml.abs().max(), joint.abs().max()) > 1e3
    ):
        run["diverged_at"] = len(run["maml"])
        return False
    run["maml"].append(maml)
    run["joint"].append(joint)
    return True


@st.fragment
def interactive() -> None:
    """Controls beside the plane, then the words and the loss curves; Play animates the outer steps."""
    left, right = st.columns([1, 2.2], gap="medium")
    with left:
        settings, pressed = controls()
        metric_slot = st.empty()
    run = _run(settings, reset=pressed == "reset")
    if pressed == "one":
        _advance(run)
    slots = (metric_slot, right.empty(), st.empty(), st.empty())
    if pressed != "play":
        _draw(slots, run, "still")
        return
    if len(run["maml"]) > settings.outer_steps:  # a finished run plays again from the start
        run = _run(settings, reset=True)
    while True:
        _draw(slots, run, f"play{len(run['maml'])}")
        if not _advance(run):
            break
        time.sleep(PLAY_DELAY)
    _draw(slots, run, "still")


def _draw(slots: tuple, run: dict, suffix: str) -> None:
    metric_slot, chart_slot, words_slot, losses_slot = slots
    settings: PlaneSettings = run["settings"]
    family = settings.family
    theta = run["maml"][-1]
    shot = snapshot(family, theta, settings.alpha, settings.steps)
    k = len(run["maml"]) - 1
    metric_slot.metric(t("maml_plane.outer_metric"), t("maml_plane.outer_value", k=k, n=settings.outer_steps))
    targets = quadratic_fixed_points(family, settings.alpha, settings.steps) if family.kind == "quadratic" else None
    maml_path, joint_path = torch.stack(run["maml"]), torch.stack(run["joint"])
    still = suffix == "still"
    figure = plane_figure(family, shot, plane_labels(), maml_path, joint_path, targets, ARROW_STRETCH * settings.beta,
                          clickable=still)  # fmt: skip
    chart_key = f"plane_chart_{st.session_state.get(CLICKS_KEY, 0)}"
    if still:
        show_chart(figure, chart_slot, key=chart_key, on_select=lambda: _move_theta(chart_key), selection_mode="points")
    else:
        show_chart(figure, chart_slot, key=f"plane_chart_{suffix}")
    with words_slot.container():
        if run["diverged_at"] is not None:
            st.warning(t("maml_plane.diverged", k=run["diverged_at"]))
        st.markdown(_words(settings, shot, targets))
    if k:
        maml = trajectory(family, maml_path, settings.method, settings.alpha, settings.steps)
        joint = trajectory(family, joint_path, "joint", settings.alpha, settings.steps)
        names = {"MAML": (maml, "#9467bd"), t("maml_plane.joint_path"): (joint, "#8c564b")}
        curves = {name: (path.loss_before, path.loss_after, colour) for name, (path, colour) in names.items()}
        words = [t(f"maml_plane.{key}") for key in ("loss_title", "step_axis", "loss_axis")]
        # {name} is left for the figure to fill, per method
        before, after = t("maml_plane.before", name="{name}"), t("maml_plane.after", name="{name}")
        show_chart(training_losses(curves, *words, before, after), key=f"plane_losses_{suffix}", container=losses_slot)
    else:
        losses_slot.empty()


def _words(settings: PlaneSettings, shot, targets) -> str:
    second, first = shot.gradients.second_order, shot.gradients.first_order
    norms = float(second.norm()), float(first.norm())
    cosine = float(second @ first) / (norms[0] * norms[1]) if min(norms) > 1e-12 else 1.0
    angle = math.degrees(math.acos(max(-1.0, min(1.0, cosine))))
    ratio = norms[0] / norms[1] if norms[1] > 1e-12 else 1.0
    marks = {"star": " (★)", "diamond": " (◆)"} if targets is not None else {"star": "", "diamond": ""}
    comparison = (t("maml_plane.compare", angle=angle, ratio=ratio) if max(norms) * settings.beta > 1e-3
                  else t("maml_plane.at_rest"))  # fmt: skip
    text = t("maml_plane.see", steps=settings.steps, alpha=settings.alpha, comparison=comparison,
             stretch=ARROW_STRETCH, **marks)  # fmt: skip
    if settings.family_name == "bowls" and targets is not None:
        values = {}
        for name, point in zip(("maml", "joint"), targets):
            values[f"{name}_after"] = float(maml_loss(settings.family, point, settings.alpha, settings.steps))
            values[f"{name}_before"] = float(task_losses(settings.family, point).mean())
        steepest = float(torch.linalg.eigvalsh(settings.family.tensors()[1]).max())
        family_text = t("maml_plane.bowls", steep=settings.alpha * steepest, **values)
    elif settings.family_name == "equal_bowls":
        family_text = t("maml_plane.equal_bowls", steps=settings.steps, factor=(1 - settings.alpha) ** settings.steps)
    else:
        family_text = t(f"maml_plane.{settings.family_name}")
    zero = t("maml_plane.zero_alpha") if settings.alpha == 0 else ""
    return f"{text}\n\n{family_text}{zero}"


def code(functions: list) -> None:
    """A collapsed "The code" expander: the core functions behind the figure and a snippet that redoes it."""
    family = st.session_state.get("plane_family", "bowls")
    start = (
        st.session_state.get("plane_x", FAMILIES[family].start[0]),
        st.session_state.get("plane_y", FAMILIES[family].start[1]),
    )
    alpha, steps = st.session_state.get("plane_alpha", FAMILIES[family].alpha), st.session_state.get("plane_steps", 1)
    beta = st.session_state.get("plane_beta", FAMILIES[family].beta)
    snippet = "\n".join([
        "import torch",
        "from core.toys.maml_plane import FAMILIES, snapshot, train",
        "",
        f"family = FAMILIES[{family!r}]",
        f"theta = torch.tensor([{start[0]:g}, {start[1]:g}], dtype=torch.float64)",
        f"shot = snapshot(family, theta, alpha={alpha:g}, steps={steps})",
        "print(shot.paths[:, -1], shot.gradients.second_order, shot.gradients.first_order)",
        f"maml = train(family, theta, 'second_order', {alpha:g}, {steps}, beta={beta:g}, outer_steps=40)",
        f"joint = train(family, theta, 'joint', {alpha:g}, {steps}, beta={beta:g}, outer_steps=40)",
        "print(maml.points[-1], joint.points[-1])",
    ])  # fmt: skip
    with st.expander(t("maml_plane.code"), icon=":material/code:"):
        st.markdown(t("maml_plane.code_intro"))
        for function in functions:
            st.caption(f"`{qualified_name(function)}`")
            st.code(function_source(function), language="python")
        st.markdown(t("maml_plane.code_snippet"))
        st.code(snippet, language="python")
