"""The comparison figures, checked on their data and layout (not pixels)."""

import plotly.io as pio
import pytest

import core.figures  # noqa: F401  (registers the app's chart style)
from core.compare.game import PlayerScore
from core.compare.runner import ContenderResult, SweepPoint
from core.evaluation import Accuracy
from core.figures.compare import (
    KIND_COLOURS,
    YOU_COLOUR,
    accuracy_against_time,
    accuracy_bars,
    game_scores,
    short_names,
    sweep_curves,
)  # fmt: skip
from core.figures.style import AXIS_TITLE_PX, BASE_FONT_PX, TEMPLATE_NAME, TITLE_PX, apply_style, register

RESULTS = [
    ContenderResult("ProtoNet", "meta-learned", 100, per_episode=(0.9, 0.8, 1.0), seconds=(0.01, 0.03, 0.02)),
    ContenderResult("Pixel kNN", "baseline", 0, per_episode=(0.4, 0.6, 0.5), seconds=(0.001, 0.001, 0.002)),
    ContenderResult("MAML", "meta-learned", 100, skipped="needs a 5-way head"),
    ContenderResult("Relation", "meta-learned", 200, per_episode=(0.7, 0.7, 0.7), seconds=(0.05, 0.05, 0.05)),
]
KINDS = {"meta-learned": "meta-learned", "baseline": "baseline (no meta-training)"}


def bars_of(figure) -> dict[str, tuple]:
    """Every bar of every trace: name -> (x, error plus, error minus, its value label, trace name)."""
    values = {a.y: a.text for a in figure.layout.annotations if a.name == "value"}
    found = {}
    for trace in figure.data:
        for i, name in enumerate(trace.y):
            found[name] = (trace.x[i], trace.error_x.array[i], trace.error_x.arrayminus[i], values[name], trace.name)
    return found


def lines_text(figure) -> list[str]:
    return [a.text for a in figure.layout.annotations if a.name != "value"]


def test_accuracy_bars_best_on_top_one_trace_per_kind_named_in_a_legend():
    figure = accuracy_bars(RESULTS, 0.2, "5-way 1-shot", axis_title="accuracy", chance_label="chance ({chance})",
                           kind_names=KINDS)  # fmt: skip
    assert list(figure.layout.yaxis.categoryarray) == ["Pixel kNN", "Relation", "ProtoNet"]  # plotly: last on top
    assert [trace.name for trace in figure.data] == ["meta-learned", "baseline (no meta-training)"]
    assert [trace.marker.color for trace in figure.data] == [KIND_COLOURS["meta-learned"], KIND_COLOURS["baseline"]]
    assert figure.layout.showlegend is True
    bars = bars_of(figure)
    assert set(bars) == {"Pixel kNN", "Relation", "ProtoNet"}  # the skipped MAML has no bar
    assert bars["ProtoNet"][0] == pytest.approx(90) and bars["Pixel kNN"][0] == pytest.approx(50)
    ci = 100 * RESULTS[0].accuracy.ci95
    assert bars["ProtoNet"][3] == f"90.0% ± {ci:.1f}"
    (chance,) = figure.layout.shapes
    assert chance.x0 == chance.x1 == pytest.approx(20)
    assert lines_text(figure) == ["chance (20%)"]
    assert list(figure.layout.xaxis.range) == [0, 100] and figure.layout.xaxis.dtick == 10
    assert figure.layout.title.text == "5-way 1-shot" and figure.layout.xaxis.title.text == "accuracy"


def test_error_bars_stop_at_100_percent_and_value_labels_sit_right_of_the_plot_area():
    results = [ContenderResult("sure", "meta-learned", 1, per_episode=(1.0, 0.9, 1.0, 1.0)),
               ContenderResult("weak", "baseline", 1, per_episode=(0.0, 0.1, 0.2))]  # fmt: skip
    figure = accuracy_bars(results, 0.2, "t", axis_title="a", chance_label="c", kind_names=KINDS)
    bars = bars_of(figure)
    mean, plus, minus = bars["sure"][:3]
    assert mean + plus == pytest.approx(100) and minus == pytest.approx(100 * results[0].accuracy.ci95)
    assert bars["weak"][0] - bars["weak"][2] == pytest.approx(0)  # cut at 0 too
    values = [a for a in figure.layout.annotations if a.name == "value"]
    assert len(values) == 2 and all(a.xref == "paper" and a.x == 1 and a.xanchor == "left" for a in values)
    assert figure.layout.margin.r >= 100  # room for "100.0% ± 10.0" beside the plot area
    assert all(not trace.text for trace in figure.data)  # no label on the bars, where error bars run
    (chance,) = [a for a in figure.layout.annotations if a.name != "value"]
    assert chance.yref == "paper" and chance.y == 1 and chance.yanchor == "bottom"  # above the bars


def test_short_names_drop_the_checkpoint_only_when_that_keeps_names_apart_and_wrap_long_ones():
    names = ["Prototypical Networks · protonet-glyphs", "MAML · maml-glyphs", "MAML · maml-omniglot",
             "trained from scratch on the support set"]  # fmt: skip
    assert short_names(names) == ["Prototypical Networks", "MAML · maml-glyphs", "MAML · maml-omniglot",
                                  "trained from scratch on<br>the support set"]  # fmt: skip


def test_accuracy_against_time_one_point_per_contender_each_its_own_colour_and_symbol():
    figure = accuracy_against_time(RESULTS, "cost", x_title="ms", y_title="%")
    assert [trace.name for trace in figure.data] == ["ProtoNet", "Pixel kNN", "Relation"]
    protonet, knn, relation = figure.data
    assert list(protonet.x) == pytest.approx([20.0]) and list(protonet.y) == pytest.approx([90.0])
    assert list(knn.x) == pytest.approx([1.0]) and list(relation.x) == pytest.approx([50.0])
    assert len({trace.marker.color for trace in figure.data}) == 3
    assert len({trace.marker.symbol.replace("-open", "") for trace in figure.data}) == 3
    assert knn.marker.symbol.endswith("-open") and not protonet.marker.symbol.endswith("-open")  # baselines hollow
    assert figure.layout.xaxis.type == "log"
    assert figure.layout.legend.orientation == "h"  # under the plot, not beside it taking half the width
    assert figure.layout.yaxis.range[0] <= 100 * (RESULTS[1].accuracy.mean - RESULTS[1].accuracy.ci95)


def _point(name: str, value: int, mean: float | None, axis: str = "n_shot") -> SweepPoint:
    return SweepPoint(name, axis, value, Accuracy(mean, 0.05, 10) if mean is not None else None)


def test_sweep_curves_a_band_and_a_line_per_contender_with_gaps_where_skipped():
    points = [_point("ProtoNet", 5, 0.9), _point("ProtoNet", 1, 0.6), _point("MAML", 1, 0.5), _point("MAML", 5, None)]
    figure = sweep_curves(points, "n_shot", "Accuracy against n_shot", y_title="query accuracy (%)")
    assert len(figure.data) == 4
    band, line = figure.data[0], figure.data[1]
    assert line.name == "ProtoNet" and list(line.x) == [1, 5] and list(line.y) == pytest.approx([60, 90])
    assert band.fill == "toself" and band.showlegend is False and band.legendgroup == line.legendgroup == "ProtoNet"
    assert list(band.x) == [1, 5, 5, 1] and list(band.y) == pytest.approx([65, 95, 85, 55])  # high, then low back
    maml = figure.data[3]
    assert maml.name == "MAML" and maml.y[0] == pytest.approx(50) and maml.y[1] is None
    assert maml.connectgaps is False and line.line.color != maml.line.color
    assert figure.layout.xaxis.title.text == "n_shot" and figure.layout.xaxis.dtick == 1
    assert figure.layout.yaxis.title.text == "query accuracy (%)"


def test_sweep_curves_over_n_way_tick_every_five():
    figure = sweep_curves([_point("ProtoNet", 5, 0.9, "n_way"), _point("ProtoNet", 20, 0.7, "n_way")], "n_way", "t",
                          y_title="%")  # fmt: skip
    assert figure.layout.xaxis.dtick == 5 and list(figure.data[1].x) == [5, 20]


SCORES = [
    PlayerScore("you", (0, 1, 1, 0), Accuracy(0.75, 0.3, 4)),
    PlayerScore("ProtoNet", (0, 1, 2, 0), Accuracy(0.5, 0.2, 4)),
]


def test_game_scores_the_person_first_and_people_drawn_only_when_given():
    figure = game_scores(SCORES, 20, "You and the models", axis_title="accuracy", chance_label="chance ({chance})",
                         human=(0.955, "people, 20-way: 95.5%"))  # fmt: skip
    (bars,) = figure.data
    assert list(bars.y) == ["you", "ProtoNet"] and list(bars.x) == pytest.approx([75, 50])
    assert list(bars.marker.color) == [YOU_COLOUR, KIND_COLOURS["meta-learned"]]
    assert bars_of(figure)["you"][3] == "75% ± 30" and bars_of(figure)["ProtoNet"][3] == "50% ± 20"
    assert list(bars.error_x.array) == pytest.approx([25, 20])  # 75 + 30 would pass 100
    assert sorted(shape.x0 for shape in figure.layout.shapes) == pytest.approx([5.0, 95.5])
    assert lines_text(figure) == ["chance (5%)", "people, 20-way: 95.5%"]
    assert figure.layout.yaxis.autorange == "reversed"  # the person on top
    five_way = game_scores(SCORES, 5, "t", axis_title="a", chance_label="chance ({chance})")
    assert [shape.x0 for shape in five_way.layout.shapes] == pytest.approx([20.0])  # chance only
    assert lines_text(five_way) == ["chance (20%)"]


def test_the_app_style_is_the_default_and_reads_from_the_back_of_a_room():
    register()  # what importing core.figures does (a later import of Streamlit makes its own the default)
    assert pio.templates.default == TEMPLATE_NAME
    assert BASE_FONT_PX >= 14 and AXIS_TITLE_PX >= 16 and TITLE_PX >= 16
    figure = apply_style(accuracy_bars(RESULTS, 0.2, "t", axis_title="a", chance_label="c", kind_names=KINDS))
    layout = figure.layout.template.layout
    assert layout.font.size == BASE_FONT_PX and layout.title.font.size == TITLE_PX
    assert layout.xaxis.title.font.size == AXIS_TITLE_PX and layout.yaxis.tickfont.size == BASE_FONT_PX
    assert layout.xaxis.automargin and layout.yaxis.automargin
    assert len(set(layout.colorway)) == len(layout.colorway) >= 7
    assert figure.layout.xaxis.range == (0, 100)  # the figure's own layout is kept
