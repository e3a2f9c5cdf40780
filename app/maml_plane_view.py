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
FAMILY_NAMES = {"bowls": "Bowls, different curvatures", "equal_bowls": "Bowls, equal curvature",
                "wells": "Wells (non-convex)"}  # fmt: skip
LABELS = PlaneLabels(
    title="Four tasks, θ, each task's inner steps and MAML's outer step",
    task="task {i}",
    theta="θ",
    adapted="θ′{i} (task {i} after the inner steps)",
    second_order=f"outer step ×{ARROW_STRETCH}, second order (exact)",
    first_order=f"outer step ×{ARROW_STRETCH}, first order",
    maml_path="MAML (meta-training)",
    joint_path="joint training",
    maml_point="MAML's point",
    joint_point="joint training's point",
    click_hint="click to move θ here",
)
TEXT = {
    "family": "tasks", "x": "θ₁", "y": "θ₂",
    "theta_help": "meta-training starts here; a click on the plane moves it too",
    "alpha": "inner learning rate α", "steps": "inner steps", "train": "**Meta-train** (one outer step per frame)",
    "play": "Play", "pause": "Pause", "one": "Step", "reset": "Reset", "pause_help": "stops a running Play where it is",
    "more": "More settings", "beta": "outer learning rate β", "outer": "outer steps for Play",
    "first_order": "meta-train with first-order gradients", "outer_metric": "outer step", "outer_value": "{k} of {n}",
    "diverged": "Training diverged at outer step {k} (θ ran past ±1000): lower β, or α.",
    "loss_title": "Mean loss over the tasks at each outer step", "loss_axis": "mean loss", "step_axis": "outer step",
    "after": "{name}, after the inner steps", "before": "{name}, before adapting",
    "see": (
        "**What you see.** θ is a point in the plane and each task has its own loss. Each ✕ is a task's "
        "minimum, its rings that task's loss. From θ (black dot) every task "
        "takes {steps} gradient step(s) of size α = {alpha:g}: the coloured arrows θ → θ′ᵢ. MAML judges θ by "
        "the tasks' losses *after* those steps, and moves θ along the black arrow (the exact, second-order "
        "meta-gradient, which differentiates through the inner steps) or the pink one (first order: it treats "
        "θ′ᵢ as if it did not depend on θ); each is drawn as {stretch} times the step it takes (β times the gradient). "
        "{comparison} Press **Play** to meta-train from θ towards the point from which the inner steps serve "
        "every task{star}; "
        "joint training runs beside it, towards the minimum of the mean loss{diamond}. Move θ with the sliders or "
        "a click on the plane."
    ),
    "bowls": (
        "**Why ★ is not ◆.** Joint training minimises the tasks' mean loss, where the steep bowls (2 and 4) "
        "pull hardest. MAML minimises the mean loss *after* the inner steps. The closer α times a bowl's "
        "curvature is to 1 (here {steep:.2f} for the steepest direction), the nearer one step brings that bowl "
        "to its minimum from anywhere, so MAML cares less where θ is for the steep bowls and sits where the "
        "shallow ones (1 and 3), which adapt slowly, are served best. "
        "After the inner steps the mean loss is {maml_after:.2f} from ★ and {joint_after:.2f} from ◆; before "
        "them it is {maml_before:.2f} and {joint_before:.2f}."
    ),
    "equal_bowls": (
        "**When first and second order agree.** Every bowl here has the same curvature H = I, so each inner "
        "step multiplies θ − cᵢ by the same (1 − α); the second-order gradient is the first-order one times "
        "(1 − α)^{steps} = {factor:.2f}: the same direction, only shorter. Their difference vanishes in "
        "direction, and both end at the same point, the mean of the minima, which is also joint training's "
        "point (★ on ◆). Different curvatures (the first family) pull them apart."
    ),
    "wells": (
        "**Non-convex.** A Gaussian well is a bowl near its minimum and flat far from it, where its inner step "
        "barely moves θ. Its curvature changes from place to place and turns negative on the rim, where the "
        "inner step's Jacobian I − αH stretches instead of shrinking: there the exact (black) arrow can be "
        "*longer* than the first-order one. The mean loss has several valleys, so where meta-training and joint "
        "training end depends on where they start: press **Play**, then move θ and play again."
    ),
    "compare": "Here they are {angle:.0f}° apart, the black one {ratio:.2f} times as long.",
    "at_rest": "Here both are (almost) zero: θ has stopped moving.",
    "zero_alpha": " With α = 0 nothing adapts, and MAML *is* joint training.",
    "code": "The code",
    "code_intro": "The `core` functions that computed this figure, read from the library as it runs:",
    "code_snippet": "**This figure's numbers in Python** (run it from the repository's root):",
}  # fmt: skip


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
    name = st.selectbox(TEXT["family"], list(FAMILIES), format_func=FAMILY_NAMES.get, key="plane_family",
                        on_change=_on_family_change)  # fmt: skip
    family = FAMILIES[name]
    x_min, x_max, y_min, y_max = family.extent
    for key, value in zip(
        ("plane_x", "plane_y", "plane_alpha", "plane_beta"), (*family.start, family.alpha, family.beta)
    ):
        st.session_state.setdefault(key, value)
    x = st.slider(TEXT["x"], x_min, x_max, step=0.05, key="plane_x", help=TEXT["theta_help"])
    y = st.slider(TEXT["y"], y_min, y_max, step=0.05, key="plane_y", help=TEXT["theta_help"])
    alpha = st.slider(TEXT["alpha"], 0.0, family.alpha_max, step=0.05, key="plane_alpha")
    steps = st.slider(TEXT["steps"], 1, 5, 1, key="plane_steps")
    st.markdown(TEXT["train"])
    top_left, top_right = st.columns(2)
    bottom_left, bottom_right = st.columns(2)
    pressed = None
    if top_left.button(TEXT["play"], icon=":material/play_arrow:", key="plane_play", use_container_width=True):
        pressed = "play"
    top_right.button(TEXT["pause"], icon=":material/pause:", key="plane_pause", use_container_width=True,
                     help=TEXT["pause_help"])  # fmt: skip
    if bottom_left.button(TEXT["one"], icon=":material/skip_next:", key="plane_one", use_container_width=True):
        pressed = "one"
    if bottom_right.button(TEXT["reset"], icon=":material/replay:", key="plane_reset", use_container_width=True):
        pressed = "reset"
    with st.expander(TEXT["more"]):
        beta = st.slider(TEXT["beta"], 0.1, 5.0, step=0.1, key="plane_beta")
        outer = st.slider(TEXT["outer"], 5, 200, 40, step=5, key="plane_outer")
        first_order = st.toggle(TEXT["first_order"], key="plane_first_order")
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
    metric_slot.metric(TEXT["outer_metric"], TEXT["outer_value"].format(k=k, n=settings.outer_steps))
    targets = quadratic_fixed_points(family, settings.alpha, settings.steps) if family.kind == "quadratic" else None
    maml_path, joint_path = torch.stack(run["maml"]), torch.stack(run["joint"])
    still = suffix == "still"
    figure = plane_figure(family, shot, LABELS, maml_path, joint_path, targets, ARROW_STRETCH * settings.beta,
                          clickable=still)  # fmt: skip
    chart_key = f"plane_chart_{st.session_state.get(CLICKS_KEY, 0)}"
    if still:
        show_chart(figure, chart_slot, key=chart_key, on_select=lambda: _move_theta(chart_key), selection_mode="points")
    else:
        show_chart(figure, chart_slot, key=f"plane_chart_{suffix}")
    with words_slot.container():
        if run["diverged_at"] is not None:
            st.warning(TEXT["diverged"].format(k=run["diverged_at"]))
        st.markdown(_words(settings, shot, targets))
    if k:
        maml = trajectory(family, maml_path, settings.method, settings.alpha, settings.steps)
        joint = trajectory(family, joint_path, "joint", settings.alpha, settings.steps)
        names = {"MAML": (maml, "#9467bd"), "joint training": (joint, "#8c564b")}
        show_chart(
            training_losses({name: (t.loss_before, t.loss_after, colour) for name, (t, colour) in names.items()},
                            TEXT["loss_title"], TEXT["step_axis"], TEXT["loss_axis"], TEXT["before"], TEXT["after"]),
            key=f"plane_losses_{suffix}", container=losses_slot,
        )  # fmt: skip
    else:
        losses_slot.empty()


def _words(settings: PlaneSettings, shot, targets) -> str:
    second, first = shot.gradients.second_order, shot.gradients.first_order
    norms = float(second.norm()), float(first.norm())
    cosine = float(second @ first) / (norms[0] * norms[1]) if min(norms) > 1e-12 else 1.0
    angle = math.degrees(math.acos(max(-1.0, min(1.0, cosine))))
    ratio = norms[0] / norms[1] if norms[1] > 1e-12 else 1.0
    marks = {"star": " (★)", "diamond": " (◆)"} if targets is not None else {"star": "", "diamond": ""}
    comparison = (TEXT["compare"].format(angle=angle, ratio=ratio) if max(norms) * settings.beta > 1e-3
                  else TEXT["at_rest"])  # fmt: skip
    text = TEXT["see"].format(steps=settings.steps, alpha=settings.alpha, comparison=comparison,
                              stretch=ARROW_STRETCH, **marks)  # fmt: skip
    family_text = TEXT[settings.family_name]
    if settings.family_name == "bowls" and targets is not None:
        values = {}
        for name, point in zip(("maml", "joint"), targets):
            values[f"{name}_after"] = float(maml_loss(settings.family, point, settings.alpha, settings.steps))
            values[f"{name}_before"] = float(task_losses(settings.family, point).mean())
        steepest = float(torch.linalg.eigvalsh(settings.family.tensors()[1]).max())
        family_text = family_text.format(steep=settings.alpha * steepest, **values)
    elif settings.family_name == "equal_bowls":
        family_text = family_text.format(steps=settings.steps, factor=(1 - settings.alpha) ** settings.steps)
    zero = TEXT["zero_alpha"] if settings.alpha == 0 else ""
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
    with st.expander(TEXT["code"], icon=":material/code:"):
        st.markdown(TEXT["code_intro"])
        for function in functions:
            st.caption(f"`{qualified_name(function)}`")
            st.code(function_source(function), language="python")
        st.markdown(TEXT["code_snippet"])
        st.code(snippet, language="python")
