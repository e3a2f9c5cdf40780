"""The comparison figures, checked on their data and layout (not pixels)."""

import pytest

from core.compare.game import PlayerScore
from core.compare.runner import ContenderResult, SweepPoint
from core.evaluation import Accuracy
from core.figures.compare import KIND_COLOURS, accuracy_against_time, accuracy_bars, game_scores, sweep_curves

RESULTS = [
    ContenderResult("ProtoNet", "meta-learned", 100, per_episode=(0.9, 0.8, 1.0), seconds=(0.01, 0.03, 0.02)),
    ContenderResult("Pixel kNN", "baseline", 0, per_episode=(0.4, 0.6, 0.5), seconds=(0.001, 0.001, 0.002)),
    ContenderResult("MAML", "meta-learned", 100, skipped="needs a 5-way head"),
    ContenderResult("Relation", "meta-learned", 200, per_episode=(0.7, 0.7, 0.7), seconds=(0.05, 0.05, 0.05)),
]


def test_accuracy_bars_best_on_top_with_cis_and_skipped_contenders_left_out():
    figure = accuracy_bars(RESULTS, chance=0.2, title="5-way 1-shot")
    (bars,) = figure.data
    assert list(bars.y) == ["Pixel kNN", "Relation", "ProtoNet"]  # plotly draws the last bar on top
    assert list(bars.x) == pytest.approx([50, 70, 90])
    ran = sorted((r for r in RESULTS if r.accuracy), key=lambda r: r.accuracy.mean)
    assert list(bars.error_x.array) == pytest.approx([100 * r.accuracy.ci95 for r in ran])
    assert list(bars.marker.color) == [KIND_COLOURS["baseline"], *[KIND_COLOURS["meta-learned"]] * 2]
    assert list(bars.text) == ["50.0%", "70.0%", "90.0%"]
    (chance,) = figure.layout.shapes
    assert chance.x0 == chance.x1 == pytest.approx(20)
    assert figure.layout.annotations[0].text == "chance"
    assert list(figure.layout.xaxis.range) == [0, 100] and figure.layout.title.text == "5-way 1-shot"
    assert figure.layout.height == 120 + 45 * 3  # grows with the number of bars


def test_accuracy_against_time_one_point_per_contender_at_its_median_time():
    figure = accuracy_against_time(RESULTS)
    assert [trace.name for trace in figure.data] == ["ProtoNet", "Pixel kNN", "Relation"]
    protonet, knn, relation = figure.data
    assert list(protonet.x) == pytest.approx([20.0]) and list(protonet.y) == pytest.approx([90.0])
    assert list(knn.x) == pytest.approx([1.0]) and list(relation.x) == pytest.approx([50.0])
    assert [trace.marker.symbol for trace in figure.data] == ["circle", "diamond", "circle"]  # baselines differ
    assert figure.layout.xaxis.type == "log"


def _point(name: str, value: int, mean: float | None, axis: str = "n_shot") -> SweepPoint:
    return SweepPoint(name, axis, value, Accuracy(mean, 0.05, 10) if mean is not None else None)


def test_sweep_curves_a_band_and_a_line_per_contender_with_gaps_where_skipped():
    points = [_point("ProtoNet", 5, 0.9), _point("ProtoNet", 1, 0.6), _point("MAML", 1, 0.5), _point("MAML", 5, None)]
    figure = sweep_curves(points, "n_shot", "Accuracy against n_shot")
    assert len(figure.data) == 4
    band, line = figure.data[0], figure.data[1]
    assert line.name == "ProtoNet" and list(line.x) == [1, 5] and list(line.y) == pytest.approx([60, 90])
    assert band.fill == "toself" and band.showlegend is False and band.legendgroup == line.legendgroup == "ProtoNet"
    assert list(band.x) == [1, 5, 5, 1] and list(band.y) == pytest.approx([65, 95, 85, 55])  # high, then low back
    maml = figure.data[3]
    assert maml.name == "MAML" and maml.y[0] == pytest.approx(50) and maml.y[1] is None
    assert maml.connectgaps is False and line.line.color != maml.line.color
    assert figure.layout.xaxis.title.text == "n_shot" and figure.layout.xaxis.dtick == 1


def test_sweep_curves_over_n_way_tick_every_five():
    figure = sweep_curves([_point("ProtoNet", 5, 0.9, "n_way"), _point("ProtoNet", 20, 0.7, "n_way")], "n_way", "t")
    assert figure.layout.xaxis.dtick == 5 and list(figure.data[1].x) == [5, 20]


def test_game_scores_the_person_first_and_the_published_human_line():
    scores = [
        PlayerScore("you", (0, 1, 1, 0), Accuracy(0.75, 0.1, 4)),
        PlayerScore("ProtoNet", (0, 1, 2, 0), Accuracy(0.5, 0.2, 4)),
    ]
    figure = game_scores(scores, n_way=20, human_accuracy=0.955)
    (bars,) = figure.data
    assert list(bars.y) == ["you", "ProtoNet"] and list(bars.x) == pytest.approx([75, 50])
    assert list(bars.marker.color) == ["#ff7f0e", KIND_COLOURS["meta-learned"]]
    assert list(bars.text) == ["75%", "50%"]
    lines = sorted(shape.x0 for shape in figure.layout.shapes)
    assert lines == pytest.approx([5.0, 95.5])  # chance at 1/20, people in Lake et al.
    assert any("95.5%" in annotation.text for annotation in figure.layout.annotations)
    assert figure.layout.title.text == "You and the models on the same 4 trials"
    assert figure.layout.yaxis.autorange == "reversed"  # the person on top
