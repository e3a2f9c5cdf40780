"""Plotly figures of MAML's inner loop: per-step curves, many episodes at once, per-layer updates."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.figures.common import PALETTE

LAYOUT = {"height": 340, "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "legend": {"orientation": "h", "y": -0.25}}


def inner_loop_curves(
    series: dict[str, list[float]], title: str, y_title: str, shown_steps: int | None = None, y_range=None
) -> go.Figure:
    """One line per named series over inner steps 0..K; steps after ``shown_steps`` are not drawn yet,
    but the axes already span all K steps, so stepping through does not rescale the plot."""
    figure = go.Figure()
    total = max(len(values) for values in series.values()) - 1
    for index, (name, values) in enumerate(series.items()):
        upto = len(values) if shown_steps is None else shown_steps + 1
        figure.add_trace(go.Scatter(
            x=list(range(upto)), y=values[:upto], name=name, mode="lines+markers",
            line={"color": PALETTE[index % len(PALETTE)], "dash": "dot" if "support" in name else "solid"},
        ))  # fmt: skip
    if y_range is None:
        everything = [v for values in series.values() for v in values]
        y_range = [0, 1.05 * max(everything)] if everything else None
    figure.update_layout(title=title, xaxis={"title": "inner step", "range": [-0.2, total + 0.2], "dtick": 1},
                         yaxis={"title": y_title, "range": y_range}, **LAYOUT)  # fmt: skip
    return figure


def many_episode_curves(curves: np.ndarray, title: str, y_title: str = "query loss") -> go.Figure:
    """Each row of ``curves`` [episodes, steps + 1] a thin grey line; the mean in bold with a band of ±1 std."""
    steps = np.arange(curves.shape[1])
    figure = go.Figure()
    for row in curves:
        figure.add_trace(go.Scatter(x=steps, y=row, mode="lines", line={"color": "rgba(120,120,120,0.35)", "width": 1},
                                    hoverinfo="skip", showlegend=False))  # fmt: skip
    mean, std = curves.mean(0), curves.std(0)
    band_x, band_y = np.concatenate([steps, steps[::-1]]), np.concatenate([mean + std, (mean - std)[::-1]])
    figure.add_trace(go.Scatter(x=band_x, y=band_y, fill="toself", fillcolor="rgba(31,119,180,0.2)", line={"width": 0},
                                name="mean ± 1 std", hoverinfo="skip"))  # fmt: skip
    figure.add_trace(go.Scatter(x=steps, y=mean, mode="lines+markers", name=f"mean of {len(curves)} episodes",
                                line={"color": PALETTE[0], "width": 3}))  # fmt: skip
    figure.update_layout(title=title, xaxis={"title": "inner step", "dtick": 1}, yaxis={"title": y_title}, **LAYOUT)
    return figure


def update_sizes(relative_norms: dict[str, float], title: str) -> go.Figure:
    """Each layer's change in one inner step relative to its size, ‖Δθ_layer‖ / ‖θ_layer‖.

    Relative sizes answer which layers adapt (Raghu et al., 2020); a layer that starts at zero
    (a fresh head) has no relative size (NaN) and is marked instead of drawn.
    """
    names = list(relative_norms)
    values = [relative_norms[n] for n in names]
    finite = [None if np.isnan(v) else v for v in values]
    figure = go.Figure(go.Bar(
        x=[_layer_label(n) for n in names], y=finite, marker={"color": PALETTE[2]},
        text=["starts at 0" if v is None else "" for v in finite], textposition="outside",
        hovertemplate="%{x}: %{y:.3%} of its size<extra></extra>",
    ))  # fmt: skip
    figure.update_layout(title=title, yaxis={"title": "‖Δθ_layer‖ / ‖θ_layer‖", "tickformat": ".1%"}, **LAYOUT)
    return figure


def _layer_label(name: str) -> str:
    """``features.blocks.2.1`` -> ``block 3 BatchNorm``; ``head`` -> ``head``."""
    parts = name.split(".")
    if parts[0] == "features" and len(parts) == 4:
        return f"block {int(parts[2]) + 1} {'conv' if parts[3] == '0' else 'BatchNorm'}"
    return name
