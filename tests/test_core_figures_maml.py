"""The MAML figures, checked on their data and layout (not pixels)."""

import math

import numpy as np
import pytest

from core.figures.common import PALETTE
from core.figures.maml import inner_loop_curves, many_episode_curves, update_sizes

LOSSES = {"support loss": [2.0, 1.0, 0.5, 0.25], "query loss": [2.2, 1.6, 1.3, 3.0]}


def test_inner_loop_curves_draw_one_line_per_series_over_every_step():
    figure = inner_loop_curves(LOSSES, "Loss per inner step", "loss")
    assert [trace.name for trace in figure.data] == ["support loss", "query loss"]
    for trace, values in zip(figure.data, LOSSES.values(), strict=True):
        assert list(trace.x) == [0, 1, 2, 3] and list(trace.y) == values
    assert [trace.line.dash for trace in figure.data] == ["dot", "solid"]  # support dotted, query solid
    assert [trace.line.color for trace in figure.data] == PALETTE[:2]
    assert figure.layout.title.text == "Loss per inner step" and figure.layout.yaxis.title.text == "loss"
    assert figure.layout.xaxis.title.text == "inner step"


def test_inner_loop_curves_stepping_through_hides_later_steps_but_keeps_the_axes():
    whole, partial = inner_loop_curves(LOSSES, "t", "loss"), inner_loop_curves(LOSSES, "t", "loss", shown_steps=1)
    assert [list(trace.x) for trace in partial.data] == [[0, 1], [0, 1]]
    assert [list(trace.y) for trace in partial.data] == [[2.0, 1.0], [2.2, 1.6]]
    for figure in (whole, partial):  # the same frame at every step: no rescaling while stepping
        assert list(figure.layout.xaxis.range) == [-0.2, 3.2]
        assert list(figure.layout.yaxis.range) == pytest.approx([0, 1.05 * 3.0])  # includes the unshown 3.0


def test_inner_loop_curves_take_a_given_y_range_and_series_of_other_lengths():
    figure = inner_loop_curves({"accuracy": [0.2, 0.6, 0.8], "short": [0.5]}, "t", "acc", y_range=[0, 1])
    assert list(figure.layout.yaxis.range) == [0, 1]
    assert list(figure.layout.xaxis.range) == [-0.2, 2.2]  # spans the longest series
    assert [len(trace.x) for trace in figure.data] == [3, 1]


def test_many_episode_curves_thin_lines_a_band_of_one_std_and_the_mean():
    curves = np.array([[2.0, 1.0, 0.5], [3.0, 2.0, 1.5], [1.0, 0.0, 1.0]])
    figure = many_episode_curves(curves, "Query loss over 3 episodes")
    thin, band, mean = figure.data[:3], figure.data[3], figure.data[4]
    assert len(figure.data) == 5
    for trace, row in zip(thin, curves, strict=True):
        np.testing.assert_allclose(trace.y, row)
        assert trace.showlegend is False and trace.line.width == 1
    expected_mean, expected_std = curves.mean(0), curves.std(0)
    np.testing.assert_allclose(mean.y, expected_mean)
    assert mean.name == "mean of 3 episodes" and mean.line.width == 3
    assert band.fill == "toself" and band.name == "mean ± 1 std"
    np.testing.assert_allclose(band.x, [0, 1, 2, 2, 1, 0])
    np.testing.assert_allclose(band.y, [*(expected_mean + expected_std), *(expected_mean - expected_std)[::-1]])
    assert figure.layout.yaxis.title.text == "query loss" and figure.layout.title.text == "Query loss over 3 episodes"


def test_update_sizes_one_bar_per_layer_with_readable_names_in_order():
    norms = {"features.blocks.0.0": 0.5, "features.blocks.0.1": 0.25, "features.blocks.3.0": 0.125, "head": 1.0}
    figure = update_sizes(norms, "Update sizes")
    (bars,) = figure.data
    assert bars.type == "bar"
    assert list(bars.x) == ["block 1 conv", "block 1 BatchNorm", "block 4 conv", "head"]
    assert list(bars.y) == [0.5, 0.25, 0.125, 1.0]
    assert figure.layout.title.text == "Update sizes"
    assert figure.layout.yaxis.title.text == "‖Δθ_layer‖ / ‖θ_layer‖"


def test_update_sizes_mark_a_layer_that_starts_at_zero_instead_of_drawing_it():
    (bars,) = update_sizes({"features.blocks.0.0": 0.01, "head": float("nan")}, "t").data
    assert list(bars.y) == [0.01, None] and list(bars.text) == ["", "starts at 0"]


def test_update_sizes_keep_names_they_do_not_recognise():
    figure = update_sizes({"net.scale": 0.1, "features.blocks.1": 0.2}, "t")
    assert list(figure.data[0].x) == ["net.scale", "features.blocks.1"]


def test_trace_reports_each_layers_change_relative_to_its_size():
    import torch
    from torch import nn

    from core.algorithms.adaptation import trace_adaptation

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    params = dict(model.named_parameters())
    with torch.no_grad():
        params["2.weight"].zero_()
        params["2.bias"].zero_()  # a fresh zero head, as fine-tuning starts
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    trace = trace_adaptation(model, params, learning_rates=0.5, support_x=x, support_y=y, query_x=x, query_y=y,
                             steps=2)  # fmt: skip
    assert len(trace.relative_update_norms) == len(trace.update_norms) == 2
    first, relative = trace.update_norms[0], trace.relative_update_norms[0]
    size = (params["0.weight"].pow(2).sum() + params["0.bias"].pow(2).sum()).sqrt().item()
    assert relative["0"] == pytest.approx(first["0"] / size)
    assert np.isnan(relative["2"]) and first["2"] > 0  # the head moved, but from zero
    assert not np.isnan(trace.relative_update_norms[1]["2"])  # after one step it has a size


TITLES = {"title": "Each inner step", "loss": "loss", "accuracy": "accuracy", "step": "step", "accuracy_name": "acc"}


def test_stepper_curves_draw_losses_above_accuracy_up_to_the_shown_step_in_fixed_axes():
    from core.figures.maml import stepper_curves

    figure = stepper_curves(LOSSES, [0.2, 0.6, 0.8, 0.4], shown_steps=2, titles=TITLES)
    support, query, accuracy = figure.data
    assert [support.name, query.name, accuracy.name] == ["support loss", "query loss", "acc"]
    assert (
        list(support.y) == [2.0, 1.0, 0.5] and list(query.y) == [2.2, 1.6, 1.3] and list(accuracy.y) == [0.2, 0.6, 0.8]
    )
    assert (support.line.dash, query.line.dash) == ("dot", "solid")
    assert (support.yaxis or "y", query.yaxis or "y", accuracy.yaxis) == ("y", "y", "y2")
    assert figure.layout.yaxis.domain[0] > figure.layout.yaxis2.domain[1]  # losses on top, accuracy below
    assert figure.layout.title.text == "Each inner step" and figure.layout.xaxis.title.text == "step"
    assert figure.layout.yaxis.title.text == "loss" and figure.layout.yaxis2.title.text == "accuracy"
    assert list(figure.layout.xaxis.range) == [-0.3, 3.3]  # all three steps' room from the start
    assert figure.layout.yaxis2.tickformat == ".0%"


def test_stepper_curves_put_a_diverging_loss_on_the_top_edge_with_its_true_value_and_keep_a_reference():
    from core.figures.maml import LOSS_CAP_FACTOR, stepper_curves

    losses = {"support loss": [2.0, 9.0, float("nan")], "query loss": [1.0, 50.0, 1e6]}
    reference = ("query at α = 0.4", [2.2, 0.5, 0.4], [0.2, 0.9, 1.0])
    figure = stepper_curves(losses, [0.2, 0.4, 0.2], shown_steps=2, titles=TITLES, reference=reference)
    ref_loss, ref_accuracy, support, query, _ = figure.data
    cap = LOSS_CAP_FACTOR * 2.0
    assert list(query.y) == [1.0, cap, cap] and list(query.customdata) == [1.0, 50.0, 1e6]
    assert list(query.marker.symbol) == ["circle", "triangle-up", "triangle-up"]
    assert support.y[2] == cap and math.isnan(support.customdata[2])
    assert figure.layout.yaxis.range[1] > cap  # the triangles stay inside the frame
    assert ref_loss.name == ref_accuracy.name == "query at α = 0.4" and list(ref_accuracy.y) == [0.2, 0.9, 1.0]
    assert ref_loss.line.dash == "dash" and ref_accuracy.showlegend is False


def test_marked_predictions_frame_right_answers_green_and_wrong_ones_red():
    import torch

    from core.figures.maml import FRAME, LABEL_HEIGHT, RIGHT, TILE_GAP, WRONG, marked_predictions

    images = torch.full((3, 1, 4, 4), 128, dtype=torch.uint8)
    sheet = marked_predictions(images, torch.tensor([0, 1, 2]), torch.tensor([0, 2, 2]), scale=2, per_row=2)
    tile_width, tile_height = 8 + 2 * FRAME, 8 + 2 * FRAME + LABEL_HEIGHT
    assert sheet.shape == (2 * tile_height + TILE_GAP, 2 * tile_width + TILE_GAP, 3) and sheet.dtype == np.uint8

    def colour(hex_colour):
        return [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]

    first, second, third = (0, 0), (0, tile_width + TILE_GAP), (tile_height + TILE_GAP, 0)
    assert list(sheet[first]) == colour(RIGHT) and list(sheet[second]) == colour(WRONG)
    assert list(sheet[third]) == colour(RIGHT)
    assert list(sheet[FRAME + 1, FRAME + 1]) == [128, 128, 128]  # the picture itself, inside its frame
    label_row = sheet[8 + 2 * FRAME + LABEL_HEIGHT // 2, :tile_width]
    assert (label_row == 255).all(axis=1).any()  # the white "true → predicted" text on the strip


def test_the_figures_take_every_word_from_the_caller_and_dot_the_series_it_names():
    from core.figures.maml import stepper_curves

    losses = {"支持集损失": [2.0, 1.0], "查询损失": [2.2, 1.6]}
    inner = inner_loop_curves(losses, "标题", "损失", x_title="内循环步", dotted=("支持集损失",))
    assert [trace.line.dash for trace in inner.data] == ["dot", "solid"] and inner.layout.xaxis.title.text == "内循环步"
    titles = {**TITLES, "step": "内循环步"}
    stepper = stepper_curves(losses, [0.2, 0.6], shown_steps=1, titles=titles, dotted=("支持集损失",))
    assert [trace.line.dash for trace in stepper.data[:2]] == ["dot", "solid"]
    many = many_episode_curves(np.ones((3, 2)), "标题", "查询损失", x_title="内循环步", band_name="均值 ± 1 个标准差",
                               mean_name="{count} 个任务的均值")  # fmt: skip
    assert [trace.name for trace in many.data[3:]] == ["均值 ± 1 个标准差", "3 个任务的均值"]
    assert many.layout.xaxis.title.text == "内循环步"
    (bars,) = update_sizes({"features.blocks.0.0": 0.5, "features.blocks.0.1": float("nan")}, "标题",
                           zero_text="初始为 0", hover="为自身大小的 {value}", block_conv="第 {n} 块 卷积",
                           block_norm="第 {n} 块 BatchNorm").data  # fmt: skip
    assert list(bars.x) == ["第 1 块 卷积", "第 1 块 BatchNorm"] and list(bars.text) == ["", "初始为 0"]
    assert bars.hovertemplate == "%{x}: 为自身大小的 %{y:.3%}<extra></extra>"
