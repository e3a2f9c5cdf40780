"""Plotly figures of Relation Networks: the score heat map with the images on its axes, one query's scores."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from core.figures.common import class_colour, data_url

if TYPE_CHECKING:
    from core.algorithms.relationnet import RelationShapes

MAX_THUMBNAIL_ROWS = 60  # beyond this the images would be too small to read


def relation_heatmap(
    scores: np.ndarray, query_y: np.ndarray, query_images: list[np.ndarray], class_images: list[np.ndarray]
) -> go.Figure:
    """Scores [Q, n_way] in [0, 1]: one row per query (its image at the left), one column per class
    (its support images on top); each row's highest score is boxed, green when it is the true class."""
    n_query, n_way = scores.shape
    figure = go.Figure(go.Heatmap(
        z=scores.tolist(), x=list(range(n_way)), y=list(range(n_query)), zmin=0, zmax=1, colorscale="Viridis",
        colorbar={"title": "relation score"}, texttemplate="%{z:.2f}" if scores.size <= 400 else None,
        hovertemplate="query %{y} vs class %{x}: %{z:.3f}<extra></extra>",
    ))  # fmt: skip
    best = scores.argmax(1)
    for row, column in enumerate(best):
        colour = "#2ca02c" if column == query_y[row] else "#d62728"
        figure.add_shape(type="rect", x0=column - 0.5, x1=column + 0.5, y0=row - 0.5, y1=row + 0.5,
                         line={"color": colour, "width": 3})  # fmt: skip
    show_images = n_query <= MAX_THUMBNAIL_ROWS
    if show_images:
        for row, image in enumerate(query_images):
            figure.add_layout_image(source=data_url(image), x=-0.55, y=row, sizex=0.9, sizey=0.9, xref="x",
                                    yref="y", xanchor="right", yanchor="middle")  # fmt: skip
        for column, image in enumerate(class_images):
            width = image.shape[1] / image.shape[0]
            figure.add_layout_image(source=data_url(image), x=column, y=-0.55, sizex=min(0.95, 0.9 * width),
                                    sizey=0.9, xref="x", yref="y", xanchor="center", yanchor="bottom")  # fmt: skip
    wrong = int((best != query_y).sum())
    figure.update_layout(
        title=f"Relation score of every query (rows) with every class (columns) · boxed: the prediction, "
        f"red when wrong ({wrong} of {n_query})",
        xaxis={"range": [-1.6 if show_images else -0.5, n_way - 0.5], "tickvals": list(range(n_way)),
               "ticktext": [f"class {k}" for k in range(n_way)], "side": "bottom"},
        yaxis={"range": [n_query - 0.5, -1.6 if show_images else -0.5], "tickvals": list(range(n_query)),
               "ticktext": [f"q{i} ({int(y)})" for i, y in enumerate(query_y)]},
        height=max(360, 34 * (n_query + 2) + 80), margin={"l": 10, "r": 10, "t": 60, "b": 10},
    )  # fmt: skip
    return figure


def score_bars(values: np.ndarray, true_label: int, title: str, y_title: str, y_range=None) -> go.Figure:
    """One query's value for each class (relation scores, or distances), the true class outlined."""
    figure = go.Figure(go.Bar(
        x=[f"class {k}" for k in range(len(values))], y=values,
        marker={"color": [class_colour(k) for k in range(len(values))],
                "line": {"width": [3 if k == true_label else 0 for k in range(len(values))], "color": "black"}},
        hovertemplate="%{x}: %{y:.3f}<extra></extra>",
    ))  # fmt: skip
    figure.update_layout(title=title, yaxis={"title": y_title, "range": y_range}, height=320,
                         margin={"l": 10, "r": 10, "t": 50, "b": 10})  # fmt: skip
    return figure


def architecture_dot(shapes: RelationShapes, n_query: int, n_way: int) -> str:
    """The network as a Graphviz graph, each arrow labelled with the tensor shape it carries."""

    def size(shape: tuple[int, ...]) -> str:
        return "×".join(str(v) for v in shape)

    return f"""digraph relation {{
  rankdir=LR; node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="sans-serif", fontsize=11];
  edge [fontname="sans-serif", fontsize=10];
  support [label="support images", fillcolor="#ffffff"]; query [label="query images", fillcolor="#ffffff"];
  embed [label="embedding f_φ\\n4 conv blocks\\n(max-pool after 2)"];
  sum [label="sum over\\neach class's shots"]; concat [label="concatenate\\nclass ⊕ query\\n({n_query}×{n_way} pairs)"];
  relate [label="relation g_φ\\n2 conv blocks\\n→ 8 → 1, sigmoid"];
  score [label="score r ∈ [0, 1]", fillcolor="#ffffff"];
  support -> embed [label="{size(shapes.image)}"]; query -> embed [label="{size(shapes.image)}"];
  embed -> sum [label="{size(shapes.embedding)}"]; sum -> concat [label="{size(shapes.class_feature)}"];
  embed -> concat [label="{size(shapes.embedding)}"]; concat -> relate [label="{size(shapes.pair)}"];
  relate -> score [label="{size(shapes.after_relation_convs)} → 1"];
}}"""
