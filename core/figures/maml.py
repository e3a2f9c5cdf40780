"""Plotly figures of MAML's inner loop: per-step curves, many episodes at once, per-layer updates."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
import torch
from PIL import Image, ImageDraw, ImageFont

from core.figures.common import PALETTE
from core.figures.montage import to_display

LAYOUT = {"height": 340, "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "legend": {"orientation": "h", "y": -0.25}}


def _is_dotted(name: str, dotted: Collection[str] | None) -> bool:
    """Support-set losses are dotted: the series named in ``dotted``, or by default those named "support …"."""
    return name in dotted if dotted is not None else "support" in name


def inner_loop_curves(
    series: dict[str, list[float]],
    title: str,
    y_title: str,
    shown_steps: int | None = None,
    y_range=None,
    *,
    x_title: str = "inner step",
    dotted: Collection[str] | None = None,
) -> go.Figure:
    """One line per named series over inner steps 0..K; steps after ``shown_steps`` are not drawn yet,
    but the axes already span all K steps, so stepping through does not rescale the plot. The series named
    in ``dotted`` (default: those whose name contains "support") are drawn dotted."""
    figure = go.Figure()
    total = max(len(values) for values in series.values()) - 1
    for index, (name, values) in enumerate(series.items()):
        upto = len(values) if shown_steps is None else shown_steps + 1
        figure.add_trace(go.Scatter(
            x=list(range(upto)), y=values[:upto], name=name, mode="lines+markers",
            line={"color": PALETTE[index % len(PALETTE)], "dash": "dot" if _is_dotted(name, dotted) else "solid"},
        ))  # fmt: skip
    if y_range is None:
        everything = [v for values in series.values() for v in values]
        y_range = [0, 1.05 * max(everything)] if everything else None
    figure.update_layout(title=title, xaxis={"title": x_title, "range": [-0.2, total + 0.2], "dtick": 1},
                         yaxis={"title": y_title, "range": y_range}, **LAYOUT)  # fmt: skip
    return figure


def many_episode_curves(
    curves: np.ndarray,
    title: str,
    y_title: str = "query loss",
    *,
    x_title: str = "inner step",
    band_name: str = "mean ± 1 std",
    mean_name: str = "mean of {count} episodes",
) -> go.Figure:
    """Each row of ``curves`` [episodes, steps + 1] a thin grey line; the mean in bold with a band of ±1 std.
    ``mean_name`` is a format with ``{count}``, the number of episodes."""
    steps = np.arange(curves.shape[1])
    figure = go.Figure()
    for row in curves:
        figure.add_trace(go.Scatter(x=steps, y=row, mode="lines", line={"color": "rgba(120,120,120,0.35)", "width": 1},
                                    hoverinfo="skip", showlegend=False))  # fmt: skip
    mean, std = curves.mean(0), curves.std(0)
    band_x, band_y = np.concatenate([steps, steps[::-1]]), np.concatenate([mean + std, (mean - std)[::-1]])
    figure.add_trace(go.Scatter(x=band_x, y=band_y, fill="toself", fillcolor="rgba(31,119,180,0.2)", line={"width": 0},
                                name=band_name, hoverinfo="skip"))  # fmt: skip
    figure.add_trace(go.Scatter(x=steps, y=mean, mode="lines+markers", name=mean_name.format(count=len(curves)),
                                line={"color": PALETTE[0], "width": 3}))  # fmt: skip
    figure.update_layout(title=title, xaxis={"title": x_title, "dtick": 1}, yaxis={"title": y_title}, **LAYOUT)
    return figure


def update_sizes(
    relative_norms: dict[str, float],
    title: str,
    *,
    zero_text: str = "starts at 0",
    hover: str = "{value} of its size",
    block_conv: str = "block {n} conv",
    block_norm: str = "block {n} BatchNorm",
) -> go.Figure:
    """Each layer's change in one inner step relative to its size, ‖Δθ_layer‖ / ‖θ_layer‖.

    Relative sizes answer which layers adapt (Raghu et al., 2020); a layer that starts at zero
    (a fresh head) has no relative size (NaN) and is marked with ``zero_text`` instead of drawn.
    ``hover`` is a format with ``{value}`` (the relative size); ``block_conv`` and ``block_norm`` name a
    Conv-4 block's layers, formats with ``{n}`` (the block, from 1).
    """
    names = list(relative_norms)
    values = [relative_norms[n] for n in names]
    finite = [None if np.isnan(v) else v for v in values]
    hover_text = hover.format(value="%{y:.3%}")
    figure = go.Figure(go.Bar(
        x=[_layer_label(n, block_conv, block_norm) for n in names], y=finite, marker={"color": PALETTE[2]},
        text=[zero_text if v is None else "" for v in finite], textposition="outside",
        hovertemplate=f"%{{x}}: {hover_text}<extra></extra>",
    ))  # fmt: skip
    figure.update_layout(title=title, yaxis={"title": "‖Δθ_layer‖ / ‖θ_layer‖", "tickformat": ".1%"}, **LAYOUT)
    return figure


def _layer_label(name: str, block_conv: str, block_norm: str) -> str:
    """``features.blocks.2.1`` -> ``block 3 BatchNorm``; ``head`` -> ``head``."""
    parts = name.split(".")
    if parts[0] == "features" and len(parts) == 4:
        return (block_conv if parts[3] == "0" else block_norm).format(n=int(parts[2]) + 1)
    return name


RIGHT, WRONG = "#2ca02c", "#d62728"  # the frame and label colour of a right and a wrong prediction


def stepper_curves(
    losses: dict[str, Sequence[float]],
    accuracy: Sequence[float],
    *,
    shown_steps: int,
    titles: dict[str, str],
    reference: tuple[str, Sequence[float], Sequence[float]] | None = None,
    dotted: Collection[str] | None = None,
) -> go.Figure:
    """The inner loop step by step: losses on top, query accuracy below, sharing the inner-step axis.

    Args:
        losses: name -> loss after each inner step 0..K; those named in ``dotted`` (default: a name with
            "support") are drawn dotted.
        accuracy: query accuracy after each step 0..K, in [0, 1].
        shown_steps: steps after this one are not drawn yet; the axes already span all K steps.
        titles: the words, from the caller: ``title``, ``loss``, ``accuracy`` (axis titles), ``step``
            (the shared x axis) and ``accuracy_name`` (the accuracy line's legend entry).
        reference: (name, query losses, query accuracies) drawn whole in grey for comparison,
            e.g. the same episode at the α the model was meta-trained with.

    A loss above ``LOSS_CAP_FACTOR`` times the largest starting loss (a diverging inner loop) is
    drawn at the top of the axis as a triangle, its true value in the hover text.
    """
    figure = go.Figure()  # two rows by hand: make_subplots alone costs tens of ms per redraw
    total = max(len(values) for values in losses.values()) - 1
    cap = LOSS_CAP_FACTOR * max(values[0] for values in losses.values())
    if reference is not None:
        name, reference_loss, reference_accuracy = reference
        grey = {"color": "rgba(110,110,110,0.75)", "dash": "dash", "width": 2}
        figure.add_trace(_capped_line(reference_loss, cap, name, grey, legendgroup="reference"))
        figure.add_trace(go.Scatter(x=list(range(len(reference_accuracy))), y=list(reference_accuracy), name=name,
                                    mode="lines", line=grey, legendgroup="reference", showlegend=False,
                                    yaxis="y2"))  # fmt: skip
    upto = shown_steps + 1
    for index, (name, values) in enumerate(losses.items()):
        dash = "dot" if _is_dotted(name, dotted) else "solid"
        line = {"color": PALETTE[index % len(PALETTE)], "dash": dash, "width": 3}
        figure.add_trace(_capped_line(values[:upto], cap, name, line))
    figure.add_trace(go.Scatter(x=list(range(min(upto, len(accuracy)))), y=list(accuracy[:upto]),
                                name=titles["accuracy_name"], mode="lines+markers", yaxis="y2",
                                line={"color": PALETTE[2], "width": 3}, marker={"size": 9}))  # fmt: skip
    ticks, axis_titles = {"tickfont": {"size": 14}}, {"font": {"size": 15}}
    figure.update_layout(
        title={"text": titles["title"], "font": {"size": 18}}, height=440,
        margin={"l": 10, "r": 10, "t": 50, "b": 10}, legend={"orientation": "h", "y": -0.22, "font": {"size": 14}},
        xaxis={"range": [-0.3, total + 0.3], "dtick": 1 if total <= 10 else 2, "anchor": "y2",
               "title": {"text": titles["step"], **axis_titles}, **ticks},
        yaxis={"domain": [0.42, 1], "range": [0, 1.08 * cap], "title": {"text": titles["loss"], **axis_titles},
               **ticks},
        yaxis2={"domain": [0, 0.34], "range": [-0.02, 1.05], "tickformat": ".0%", "anchor": "x",
                "title": {"text": titles["accuracy"], **axis_titles}, **ticks},
    )  # fmt: skip
    return figure


LOSS_CAP_FACTOR = 2.5


def _capped_line(values: Sequence[float], cap: float, name: str, line: dict, **extra) -> go.Scatter:
    """A loss line whose points above ``cap`` (or not finite) sit on the cap as triangles."""
    raw = np.asarray(values, dtype=float)
    over = ~np.isfinite(raw) | (raw > cap)
    shown = np.where(over, cap, raw)
    return go.Scatter(
        x=list(range(len(raw))), y=shown.tolist(), name=name, mode="lines+markers", line=line,
        marker={"symbol": ["triangle-up" if o else "circle" for o in over], "size": [14 if o else 8 for o in over]},
        customdata=raw.tolist(), hovertemplate="%{customdata:.3g}<extra>" + name + "</extra>", **extra,
    )  # fmt: skip


def marked_predictions(
    images: torch.Tensor, true: torch.Tensor, predicted: torch.Tensor, scale: int, per_row: int = 13
) -> np.ndarray:
    """The queries as one RGB picture: each framed green when predicted right and red when wrong, with
    a label strip "true → predicted" under it in the same colour, large enough to read from afar.

    Args: images uint8 [Q, C, H, W]; true and predicted labels [Q]; an integer upscaling factor.
    Returns: uint8 [rows * tile height, columns * tile width, 3].
    """
    tiles = [_marked_tile(tile, int(t), int(p)) for tile, t, p in zip(to_display(images, scale), true, predicted,
                                                                     strict=True)]  # fmt: skip
    height, width = tiles[0].shape[:2]
    columns = min(per_row, len(tiles))
    rows = -(-len(tiles) // columns)
    sheet = np.full((rows * (height + TILE_GAP), columns * (width + TILE_GAP), 3), 255, dtype=np.uint8)
    for index, tile in enumerate(tiles):
        top, left = (index // columns) * (height + TILE_GAP), (index % columns) * (width + TILE_GAP)
        sheet[top : top + height, left : left + width] = tile
    return sheet[: -TILE_GAP or None, : -TILE_GAP or None]


TILE_GAP, FRAME, LABEL_HEIGHT = 8, 5, 26


def _marked_tile(image: np.ndarray, true: int, predicted: int) -> np.ndarray:
    colour = RIGHT if true == predicted else WRONG
    rgb = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]
    height, width = rgb.shape[:2]
    tile = np.empty((height + 2 * FRAME + LABEL_HEIGHT, width + 2 * FRAME, 3), dtype=np.uint8)
    tile[:] = _rgb(colour)
    tile[FRAME : FRAME + height, FRAME : FRAME + width] = rgb
    tile[height + 2 * FRAME :] = _label_strip(true, predicted, width + 2 * FRAME)
    return tile


@lru_cache(maxsize=512)
def _label_strip(true: int, predicted: int, width: int) -> np.ndarray:
    """White "true → predicted" on the right/wrong colour; one drawing per pair, reused."""
    strip = Image.new("RGB", (width, LABEL_HEIGHT), RIGHT if true == predicted else WRONG)
    draw = ImageDraw.Draw(strip)
    font = ImageFont.load_default(size=20)
    middle, centre = width // 2, LABEL_HEIGHT // 2 - 3
    draw.text((middle - 12, centre), str(true), font=font, fill="white", anchor="rm")
    draw.text((middle + 12, centre), str(predicted), font=font, fill="white", anchor="lm")
    # the arrow is drawn, not typed: the bundled font has no arrow glyph
    draw.line([(middle - 8, centre), (middle + 6, centre)], fill="white", width=3)
    draw.polygon([(middle + 8, centre), (middle + 2, centre - 5), (middle + 2, centre + 5)], fill="white")
    array = np.asarray(strip)
    array.flags.writeable = False
    return array


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
