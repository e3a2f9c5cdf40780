"""Plotly figure builders: data in, ``go.Figure`` out; no Streamlit, no model code."""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.colors import qualitative

from core.figures.projection import decision_grid

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]  # fmt: skip


def class_colour(label: int) -> str:
    return PALETTE[label % len(PALETTE)]


def class_colours(n_way: int) -> list[str]:
    """One colour per class: the palette up to 10 classes, 26 distinct ones beyond (no repeats at 20-way)."""
    palette = PALETTE if n_way <= len(PALETTE) else qualitative.Alphabet
    return [palette[k % len(palette)] for k in range(n_way)]


def data_url(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


EMBEDDING_MAP_WORDS = {
    "support": "support", "query": "query", "prototype": "prototype", "regions": "decision regions",
    "title": "Embeddings in 2-D by {method}: ★ prototypes, ● support, ◇ queries, ✕ misclassified ({n_wrong})",
    "hover": "{role} of class {k}<br>{name}",
    "hover_query": "{role} of class {k}<br>{name}<br>predicted class {predicted}",
}  # fmt: skip


def embedding_map(
    coords: np.ndarray,
    role: list[str],
    labels: np.ndarray,
    predicted: np.ndarray,
    class_names: list[str],
    method: str,
    thumbnails: list[np.ndarray] | None = None,
    regions: bool = False,
    words: dict[str, str] | None = None,
) -> go.Figure:
    """Support images, queries and prototypes in 2-D.

    Args:
        coords: [N, 2] projected points.
        role: "support", "query" or "prototype" per point.
        labels: true class per point (the class itself for prototypes).
        predicted: predicted class per point (only read for queries).
        class_names: name per class.
        method: how the 2-D map was made, shown in the title.
        thumbnails: optional image per point, drawn behind the markers.
        regions: shade the plane by its nearest projected prototype (honest on a PCA map only).
        words: replaces any of ``EMBEDDING_MAP_WORDS`` (role names, title, hover text), e.g. in another language.
    """
    words = EMBEDDING_MAP_WORDS | (words or {})
    figure = go.Figure()
    role = np.asarray(role)
    if regions:
        _add_regions(figure, coords, coords[role == "prototype"], labels[role == "prototype"], words["regions"])
    colours = class_colours(len(class_names))
    for label, name in enumerate(class_names):
        colour = colours[label]
        for kind, symbol, size in (("support", "circle", 9), ("prototype", "star", 20)):
            mask = (role == kind) & (labels == label)
            if mask.any():
                figure.add_trace(go.Scatter(
                    x=coords[mask, 0], y=coords[mask, 1], mode="markers", name=f"{words[kind]} · {name}",
                    legendgroup=str(label), marker={"symbol": symbol, "size": size, "color": colour,
                                                    "line": {"width": 1, "color": "black"}},
                    hovertemplate=words["hover"].format(role=words[kind], k=label, name=name) + "<extra></extra>",
                ))  # fmt: skip
        mask = (role == "query") & (labels == label)
        if mask.any():
            wrong = predicted[mask] != label
            figure.add_trace(go.Scatter(
                x=coords[mask, 0], y=coords[mask, 1], mode="markers", name=f"{words['query']} · {name}",
                legendgroup=str(label), customdata=predicted[mask],
                marker={"symbol": np.where(wrong, "x", "diamond-open").tolist(),
                        "size": np.where(wrong, 13, 9).tolist(), "color": colour,
                        "line": {"width": 2, "color": colour}},
                hovertemplate=words["hover_query"].format(role=words["query"], k=label, name=name,
                                                          predicted="%{customdata}") + "<extra></extra>",
            ))  # fmt: skip
    if thumbnails is not None:
        _add_thumbnails(figure, coords, thumbnails)
    n_wrong = int(((role == "query") & (predicted != labels)).sum())
    figure.update_layout(
        title=words["title"].format(method=method, n_wrong=n_wrong),
        xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"}, height=560,
        legend={"groupclick": "togglegroup"}, margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )  # fmt: skip
    return figure


def _add_regions(
    figure: go.Figure, coords: np.ndarray, prototype_coords: np.ndarray, classes: np.ndarray, name: str
) -> None:
    """A faint heat map under the points: each cell coloured by its nearest projected prototype."""
    xs, ys, nearest = decision_grid(coords, prototype_coords)
    n = int(classes.max()) + 1
    colours = class_colours(n)
    steps = [(edge, colours[k]) for k in range(n) for edge in (k / n, (k + 1) / n)]
    figure.add_trace(go.Heatmap(
        x=xs, y=ys, z=np.asarray(classes)[nearest], colorscale=steps, zmin=-0.5, zmax=n - 0.5, opacity=0.2,
        showscale=False, hoverinfo="skip", name=name,
    ))  # fmt: skip


def _add_thumbnails(figure: go.Figure, coords: np.ndarray, thumbnails: list[np.ndarray]) -> None:
    span = float(np.ptp(coords, axis=0).max()) or 1.0
    size = span / 20
    for (x, y), image in zip(coords, thumbnails):
        figure.add_layout_image(
            source=data_url(image), x=x, y=y, sizex=size, sizey=size, xref="x", yref="y",
            xanchor="center", yanchor="middle", layer="below", opacity=0.7,
        )  # fmt: skip


def matrix_heatmap(
    values: np.ndarray,
    row_labels: list[str],
    column_labels: list[str],
    title: str,
    colorbar: str,
    colourscale: str = "Viridis",
    reverse: bool = False,
    text_format: str = ".2f",
) -> go.Figure:
    """A labelled heat map of a [rows, columns] matrix, each cell annotated with its value."""
    show_text = values.size <= 400
    figure = go.Figure(go.Heatmap(
        z=values, x=column_labels, y=row_labels, colorscale=colourscale, reversescale=reverse,
        colorbar={"title": colorbar}, texttemplate=f"%{{z:{text_format}}}" if show_text else None,
        hovertemplate="%{y} → %{x}: %{z:" + text_format + "}<extra></extra>",
    ))  # fmt: skip
    figure.update_layout(
        title=title, yaxis={"autorange": "reversed", "type": "category"}, xaxis={"type": "category"},
        height=max(300, 24 * len(row_labels) + 120), margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )  # fmt: skip
    return figure


def probability_bars(
    probabilities: np.ndarray, class_names: list[str], true_label: int, title: str, value_label: str = "probability"
) -> go.Figure:
    """One query's class probabilities, the true class outlined."""
    colours = class_colours(len(probabilities))
    widths = [3 if i == true_label else 0 for i in range(len(probabilities))]
    figure = go.Figure(go.Bar(
        x=[f"{i}: {name}" for i, name in enumerate(class_names)], y=probabilities,
        marker={"color": colours, "line": {"width": widths, "color": "black"}},
        hovertemplate="%{x}: %{y:.3f}<extra></extra>",
    ))  # fmt: skip
    figure.update_layout(title=title, yaxis={"range": [0, 1], "title": value_label}, height=320,
                         margin={"l": 10, "r": 10, "t": 50, "b": 10})  # fmt: skip
    return figure


TRAINING_CURVE_LABELS = {
    "loss": "training loss", "accuracy": "training accuracy", "validation": "validation accuracy",
    "x": "episode", "y": "loss", "y2": "accuracy",
}  # fmt: skip


def training_curves(records: list[dict], labels: dict[str, str] | None = None) -> go.Figure:
    """Loss and accuracy per step, with validation accuracy where measured.

    ``labels`` replaces any of ``TRAINING_CURVE_LABELS`` (trace names and axis titles), e.g. in another language.
    """
    words = TRAINING_CURVE_LABELS | (labels or {})
    steps = [r["step"] for r in records]
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=steps, y=[r["loss"] for r in records], name=words["loss"], yaxis="y"))
    figure.add_trace(go.Scatter(x=steps, y=[r["accuracy"] for r in records], name=words["accuracy"],
                                yaxis="y2", line={"dash": "dot"}))  # fmt: skip
    validated = [r for r in records if r.get("val_accuracy") is not None]
    if validated:
        figure.add_trace(go.Scatter(
            x=[r["step"] for r in validated], y=[r["val_accuracy"] for r in validated], name=words["validation"],
            yaxis="y2", mode="lines+markers",
            error_y={"type": "data", "array": [r["val_ci95"] for r in validated], "visible": True},
        ))  # fmt: skip
    figure.update_layout(
        xaxis={"title": words["x"]}, yaxis={"title": words["y"]},
        yaxis2={"title": words["y2"], "overlaying": "y", "side": "right", "range": [0, 1],
                "tickvals": [0, 0.25, 0.5, 0.75, 1], "tickformat": ".0%"},
        height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": -0.25},
    )  # fmt: skip
    return figure
