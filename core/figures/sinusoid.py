"""Plotly figures for the sinusoid experiment: data in, ``go.Figure`` out; no Streamlit."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go
import torch

from core.sinusoid import FineTuneCurve, SineProgress

STEP_COLOURS = ["#2ca02c", "#1f77b4", "#9467bd", "#ff7f0e", "#d62728", "#8c564b", "#e377c2", "#17becf"]


def _steps_label(steps: int) -> str:
    return "before adapting" if steps == 0 else f"after {steps} step{'s' if steps > 1 else ''}"


def _fit_label(steps: int, mse: float) -> str:
    return f"{_steps_label(steps)} (MSE {mse:.3f})"


def _running_mean(values: Sequence[float], window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each step (fewer at the start)."""
    totals = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (totals[ends] - totals[starts]) / (ends - starts)


def sine_training_curves(
    maml: Sequence[SineProgress],
    joint: Sequence[SineProgress],
    inner_steps: int = 1,
    window: int = 50,
    *,
    names: tuple[str, str] = ("MAML", "joint training"),
    steps_label: Callable[[int], str] = _steps_label,
    title: str | None = None,
    x_title: str = "training step",
) -> go.Figure:
    """Query MSE of each training step's tasks, before and after the inner step(s), smoothed over ``window`` steps.
    ``steps_label(n)`` names a curve after n inner steps (0: before adapting); the words default to English."""
    figure = go.Figure()
    for records, name, colour in ((maml, names[0], "#1f77b4"), (joint, names[1], "#ff7f0e")):
        if not records:
            continue
        steps = [r.step for r in records]
        for field, label, dash in (("loss_after", steps_label(inner_steps), "solid"),
                                   ("loss_before", steps_label(0), "dot")):  # fmt: skip
            values = _running_mean([getattr(r, field) for r in records], window)
            figure.add_trace(go.Scatter(x=steps, y=values, mode="lines", name=f"{name}, {label}",
                                        line={"color": colour, "dash": dash}))  # fmt: skip
    figure.update_layout(
        title=f"Query MSE during training (mean of the last {window} steps)" if title is None else title,
        xaxis_title=x_title, yaxis_title="MSE", yaxis_type="log", height=380,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )  # fmt: skip
    return figure


def fine_tune_figure(
    curve: FineTuneCurve,
    support_x: torch.Tensor,
    support_y: torch.Tensor,
    title: str,
    *,
    truth_label: str = "true wave",
    points_label: str | None = None,
    fit_label: Callable[[int, float], str] = _fit_label,
) -> go.Figure:
    """The true wave, the K points, and the prediction after each number of fine-tuning steps, each named by
    ``fit_label(steps, mse)``; the words default to English."""
    grid = curve.grid.numpy()
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=grid, y=curve.truth.numpy(), mode="lines", name=truth_label,
                                line={"color": "black", "width": 3}))  # fmt: skip
    for index, (steps, prediction, mse) in enumerate(zip(curve.steps, curve.predictions, curve.mse)):
        figure.add_trace(go.Scatter(
            x=grid, y=prediction.numpy(), mode="lines", name=fit_label(steps, mse),
            line={"color": STEP_COLOURS[index % len(STEP_COLOURS)], "dash": "dot" if steps == 0 else "solid"},
        ))  # fmt: skip
    figure.add_trace(go.Scatter(x=support_x.squeeze(1).numpy(), y=support_y.squeeze(1).numpy(), mode="markers",
                                name=f"the {len(support_x)} points (K)" if points_label is None else points_label,
                                marker={"color": "#d62728", "size": 10, "symbol": "triangle-up"}))  # fmt: skip
    limit = max(2.0, 1.4 * float(curve.truth.abs().max()))
    figure.update_layout(
        title=title, xaxis_title="x", yaxis_title="y", yaxis_range=[-limit, limit], height=420,
        legend={"orientation": "h", "y": -0.2}, margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )  # fmt: skip
    return figure


def fit_at_step_figure(
    grid: np.ndarray,
    truth: np.ndarray,
    lines: Sequence[tuple[str, np.ndarray, str, str]],
    support_x: np.ndarray,
    support_y: np.ndarray,
    title: str,
    truth_label: str,
    points_label: str,
) -> go.Figure:
    """The true wave, the K points and predictions on ``grid`` ([G]), each line (name, [G] values, colour, dash).

    The y-axis is fixed by the wave alone, so moving between training steps does not rescale it.
    """
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=grid, y=truth, mode="lines", name=truth_label,
                                line={"color": "black", "width": 3}))  # fmt: skip
    for name, values, colour, dash in lines:
        figure.add_trace(go.Scatter(x=grid, y=values, mode="lines", name=name,
                                    line={"color": colour, "dash": dash, "width": 2.5}))  # fmt: skip
    figure.add_trace(go.Scatter(x=support_x, y=support_y, mode="markers", name=points_label,
                                marker={"color": "#d62728", "size": 11, "symbol": "triangle-up"}))  # fmt: skip
    limit = max(2.0, 1.4 * float(np.abs(truth).max()))
    figure.update_layout(
        title=title, xaxis_title="x", yaxis_title="y", yaxis_range=[-limit, limit], height=400,
        legend={"orientation": "h", "y": -0.18}, margin={"l": 10, "r": 10, "t": 50, "b": 10},
        font={"size": 15},
    )  # fmt: skip
    return figure


def value_by_step_figure(
    steps: Sequence[int],
    series: Sequence[tuple[str, Sequence[float], str]],
    selected: int,
    title: str,
    x_title: str,
    y_title: str,
) -> go.Figure:
    """One line per (name, value at each of ``steps``, colour), a log y-axis, and a marker line at ``selected``."""
    figure = go.Figure()
    for name, values, colour in series:
        figure.add_trace(go.Scatter(x=list(steps), y=list(values), mode="lines+markers", name=name,
                                    line={"color": colour, "width": 2.5}, marker={"size": 8}))  # fmt: skip
    figure.add_vline(x=selected, line={"color": "#444", "dash": "dash", "width": 2})
    figure.update_layout(
        title=title, xaxis_title=x_title, yaxis_title=y_title, yaxis_type="log", height=400,
        legend={"orientation": "h", "y": -0.25}, margin={"l": 10, "r": 10, "t": 50, "b": 10},
        font={"size": 15},
    )  # fmt: skip
    return figure
