"""The relation probe's scatter: a learned relation score against a fixed distance, pair by pair."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

if TYPE_CHECKING:
    from core.algorithms.relation_probe import PairComparison

SAME_CLASS_COLOUR, OTHER_CLASS_COLOUR, PROBE_COLOUR = "#009E73", "#999999", "#D55E00"


@dataclass(frozen=True)
class ScatterText:
    """The words of the scatter, from the caller (the page's language)."""

    title: str
    x_title: str
    y_title: str
    same_class: str  # legend: pairs of one class
    other_class: str  # legend: pairs of two classes
    reverse: str  # legend: the line joining r(a, b) and r(b, a)
    forward_probe: str  # the probed r(a, b)
    backward_probe: str  # the probed r(b, a)


def relation_distance_scatter(
    comparison: PairComparison,
    image_names: list[str],
    text: ScatterText,
    probe: PairComparison | None = None,
    marked: tuple[int, str] | None = None,
    height: int = 440,
) -> go.Figure:
    """One dot per ordered pair (a, b): x its distance, y its relation score r(a, b), green when a and b share a
    class. A thin line joins each pair to its reverse (same distance, r(b, a)); ``probe`` (a comparison of the
    two pairs (a, b) and (b, a)) is drawn on top as two large markers joined by a line; ``marked`` (a pair's
    index and a note) circles one pair and points the note at it."""
    first, second = comparison.first.numpy(), comparison.second.numpy()
    relation, distance = comparison.relation.numpy(), comparison.distance.numpy()
    same = comparison.same_class.numpy()
    figure = go.Figure(_reverse_lines(distance, relation, text.reverse))
    hover = [f"{image_names[a]} → {image_names[b]}" for a, b in zip(first, second)]
    for mask, name, colour in ((~same, text.other_class, OTHER_CLASS_COLOUR), (same, text.same_class,
                                                                               SAME_CLASS_COLOUR)):  # fmt: skip
        figure.add_trace(go.Scatter(
            x=distance[mask], y=relation[mask], mode="markers", name=name, text=np.asarray(hover)[mask],
            marker={"color": colour, "size": 8, "opacity": 0.75, "line": {"width": 0.5, "color": "white"}},
            hovertemplate="%{text}<br>r = %{y:.3f}<br>d = %{x:.2f}<extra></extra>",
        ))  # fmt: skip
    if marked is not None:
        index, note = marked
        x, y = float(distance[index]), float(relation[index])
        figure.add_annotation(x=x, y=y, text=note, showarrow=True, arrowhead=2, ax=70, ay=-45 if y < 0.5 else 45)
        figure.add_shape(type="circle", xref="x", yref="y", xsizemode="pixel", ysizemode="pixel", xanchor=x,
                         yanchor=y, x0=-11, x1=11, y0=-11, y1=11, line={"color": "black", "width": 2})  # fmt: skip
    if probe is not None:
        _add_probe(figure, probe, text)
    figure.update_layout(
        title=text.title, xaxis={"title": text.x_title, "rangemode": "tozero"},
        yaxis={"title": text.y_title, "range": [-0.04, 1.04]}, height=height,
        legend={"orientation": "h", "y": -0.18, "x": 0}, hovermode="closest",
    )  # fmt: skip
    return figure


def _reverse_lines(distance: np.ndarray, relation: np.ndarray, name: str) -> go.Scatter:
    """Vertical segments from r(a, b) to r(b, a): the first half of the pairs against the second half."""
    half = len(relation) // 2
    xs = np.column_stack([distance[:half], distance[:half], np.full(half, np.nan)]).ravel()
    ys = np.column_stack([relation[:half], relation[half:], np.full(half, np.nan)]).ravel()
    return go.Scatter(x=xs, y=ys, mode="lines", name=name, hoverinfo="skip",
                      line={"color": "rgba(80, 80, 80, 0.35)", "width": 1})  # fmt: skip


def _add_probe(figure: go.Figure, probe: PairComparison, text: ScatterText) -> None:
    distance = float(probe.distance[0])
    forward, backward = (float(v) for v in probe.relation[:2])
    figure.add_trace(go.Scatter(
        x=[distance, distance], y=[forward, backward], mode="lines+markers+text", name=text.forward_probe,
        showlegend=False, text=[text.forward_probe, text.backward_probe], textposition="middle left",
        marker={"symbol": ["star", "diamond"], "size": 18, "color": PROBE_COLOUR, "line": {"width": 1.5,
                                                                                          "color": "black"}},
        line={"color": PROBE_COLOUR, "width": 3},
        hovertemplate="%{text} = %{y:.3f}<br>d = %{x:.2f}<extra></extra>",
    ))  # fmt: skip
