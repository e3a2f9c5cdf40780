"""Plotly figures of a comparison: accuracy with 95% CIs, accuracy against cost, sweeps over n_shot or n_way,
and the one-shot game's scores. Every title and axis label comes from the caller."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from core.compare.runner import ContenderResult, SweepPoint
from core.figures.style import COLOURWAY, TEXT_COLOUR

KIND_COLOURS = {"meta-learned": "#0072B2", "baseline": "#6E6E6E"}  # both carry white text (contrast > 4.5)
YOU_COLOUR = "#E69F00"
LINE_COLOURS = COLOURWAY
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "hexagon", "star", "triangle-down", "pentagon", "cross", "x")
ROW_PX = 40  # height per bar
LABEL_WIDTH = 24  # characters per line of a bar's name
LOG_TICKS = [b * 10**e for e in range(-2, 5) for b in (1, 2, 5)]  # 1-2-5 steps: no crowded minor labels
VALUE_COLUMN_PX = 120  # room right of the plot area for "95.3% ± 1.0"
TOP_RIGHT_LEGEND = {"orientation": "h", "yref": "container", "y": 1.0, "yanchor": "top", "x": 1.0, "xanchor": "right"}
CI_HOVER = "95% CI as the error bar"  # the bars' hover note, unless the caller words it
BOTTOM_LEGEND = {"orientation": "h", "yref": "container", "y": 0.0, "yanchor": "bottom", "x": 0.0, "xanchor": "left"}


def short_names(names: Sequence[str], width: int = LABEL_WIDTH) -> list[str]:
    """``"Prototypical Networks · protonet-glyphs"`` -> ``"Prototypical Networks"`` where that part is unique
    among ``names``, each wrapped onto lines of at most ``width`` characters (``<br>`` between them)."""
    heads = [name.split(" · ", 1)[0] for name in names]
    short = [head if heads.count(head) == 1 else name for head, name in zip(heads, names, strict=True)]
    return ["<br>".join(textwrap.wrap(name, width)) or name for name in short]


def _errors(means: Sequence[float], cis: Sequence[float]) -> dict:
    """95% CIs in points, cut at 0 and 100: no accuracy lies outside them."""
    return {"type": "data", "symmetric": False, "array": [min(c, 100 - m) for m, c in zip(means, cis, strict=True)],
            "arrayminus": [min(c, m) for m, c in zip(means, cis, strict=True)], "thickness": 2, "width": 6,
            "color": TEXT_COLOUR}  # fmt: skip


def _bars(means: list[float], cis: list[float], labels: list[str], colour, name: str, ci_hover: str) -> go.Bar:
    return go.Bar(x=means, y=labels, orientation="h", name=name, marker={"color": colour},
                  error_x=_errors(means, cis), cliponaxis=False,
                  hovertemplate=f"%{{y}}: %{{x:.1f}}%<extra>{ci_hover}</extra>")  # fmt: skip


def _value_column(figure: go.Figure, labels: list[str], means: list[float], cis: list[float], digits: int) -> None:
    """Each bar's value and CI as a column right of the plot area, where neither a bar nor an error bar reaches."""
    for label, mean, ci in zip(labels, means, cis, strict=True):
        figure.add_annotation(x=1, xref="paper", xanchor="left", xshift=10, y=label, yref="y", showarrow=False,
                              text=f"{mean:.{digits}f}% ± {ci:.{digits}f}", name="value")  # fmt: skip
    figure.update_layout(margin={"r": VALUE_COLUMN_PX})


def _vertical_line(figure: go.Figure, x: float, label: str, dash: str, colour: str, anchor: str) -> None:
    """A dashed line over the bars, labelled above the plot area (never on a bar)."""
    figure.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper",
                     line={"dash": dash, "color": colour, "width": 2})  # fmt: skip
    figure.add_annotation(x=x, y=1, yref="paper", yanchor="bottom", xanchor=anchor, text=label, showarrow=False,
                          font={"color": colour})  # fmt: skip


def accuracy_bars(results: Sequence[ContenderResult], chance: float, title: str, *, axis_title: str,
                  chance_label: str, kind_names: Mapping[str, str], ci_hover: str = CI_HOVER) -> go.Figure:  # fmt: skip
    """One horizontal bar per contender that ran (best on top), its 95% CI as an error bar, chance as a line.

    One trace per kind (``kind_names``: kind -> legend entry), coloured as ``KIND_COLOURS``; ``chance_label``
    may hold ``{chance}`` (in %); ``ci_hover`` is the note beside a bar's hover."""
    ran = sorted((r for r in results if r.accuracy), key=lambda r: r.accuracy.mean)
    labels = dict(zip((r.name for r in ran), short_names([r.name for r in ran]), strict=True))
    figure = go.Figure()
    kinds = [k for k in KIND_COLOURS if any(r.kind == k for r in ran)]  # the legend always in the same order
    for kind in kinds + [k for k in dict.fromkeys(r.kind for r in ran) if k not in KIND_COLOURS]:
        mine = [r for r in ran if r.kind == kind]
        figure.add_trace(_bars([100 * r.accuracy.mean for r in mine], [100 * r.accuracy.ci95 for r in mine],
                               [labels[r.name] for r in mine], KIND_COLOURS.get(kind, COLOURWAY[0]),
                               kind_names.get(kind, kind), ci_hover))  # fmt: skip
    _value_column(figure, [labels[r.name] for r in ran], [100 * r.accuracy.mean for r in ran],
                  [100 * r.accuracy.ci95 for r in ran], 1)  # fmt: skip
    _vertical_line(figure, 100 * chance, chance_label.format(chance=f"{100 * chance:.0f}%"), "dot", TEXT_COLOUR,
                   "left")  # fmt: skip
    figure.update_layout(
        title=title, barmode="overlay", showlegend=True, legend=TOP_RIGHT_LEGEND, height=140 + ROW_PX * len(ran),
        xaxis={"title": axis_title, "range": [0, 100], "dtick": 10},
        yaxis={"categoryorder": "array", "categoryarray": [labels[r.name] for r in ran]},
    )  # fmt: skip
    return figure


def accuracy_against_time(results: Sequence[ContenderResult], title: str, *, x_title: str, y_title: str,
                          ms_hover: str = "ms per episode") -> go.Figure:  # fmt: skip
    """Accuracy against median time per episode (log scale): what each point of accuracy costs at test time.
    Each contender its own colour and symbol (baselines hollow), named in a legend under the plot; a point's
    hover gives its time followed by ``ms_hover``."""
    ran = [r for r in results if r.accuracy]
    figure = go.Figure()
    for index, (result, name) in enumerate(zip(ran, short_names([r.name for r in ran], 10**6), strict=True)):
        mean, ci = 100 * result.accuracy.mean, 100 * result.accuracy.ci95
        symbol = SYMBOLS[index % len(SYMBOLS)] + ("-open" if result.kind == "baseline" else "")
        figure.add_trace(go.Scatter(
            x=[result.ms_per_episode], y=[mean], mode="markers", name=name, error_y=_errors([mean], [ci]),
            marker={"size": 15, "symbol": symbol, "color": COLOURWAY[index % len(COLOURWAY)],
                    "line": {"width": 2, "color": COLOURWAY[index % len(COLOURWAY)]}},
            hovertemplate=f"{name}<br>%{{x:.1f}} {ms_hover}<br>%{{y:.1f}}% ± {ci:.1f}<extra></extra>",
        ))  # fmt: skip
    low = min((100 * (r.accuracy.mean - r.accuracy.ci95) for r in ran), default=0)
    figure.update_layout(
        title=title, legend=BOTTOM_LEGEND, height=560, margin={"b": 50},
        xaxis={"title": x_title, "type": "log", "tickvals": LOG_TICKS, "ticktext": [f"{v:g}" for v in LOG_TICKS]},
        yaxis={"title": y_title, "range": [max(0, 5 * math.floor(low / 5) - 5), 101]},
    )  # fmt: skip
    return figure


def sweep_curves(points: Sequence[SweepPoint], axis: str, title: str, *, y_title: str) -> go.Figure:
    """Accuracy against ``axis`` with a 95% band per contender; skipped settings leave gaps."""
    figure = go.Figure()
    names = list(dict.fromkeys(p.contender for p in points))
    for index, (name, legend) in enumerate(zip(names, short_names(names, 10**6), strict=True)):
        mine = sorted((p for p in points if p.contender == name), key=lambda p: p.value)
        x = [p.value for p in mine]
        y = [100 * p.accuracy.mean if p.accuracy else None for p in mine]
        low = [100 * (p.accuracy.mean - p.accuracy.ci95) if p.accuracy else None for p in mine]
        high = [100 * (p.accuracy.mean + p.accuracy.ci95) if p.accuracy else None for p in mine]
        colour = LINE_COLOURS[index % len(LINE_COLOURS)]
        figure.add_trace(go.Scatter(x=x + x[::-1], y=high + low[::-1], fill="toself", fillcolor=colour,
                                    opacity=0.15, line={"width": 0}, hoverinfo="skip", showlegend=False,
                                    legendgroup=name))  # fmt: skip
        figure.add_trace(go.Scatter(
            x=x, y=y, mode="lines+markers", name=name, legendgroup=name, line={"color": colour, "width": 3},
            marker={"size": 9}, connectgaps=False,
            hovertemplate=f"{legend}<br>{axis} %{{x}}: %{{y:.1f}}%<extra></extra>",
        ))  # fmt: skip
    figure.update_layout(title=title, xaxis={"title": axis, "dtick": 1 if axis == "n_shot" else 5},
                         yaxis={"title": y_title}, legend=BOTTOM_LEGEND, height=520, margin={"b": 50})  # fmt: skip
    return figure


def game_scores(scores: Sequence, n_way: int, title: str, *, axis_title: str, chance_label: str,
                human: tuple[float, str] | None = None, ci_hover: str = CI_HOVER) -> go.Figure:  # fmt: skip
    """The person (first of ``scores``, core.compare.game.PlayerScore) and each model on the same trials, with
    95% CIs, chance as a line and, when ``human`` (accuracy, label) applies to this game, people's accuracy."""
    means = [100 * p.accuracy.mean for p in scores]
    cis = [100 * p.accuracy.ci95 for p in scores]
    labels = short_names([p.player for p in scores])
    colours = [YOU_COLOUR] + [KIND_COLOURS["meta-learned"]] * (len(scores) - 1)
    figure = go.Figure(_bars(means, cis, labels, colours, "", ci_hover))
    _value_column(figure, labels, means, cis, 0)
    _vertical_line(figure, 100 / n_way, chance_label.format(chance=f"{100 / n_way:.0f}%"), "dot", TEXT_COLOUR,
                   "left")  # fmt: skip
    if human is not None:
        _vertical_line(figure, 100 * human[0], human[1], "dash", "#009E73", "right")
    figure.update_layout(title=title, height=150 + ROW_PX * len(scores), showlegend=False,
                         xaxis={"title": axis_title, "range": [0, 100], "dtick": 10},
                         yaxis={"autorange": "reversed"})  # fmt: skip
    return figure
