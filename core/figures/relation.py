"""Plotly figures of Relation Networks: the score heat map with the images on its axes, one query's scores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from core.figures.common import class_colour, data_url

if TYPE_CHECKING:
    from core.algorithms.relationnet import RelationShapes

MAX_THUMBNAIL_ROWS = 60  # beyond this the images would be too small to read
MIN_TEXT_ROW_PX = 20  # rows lower than this get no number written in their cells
TICK_ROW_PX = 20  # rows lower than this label only every few rows, so the labels never overlap
HEATMAP_MARGIN = {"l": 10, "r": 10, "t": 56, "b": 10}
AXIS_ALLOWANCE_PX = 40  # the class labels under the x axis


def natural_heatmap_height(n_query: int) -> int:
    """The heat map's height with 34 px a row, its images and labels included."""
    return max(360, 34 * (n_query + 2) + 80)


def relation_heatmap(
    scores: np.ndarray,
    query_y: np.ndarray,
    query_images: list[np.ndarray],
    class_images: list[np.ndarray],
    *,
    title: str | None = None,
    colorbar_title: str = "relation score",
    height: int | None = None,
    show_images: bool = True,
    class_labels: list[str] | None = None,
    hover: str = "query %{y} vs class %{x}: %{z:.3f}",
) -> go.Figure:
    """Scores [Q, n_way] in [0, 1]: one row per query (its image at the left), one column per class
    (its support images on top); each row's highest score is boxed, green when it is the true class.

    ``height`` (px, default ``natural_heatmap_height``) fits the figure to a screen: rows then shrink, and
    below ``TICK_ROW_PX`` a row only every few rows is labelled, below ``MIN_TEXT_ROW_PX`` the cells lose
    their numbers. ``show_images`` False (or more than ``MAX_THUMBNAIL_ROWS`` rows) leaves the images out.
    ``class_labels`` name the columns ("class k" by default); ``hover`` is the cells' plotly hover template.
    """
    n_query, n_way = scores.shape
    show_images = show_images and n_query <= MAX_THUMBNAIL_ROWS and bool(query_images or class_images)
    height = height or natural_heatmap_height(n_query)
    image_rows = 1.1 if show_images else 0
    row_px = (height - HEATMAP_MARGIN["t"] - HEATMAP_MARGIN["b"] - AXIS_ALLOWANCE_PX) / (n_query + image_rows)
    write_numbers = scores.size <= 400 and row_px >= MIN_TEXT_ROW_PX
    figure = go.Figure(go.Heatmap(
        z=scores.tolist(), x=list(range(n_way)), y=list(range(n_query)), zmin=0, zmax=1, colorscale="Viridis",
        colorbar={"title": colorbar_title}, texttemplate="%{z:.2f}" if write_numbers else None,
        hovertemplate=f"{hover}<extra></extra>",
    ))  # fmt: skip
    best = scores.argmax(1)
    # One layout update for all boxes and images: plotly's add_shape and add_layout_image copy the whole
    # list at each call (60 rows took 100 ms that way).
    boxes = [{"type": "rect", "x0": column - 0.5, "x1": column + 0.5, "y0": row - 0.5, "y1": row + 0.5,
              "line": {"color": "#2ca02c" if column == query_y[row] else "#d62728", "width": 3 if row_px >= 8 else 2}}
             for row, column in enumerate(best)]  # fmt: skip
    figure.update_layout(shapes=boxes, images=_axis_images(query_images, class_images) if show_images else [])
    wrong = int((best != query_y).sum())
    every = max(1, int(np.ceil(TICK_ROW_PX / max(row_px, 1))))
    rows = list(range(0, n_query, every))
    figure.update_layout(
        title=title if title is not None else "Relation score of every query (rows) with every class (columns) · "
        f"boxed: the prediction, red when wrong ({wrong} of {n_query})",
        xaxis={"range": [-1.6 if show_images else -0.5, n_way - 0.5], "tickvals": list(range(n_way)),
               "ticktext": class_labels or [f"class {k}" for k in range(n_way)], "side": "bottom"},
        yaxis={"range": [n_query - 0.5, -1.6 if show_images else -0.5], "tickvals": rows,
               "ticktext": [f"q{i} ({int(query_y[i])})" for i in rows]},
        height=height, margin=HEATMAP_MARGIN,
    )  # fmt: skip
    return figure


def _axis_images(query_images: list[np.ndarray], class_images: list[np.ndarray]) -> list[dict]:
    rows = [{"source": data_url(image), "x": -0.55, "y": row, "sizex": 0.9, "sizey": 0.9, "xref": "x", "yref": "y",
             "xanchor": "right", "yanchor": "middle"} for row, image in enumerate(query_images)]  # fmt: skip
    columns = [{"source": data_url(image), "x": column, "y": -0.55, "sizex": min(0.95, 0.9 * image.shape[1] /
                image.shape[0]), "sizey": 0.9, "xref": "x", "yref": "y", "xanchor": "center", "yanchor": "bottom"}
               for column, image in enumerate(class_images)]  # fmt: skip
    return rows + columns


def score_bars(values: np.ndarray, true_label: int, title: str, y_title: str, y_range=None, *,
               class_labels: list[str] | None = None) -> go.Figure:  # fmt: skip
    """One query's value for each class (relation scores, or distances), the true class outlined; the bars are
    named by ``class_labels`` ("class k" by default)."""
    figure = go.Figure(go.Bar(
        x=class_labels or [f"class {k}" for k in range(len(values))], y=values,
        marker={"color": [class_colour(k) for k in range(len(values))],
                "line": {"width": [3 if k == true_label else 0 for k in range(len(values))], "color": "black"}},
        hovertemplate="%{x}: %{y:.3f}<extra></extra>",
    ))  # fmt: skip
    figure.update_layout(title=title, yaxis={"title": y_title, "range": y_range}, height=320,
                         margin={"l": 10, "r": 10, "t": 50, "b": 10})  # fmt: skip
    return figure


@dataclass(frozen=True)
class ArchitectureText:
    """The words in the boxes of ``architecture_dot``, from the caller (the page's language); a line break is
    a newline, and ``concatenate`` may name ``{n_query}`` and ``{n_way}``."""

    support: str = "support images"
    query: str = "query images"
    embedding: str = "embedding f_φ: 4 conv blocks\n(max-pool after 2)"
    sum: str = "sum over\neach class's shots"
    concatenate: str = "concatenate class ⊕ query\n({n_query}×{n_way} pairs)"
    relation: str = "relation g_φ: 2 conv blocks\n→ 8 → 1, sigmoid"
    score: str = "score r ∈ [0, 1]"


def _dot_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def architecture_dot(shapes: RelationShapes, n_query: int, n_way: int, font_pt: int = 10,
                     text: ArchitectureText | None = None) -> str:  # fmt: skip
    """The network as a Graphviz graph, top to bottom, each arrow labelled with the tensor shape it carries.

    ``font_pt`` sizes the boxes around the labels; it should match the size the text is drawn at (Streamlit
    draws all Graphviz text at 9.6 of the drawing's units), and the drawing is then scaled as a whole."""
    words = text or ArchitectureText()
    label = {name: _dot_label(getattr(words, name)) for name in ArchitectureText.__dataclass_fields__}
    label["concatenate"] = label["concatenate"].format(n_query=n_query, n_way=n_way)

    def size(shape: tuple[int, ...]) -> str:
        return "×".join(str(v) for v in shape)

    return f"""digraph relation {{
  rankdir=TB; nodesep=0.25; ranksep=0.3;
  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="sans-serif", fontsize={font_pt}];
  edge [fontname="sans-serif", fontsize={font_pt}];
  support [label="{label["support"]}", fillcolor="#ffffff"]; query [label="{label["query"]}", fillcolor="#ffffff"];
  {{rank=same; support; query}}
  embed [label="{label["embedding"]}"];
  sum [label="{label["sum"]}"]; concat [label="{label["concatenate"]}"];
  relate [label="{label["relation"]}"];
  score [label="{label["score"]}", fillcolor="#ffffff"];
  support -> embed [label="{size(shapes.image)}"]; query -> embed [label="{size(shapes.image)}"];
  embed -> sum [label="{size(shapes.embedding)}"]; sum -> concat [label="{size(shapes.class_feature)}"];
  embed -> concat [label="{size(shapes.embedding)}"]; concat -> relate [label="{size(shapes.pair)}"];
  relate -> score [label="{size(shapes.after_relation_convs)} → 1"];
}}"""
