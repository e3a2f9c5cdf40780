"""Plotly figures for MAML in the plane (``core.toys.maml_plane``): data in, ``go.Figure`` out; no Streamlit.

Every word drawn comes from the caller (``PlaneLabels``), so a page can show it in any language.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch

from core.figures.common import class_colour
from core.toys.maml_plane import PlaneSnapshot, TaskFamily, loss_grid

SECOND_ORDER_COLOUR, FIRST_ORDER_COLOUR = "#111111", "#e377c2"
MAML_COLOUR, JOINT_COLOUR = "#9467bd", "#8c564b"
GRID = 61  # contour resolution per axis
CLICK_SPACING = 0.25  # between the invisible markers that make a click anywhere on the plane selectable
FONT = {"size": 15}
TITLE_FONT = {"size": 18}


@dataclass(frozen=True)
class PlaneLabels:
    """The words of ``plane_figure``. ``task`` and ``adapted`` are formats with ``{i}`` (task number, from 1);
    ``minimum`` and ``loss`` are words of the hover texts."""

    title: str
    task: str
    theta: str
    adapted: str
    second_order: str
    first_order: str
    maml_path: str
    joint_path: str
    maml_point: str
    joint_point: str
    click_hint: str
    minimum: str = "minimum"
    loss: str = "loss"


def plane_figure(
    family: TaskFamily,
    shot: PlaneSnapshot,
    labels: PlaneLabels,
    maml_path: torch.Tensor | None = None,
    joint_path: torch.Tensor | None = None,
    targets: tuple[torch.Tensor, torch.Tensor] | None = None,
    arrow_scale: float = 1.0,
    clickable: bool = True,
    height: int = 600,
) -> go.Figure:
    """Every task's contours, θ, each task's inner steps θ → θ′ᵢ, the two meta-gradient arrows (as the step
    θ would take: ``arrow_scale``, the outer learning rate β, times minus the gradient), and optionally MAML's
    and joint training's paths [S + 1, 2] and the points they go to (``targets``: MAML's, joint training's).
    ``clickable`` adds the invisible grid that lets a click on the plane select a position."""
    traces: list[dict] = _contours(family, labels) + ([_click_grid(family, labels)] if clickable else [])
    annotations: list[dict] = []
    for path, name, colour, dash in ((maml_path, labels.maml_path, MAML_COLOUR, "solid"),
                                     (joint_path, labels.joint_path, JOINT_COLOUR, "dash")):  # fmt: skip
        if path is not None and len(path) > 1:
            points = path.numpy()
            traces.append({"type": "scatter", "x": points[:, 0], "y": points[:, 1], "mode": "lines+markers",
                           "name": name, "line": {"color": colour, "width": 3, "dash": dash}, "marker": {"size": 5},
                           "hovertemplate": f"{name}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>"})  # fmt: skip
    if targets is not None:
        for point, name, colour, symbol in ((targets[0], labels.maml_point, MAML_COLOUR, "star"),
                                            (targets[1], labels.joint_point, JOINT_COLOUR, "diamond")):  # fmt: skip
            traces.append({"type": "scatter", "x": [float(point[0])], "y": [float(point[1])], "mode": "markers",
                           "name": name, "marker": {"symbol": symbol, "size": 20, "color": colour,
                                                    "line": {"width": 1.5, "color": "white"}},
                           "hovertemplate": f"{name}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>"})  # fmt: skip
    _inner_steps(traces, annotations, shot, labels)
    _meta_gradients(traces, annotations, shot, labels, arrow_scale)
    x_min, x_max, y_min, y_max = family.extent
    layout = {
        "title": {"text": labels.title, "font": TITLE_FONT}, "font": FONT, "height": height,
        "clickmode": "event+select", "annotations": annotations, "plot_bgcolor": "white", "hovermode": "closest",
        "xaxis": {"range": [x_min, x_max], "constrain": "domain", "title": {"text": "θ₁"}, "zeroline": False},
        "yaxis": {"range": [y_min, y_max], "scaleanchor": "x", "constrain": "domain", "title": {"text": "θ₂"},
                  "zeroline": False},
        "legend": {"orientation": "h", "y": -0.12, "font": FONT}, "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
    }  # fmt: skip
    # Plotly's per-property validation took most of a redraw (~150 ms of ~200); the tests validate this figure.
    return go.Figure(data=traces, layout=layout, _validate=False)


def _contours(family: TaskFamily, labels: PlaneLabels) -> list[dict]:
    x_min, x_max, y_min, y_max = family.extent
    xs, ys = torch.linspace(x_min, x_max, GRID), torch.linspace(y_min, y_max, GRID)
    grids = loss_grid(family, xs, ys)
    # Bowls: contour sqrt(2L), so the ellipses are evenly spaced in distance; wells: the loss itself (0 to 1).
    values = grids.mul(2).sqrt() if family.kind == "quadratic" else grids
    levels = {"start": 1.0, "end": 5.0, "size": 1.0} if family.kind == "quadratic" else {
        "start": 0.1, "end": 0.9, "size": 0.2}  # fmt: skip
    minima, _ = family.tensors()
    traces = []
    for index, (grid, minimum) in enumerate(zip(values, minima)):
        colour, name = class_colour(index), labels.task.format(i=index + 1)
        traces.append({"type": "contour", "x": xs.numpy(), "y": ys.numpy(), "z": grid.numpy(),
                       "contours": {**levels, "coloring": "none"}, "line": {"color": colour, "width": 1.5},
                       "showscale": False, "hoverinfo": "skip", "name": name, "showlegend": False})  # fmt: skip
        traces.append({"type": "scatter", "x": [float(minimum[0])], "y": [float(minimum[1])], "mode": "markers+text",
                       "text": [str(index + 1)], "textposition": "top right", "textfont": {"size": 16, "color": colour},
                       "name": name, "showlegend": False,
                       "marker": {"symbol": "x-thin", "size": 14, "line": {"width": 3, "color": colour}},
                       "hovertemplate": f"{name}: {labels.minimum}<br>(%{{x:.2f}}, %{{y:.2f}})"
                                        "<extra></extra>"})  # fmt: skip
    return traces


def _click_grid(family: TaskFamily, labels: PlaneLabels) -> dict:
    """Plotly selects points, not empty space: a grid of invisible markers turns a click into a position."""
    x_min, x_max, y_min, y_max = family.extent
    xs, ys = np.meshgrid(np.arange(x_min, x_max + 1e-9, CLICK_SPACING), np.arange(y_min, y_max + 1e-9, CLICK_SPACING))
    return {"type": "scatter", "x": xs.ravel().round(3), "y": ys.ravel().round(3), "mode": "markers",
            "name": "click", "showlegend": False, "marker": {"size": 14, "opacity": 0},
            "selected": {"marker": {"opacity": 0}}, "unselected": {"marker": {"opacity": 0}},
            "hovertemplate": f"{labels.click_hint}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>"}  # fmt: skip


def _arrow(start: Sequence[float], end: Sequence[float], colour: str, width: float) -> dict:
    return {"x": float(end[0]), "y": float(end[1]), "ax": float(start[0]), "ay": float(start[1]), "xref": "x",
            "yref": "y", "axref": "x", "ayref": "y", "showarrow": True, "arrowhead": 2, "arrowsize": 1.2,
            "arrowwidth": width, "arrowcolor": colour, "text": ""}  # fmt: skip


def _inner_steps(traces: list[dict], annotations: list[dict], shot: PlaneSnapshot, labels: PlaneLabels) -> None:
    paths = shot.paths.numpy()
    for index, path in enumerate(paths):
        colour, name = class_colour(index), labels.adapted.format(i=index + 1)
        traces.append({"type": "scatter", "x": path[1:, 0], "y": path[1:, 1], "mode": "markers", "name": name,
                       "showlegend": False, "marker": {"size": 10, "color": colour,
                                                       "line": {"width": 1.5, "color": "white"}},
                       "hovertemplate": f"{name}<br>(%{{x:.2f}}, %{{y:.2f}})<br>"
                                        f"{labels.loss} {float(shot.loss_after[index]):.3f}"
                                        "<extra></extra>"})  # fmt: skip
        annotations.extend(_arrow(start, end, colour, 2.0) for start, end in itertools.pairwise(path))
    theta = shot.theta.numpy()
    traces.append({"type": "scatter", "x": [float(theta[0])], "y": [float(theta[1])], "mode": "markers",
                   "name": labels.theta,
                   "marker": {"size": 16, "color": "black", "line": {"width": 2, "color": "white"}},
                   "hovertemplate": f"{labels.theta}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>"})  # fmt: skip


def _meta_gradients(traces: list[dict], annotations: list[dict], shot: PlaneSnapshot, labels: PlaneLabels,
                    scale: float) -> None:  # fmt: skip
    """Both arrows point where the outer step goes (minus the gradient), on one scale; an arrow too short to
    see keeps its legend entry but loses its head."""
    second, first = shot.gradients.second_order.numpy(), shot.gradients.first_order.numpy()
    theta = shot.theta.numpy()
    for gradient, name, colour, width in ((first, labels.first_order, FIRST_ORDER_COLOUR, 7),
                                          (second, labels.second_order, SECOND_ORDER_COLOUR, 3.5)):  # fmt: skip
        end = theta - scale * gradient
        traces.append({"type": "scatter", "x": [float(theta[0]), float(end[0])],
                       "y": [float(theta[1]), float(end[1])], "mode": "lines", "name": name,
                       "line": {"color": colour, "width": width}, "hoverinfo": "skip"})  # fmt: skip
        if np.linalg.norm(end - theta) > 0.05:
            annotations.append(_arrow(theta, end, colour, width / 2.5))


def training_losses(
    curves: dict[str, tuple[torch.Tensor, torch.Tensor, str]],
    title: str,
    step_axis: str,
    loss_axis: str,
    before: str,
    after: str,
    height: int = 360,
) -> go.Figure:
    """Per method ``name -> (loss before adapting [S + 1], loss after the inner steps [S + 1], colour)``: solid
    after, dotted before, on a log scale; ``before`` and ``after`` are formats with ``{name}``."""
    traces = []
    for name, (loss_before, loss_after, colour) in curves.items():
        steps = np.arange(len(loss_after))
        for values, label, dash in ((loss_after, after, "solid"), (loss_before, before, "dot")):
            traces.append({"type": "scatter", "x": steps, "y": values.numpy(), "mode": "lines",
                           "name": label.format(name=name),
                           "line": {"color": colour, "dash": dash, "width": 3}})  # fmt: skip
    layout = {
        "title": {"text": title, "font": TITLE_FONT}, "font": FONT, "height": height,
        "xaxis": {"title": {"text": step_axis}}, "yaxis": {"title": {"text": loss_axis}, "type": "log"},
        "legend": {"orientation": "h", "y": -0.25}, "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
    }  # fmt: skip
    return go.Figure(data=traces, layout=layout, _validate=False)  # redrawn every frame of Play: see plane_figure
