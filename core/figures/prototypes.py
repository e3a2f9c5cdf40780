"""The Prototypical Networks map after a push, and the n_shot animation: ``PushTrace`` in, figure out.

One trace per role (not per class and role), so the legend names roles and a 20-way map has
no 60-entry legend: classes have distinct colours up to 26 and their numbers are written on the
prototypes. Words come from the caller (``legend`` maps each role key of ``ROLES`` to its name, and
may replace any of ``HOVER``'s hover texts).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.algorithms.prototype_push import PushTrace
from core.figures.common import class_colours, data_url

ROLES = ("regions", "dropped", "support", "outlier", "drawing", "query", "sampled", "prototype")
# Hover texts: {role} is the legend's name, {k} and {name} the class, {predicted} the model's class or "none".
HOVER = {
    "hover_member": "{role}<br>class {k}: {name}",
    "hover_query": "{role} of class {k}: {name}<br>predicted: {predicted}",
    "none": "none",
}


def prototype_map(
    trace: PushTrace,
    class_names: list[str],
    title: str,
    legend: dict[str, str],
    thumbnails: list[tuple[float, float, np.ndarray]] | None = None,
    height: int = 500,
) -> go.Figure:
    """Regions, support set (kept, left out, outliers, drawings), queries and prototypes in the plane.

    ``thumbnails``: optional (x, y, image) drawn behind the markers.
    """
    images = []
    if thumbnails:
        span = float(np.ptp(np.stack([[x, y] for x, y, _ in thumbnails]), axis=0).max()) or 1.0
        images = [
            {"source": data_url(image), "x": x, "y": y, "sizex": span / 18, "sizey": span / 18, "xref": "x",
             "yref": "y", "xanchor": "center", "yanchor": "middle", "layer": "below", "opacity": 0.75}
            for x, y, image in thumbnails
        ]  # fmt: skip
    layout = {
        "title": {"text": title, "automargin": True, "yref": "paper", "y": 1, "yanchor": "bottom"},
        "height": height, "xaxis": {"visible": False}, "yaxis": {"visible": False, "scaleanchor": "x"},
        "images": images, **_LAYOUT,
    }  # fmt: skip
    return _figure(map_traces(trace, class_names, legend, sampled=True), layout)


def _figure(data: list[dict], layout: dict, frames: list[dict] | None = None) -> go.Figure:
    # Built from plain dicts without plotly's validation, which costs far more than the whole push on a redraw.
    return go.Figure(data=data, layout=layout, frames=frames, _validate=False)


_LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    "legend": {"orientation": "h", "y": -0.02, "yanchor": "top", "x": 0},
    "uirevision": "map",  # keep a visitor's zoom across pushes
}


def map_traces(trace: PushTrace, class_names: list[str], legend: dict[str, str], sampled: bool) -> list[dict]:
    """The map's traces in the fixed order of ``ROLES`` (an animation's frames replace them one for one).

    ``sampled``: also draw where each prototype was with the episode as sampled (hollow stars).
    """
    words = HOVER | legend
    colours = np.array(class_colours(len(class_names)))
    names = np.array(class_names, dtype=object)
    kinds = trace.member_kind
    traces = [
        _regions(trace, colours, words["regions"]),
        _points(trace.dropped_coords, trace.dropped_y, colours, names, words, "dropped", "circle-open", 9, 0.55),
    ]
    for kind, symbol, size in (("support", "circle", 10), ("outlier", "circle-x", 14), ("drawing", "square", 12)):
        mask = kinds == kind
        traces.append(
            _points(trace.member_coords[mask], trace.member_y[mask], colours, names, words, kind, symbol, size, 1.0)
        )
    traces.append(_queries(trace, colours, names, words))
    moved = sampled & (np.abs(trace.sampled_prototype_coords - trace.prototype_coords).sum(1) > 1e-9)
    where = np.flatnonzero(moved)
    traces.append(
        _points(trace.sampled_prototype_coords[where], where, colours, names, words, "sampled", "star-open", 16, 0.8)
    )
    present = np.flatnonzero(trace.has_prototype)
    stars = _points(trace.prototype_coords[present], present, colours, names, words, "prototype", "star", 22, 1.0)
    stars.update(
        mode="markers+text",
        text=[str(k) for k in present],
        textposition="top center",
        textfont={"size": 14, "color": "black"},
    )
    traces.append(stars)
    return traces


def _regions(trace: PushTrace, colours: np.ndarray, name: str) -> dict:
    n = len(colours)
    steps = [(edge, colours[k]) for k in range(n) for edge in (k / n, (k + 1) / n)]
    z = np.where(trace.regions < 0, np.nan, trace.regions.astype(float))
    return dict(
        type="heatmap",
        x=trace.xs,
        y=trace.ys,
        z=z,
        colorscale=steps,
        zmin=-0.5,
        zmax=n - 0.5,
        opacity=0.2,
        showscale=False,
        hoverinfo="skip",
        name=name,
    )


def _points(coords, classes, colours, names, words, role, symbol, size, opacity) -> dict:
    classes = np.asarray(classes, dtype=int)
    name = words[role]
    return dict(
        type="scatter",
        x=coords[:, 0],
        y=coords[:, 1],
        mode="markers",
        name=name,
        opacity=opacity,
        customdata=np.stack([classes, names[classes]], -1) if len(classes) else None,
        marker={
            "symbol": symbol,
            "size": size,
            "color": colours[classes].tolist(),
            "line": {"width": 1, "color": "black"},
        },
        hovertemplate=words["hover_member"].format(role=name, k="%{customdata[0]}", name="%{customdata[1]}")
        + "<extra></extra>",
    )


def _queries(trace: PushTrace, colours: np.ndarray, names: np.ndarray, words: dict[str, str]) -> dict:
    wrong = trace.predictions != trace.query_y
    predicted = np.where(trace.predictions < 0, words["none"], trace.predictions.astype(str))
    name = words["query"]
    return dict(
        type="scatter",
        x=trace.query_coords[:, 0],
        y=trace.query_coords[:, 1],
        mode="markers",
        name=name,
        customdata=np.stack([trace.query_y, names[trace.query_y], predicted], -1),
        marker={
            "symbol": np.where(wrong, "x", "diamond-open").tolist(),
            "size": np.where(wrong, 13, 10).tolist(),
            "color": colours[trace.query_y].tolist(),
            "line": {"width": 2, "color": colours[trace.query_y].tolist()},
        },
        hovertemplate=words["hover_query"].format(
            role=name, k="%{customdata[0]}", name="%{customdata[1]}", predicted="%{customdata[2]}"
        )
        + "<extra></extra>",
    )


def shots_animation(
    traces: list[PushTrace],
    class_names: list[str],
    legend: dict[str, str],
    frame_title: str,
    accuracy_title: str,
    play: str,
    height: int = 480,
) -> go.Figure:
    """One frame per number of shots (``traces[k - 1]`` uses k shots): the map beside accuracy against shots.

    ``frame_title`` is formatted with ``n_shot`` and ``accuracy`` (a fraction) for each frame's title;
    ``play`` labels the play button. The last frame is shown first: it is where the prototypes settle.
    """
    shots = list(range(1, len(traces) + 1))
    accuracies = [t.accuracy for t in traces]
    curve = {"type": "scatter", "x": shots, "y": accuracies, "mode": "lines+markers", "name": accuracy_title,
             "line": {"color": "#555555"}, "xaxis": "x2", "yaxis": "y2"}  # fmt: skip
    marker = {"type": "scatter", "mode": "markers", "marker": {"size": 16, "color": "red"}, "hoverinfo": "skip",
              "xaxis": "x2", "yaxis": "y2"}  # fmt: skip
    frames = [
        {"name": str(k), "traces": [*range(len(ROLES)), len(ROLES) + 1],
         "data": [*map_traces(t, class_names, legend, sampled=False), {**marker, "x": [k], "y": [t.accuracy]}],
         "layout": {"title": {"text": frame_title.format(n_shot=k, accuracy=t.accuracy)}}}
        for k, t in zip(shots, traces, strict=True)
    ]  # fmt: skip
    step = {"frame": {"duration": 700, "redraw": True}, "transition": {"duration": 0}, "mode": "immediate"}
    xs, ys = traces[-1].xs, traces[-1].ys
    layout = {
        **_LAYOUT, "title": {"text": frame_title.format(n_shot=shots[-1], accuracy=accuracies[-1])},
        "height": height, "margin": {"l": 10, "r": 10, "t": 70, "b": 10}, "showlegend": False,
        "xaxis": {"domain": [0, 0.66], "visible": False, "range": [xs[0], xs[-1]]},
        "yaxis": {"visible": False, "scaleanchor": "x", "range": [ys[0], ys[-1]]},
        "xaxis2": {"domain": [0.74, 1], "anchor": "y2", "title": {"text": "n_shot"}, "dtick": 1},
        "yaxis2": {"anchor": "x2", "title": {"text": accuracy_title}, "range": [0, 1.05],
                   "tickvals": [0, 0.25, 0.5, 0.75, 1], "tickformat": ".0%"},
        "updatemenus": [{"type": "buttons", "x": 0, "y": 1.0, "xanchor": "left", "yanchor": "bottom",
                         "showactive": False, "buttons": [{"label": play, "method": "animate",
                                                           "args": [None, {**step, "fromcurrent": False}]}]}],
        "sliders": [{"active": len(shots) - 1, "x": 0.1, "len": 0.9, "y": 0, "yanchor": "top",
                     "currentvalue": {"prefix": "n_shot = "},
                     "steps": [{"label": str(k), "method": "animate", "args": [[str(k)], step]} for k in shots]}],
    }  # fmt: skip
    data = [*map_traces(traces[-1], class_names, legend, sampled=False), curve,
            {**marker, "x": [shots[-1]], "y": [accuracies[-1]]}]  # fmt: skip
    return _figure(data, layout, frames)
