"""Plotly figures of a comparison: accuracy with 95% CIs, accuracy against cost, sweeps over n_shot or n_way."""

from __future__ import annotations

import plotly.graph_objects as go

from core.compare.runner import ContenderResult, SweepPoint

KIND_COLOURS = {"meta-learned": "#1f77b4", "baseline": "#7f7f7f"}
LINE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def accuracy_bars(results: list[ContenderResult], chance: float, title: str) -> go.Figure:
    """One horizontal bar per contender that ran (best on top), its 95% CI as an error bar, chance as a line."""
    ran = sorted((r for r in results if r.accuracy), key=lambda r: r.accuracy.mean)
    figure = go.Figure(go.Bar(
        x=[100 * r.accuracy.mean for r in ran], y=[r.name for r in ran], orientation="h",
        error_x={"type": "data", "array": [100 * r.accuracy.ci95 for r in ran], "thickness": 2},
        marker={"color": [KIND_COLOURS.get(r.kind, "#1f77b4") for r in ran]},
        text=[f"{100 * r.accuracy.mean:.1f}%" for r in ran], textposition="inside",
        hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
    ))  # fmt: skip
    figure.add_vline(x=100 * chance, line={"dash": "dot", "color": "black"}, annotation_text="chance",
                     annotation_position="bottom right")  # fmt: skip
    figure.update_layout(title=title, xaxis={"title": "query accuracy (%)", "range": [0, 100]},
                         height=120 + 45 * len(ran), margin={"l": 10})  # fmt: skip
    return figure


def accuracy_against_time(results: list[ContenderResult]) -> go.Figure:
    """Accuracy against median time per episode (log scale): what each point of accuracy costs at test time."""
    figure = go.Figure()
    for result in (r for r in results if r.accuracy):
        figure.add_trace(go.Scatter(
            x=[result.ms_per_episode], y=[100 * result.accuracy.mean], mode="markers", name=result.name,
            error_y={"type": "data", "array": [100 * result.accuracy.ci95]},
            marker={"size": 12, "symbol": "diamond" if result.kind == "baseline" else "circle"},
            hovertemplate=f"{result.name}<br>%{{x:.1f}} ms per episode<br>%{{y:.1f}}%<extra></extra>",
        ))  # fmt: skip
    figure.update_layout(title="Accuracy against time per episode (adaptation included)",
                         xaxis={"title": "median ms per episode (log scale)", "type": "log"},
                         yaxis={"title": "query accuracy (%)"}, legend={"font": {"size": 10}})  # fmt: skip
    return figure


def sweep_curves(points: list[SweepPoint], axis: str, title: str) -> go.Figure:
    """Accuracy against ``axis`` with a 95% band per contender; skipped settings leave gaps."""
    figure = go.Figure()
    names = list(dict.fromkeys(p.contender for p in points))
    for index, name in enumerate(names):
        mine = sorted((p for p in points if p.contender == name), key=lambda p: p.value)
        x = [p.value for p in mine]
        y = [100 * p.accuracy.mean if p.accuracy else None for p in mine]
        low = [100 * (p.accuracy.mean - p.accuracy.ci95) if p.accuracy else None for p in mine]
        high = [100 * (p.accuracy.mean + p.accuracy.ci95) if p.accuracy else None for p in mine]
        colour = LINE_COLOURS[index % len(LINE_COLOURS)]
        figure.add_trace(go.Scatter(x=x + x[::-1], y=high + low[::-1], fill="toself", fillcolor=colour,
                                    opacity=0.15, line={"width": 0}, hoverinfo="skip", showlegend=False,
                                    legendgroup=name))  # fmt: skip
        figure.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=name, legendgroup=name,
                                    line={"color": colour}, connectgaps=False,
                                    hovertemplate=f"{name}<br>{axis} %{{x}}: %{{y:.1f}}%<extra></extra>"))  # fmt: skip
    figure.update_layout(title=title, xaxis={"title": axis, "dtick": 1 if axis == "n_shot" else 5},
                         yaxis={"title": "query accuracy (%)"})  # fmt: skip
    return figure


def game_scores(scores: list, n_way: int, human_accuracy: float) -> go.Figure:
    """The person (first of ``scores``, core.compare.game.PlayerScore) and each model on the same trials, with 95% CIs,
    the published human accuracy and chance as lines."""
    figure = go.Figure(go.Bar(
        x=[100 * p.accuracy.mean for p in scores], y=[p.player for p in scores], orientation="h",
        error_x={"type": "data", "array": [100 * p.accuracy.ci95 for p in scores]},
        marker={"color": ["#ff7f0e"] + [KIND_COLOURS["meta-learned"]] * (len(scores) - 1)},
        text=[f"{100 * p.accuracy.mean:.0f}%" for p in scores], textposition="inside",
    ))  # fmt: skip
    figure.add_vline(x=100 * human_accuracy, line={"dash": "dash", "color": "#2ca02c"},
                     annotation_text=f"people in Lake et al. (2015): {100 * human_accuracy:.1f}%",
                     annotation_position="top left")  # fmt: skip
    figure.add_vline(x=100 / n_way, line={"dash": "dot", "color": "black"}, annotation_text="chance",
                     annotation_position="bottom right")  # fmt: skip
    trials = scores[0].accuracy.episodes
    figure.update_layout(title=f"You and the models on the same {trials} trials", height=160 + 40 * len(scores),
                         xaxis={"title": "accuracy (%)", "range": [0, 100]},
                         yaxis={"autorange": "reversed"})  # fmt: skip
    return figure
