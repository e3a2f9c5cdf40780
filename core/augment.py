"""Random distortions of training images: Koch et al.'s (2015) affine maps and a change of stroke width.

Each image gets its own rotation (±10°), shear (±0.3), scale (0.8 to 1.2 per axis) and shift
(±2 pixels at 28×28, in proportion otherwise), as Koch, Zemel and Salakhutdinov distorted
Omniglot characters, and its strokes grow or shrink (people draw with different pens): a
random blend toward a one-pixel max filter (thicker, up to 60%) or min filter (thinner, up to
30%: at 28×28 a full pixel less erases thin strokes). The background (read from the border) fills what the map
uncovers, and the strokes are found whether bright on dark or dark on bright.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from torch.nn import functional as F

from core.episodes import Episode


@dataclasses.dataclass(frozen=True)
class Distortion:
    rotation_degrees: float = 10.0
    shear: float = 0.3
    scale: tuple[float, float] = (0.8, 1.2)
    shift_pixels_at_28: float = 2.0
    thicker: float = 0.6  # the largest blend toward the max filter
    thinner: float = 0.3  # the largest blend toward the min filter


def distort(images: torch.Tensor, generator: torch.Generator, distortion: Distortion = Distortion()) -> torch.Tensor:
    """uint8 images [N, C, H, W] -> the same shape, each randomly distorted (a new tensor)."""
    count = len(images)
    x = images.float()
    bright_background = _border(x) > 127.5
    x = torch.where(bright_background[:, None, None, None], 255 - x, x)  # strokes bright on dark from here on

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(count, generator=generator)

    angle = uniform(-1, 1) * math.radians(distortion.rotation_degrees)
    shear_x, shear_y = uniform(-1, 1) * distortion.shear, uniform(-1, 1) * distortion.shear
    scale_x, scale_y = uniform(*distortion.scale), uniform(*distortion.scale)
    shift = distortion.shift_pixels_at_28 / 28 * 2  # in affine_grid's [-1, 1] coordinates
    shift_x, shift_y = uniform(-shift, shift), uniform(-shift, shift)
    cos, sin = torch.cos(angle), torch.sin(angle)
    rotation = torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)
    shear = torch.stack([torch.stack([torch.ones(count), shear_x], 1), torch.stack([shear_y, torch.ones(count)], 1)], 1)
    linear = rotation @ shear @ torch.diag_embed(torch.stack([scale_x, scale_y], 1))
    theta = torch.cat([linear, torch.stack([shift_x, shift_y], 1)[:, :, None]], 2)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    x = _change_strokes(x, uniform(-distortion.thinner, distortion.thicker))
    x = torch.where(bright_background[:, None, None, None], 255 - x, x)
    return x.round().clamp(0, 255).to(torch.uint8)


def _border(x: torch.Tensor) -> torch.Tensor:
    """Mean of each image's outermost pixels [N]: its background."""
    edges = torch.cat([x[..., 0, :], x[..., -1, :], x[..., :, 0], x[..., :, -1]], dim=-1)
    return edges.flatten(1).mean(1)


def _change_strokes(x: torch.Tensor, amounts: torch.Tensor) -> torch.Tensor:
    """Bright strokes blended toward one pixel thicker (max filter) by a positive amount, thinner (min filter)
    by a negative one, per image."""
    amount = amounts[:, None, None, None]
    target = torch.where(amount > 0, F.max_pool2d(x, 3, stride=1, padding=1), -F.max_pool2d(-x, 3, stride=1, padding=1))
    return x + amount.abs() * (target - x)


def distort_episode(episode: Episode, seed: int, distortion: Distortion = Distortion()) -> Episode:
    """The episode with every image distorted; the same (seed, episode index) gives the same distortions."""
    state = np.random.SeedSequence([seed, episode.index, 0xD15]).generate_state(1)[0]
    generator = torch.Generator().manual_seed(int(state))
    support, query = episode.support_x, episode.query_x
    both = distort(torch.cat([support, query]), generator, distortion)
    return dataclasses.replace(episode, support_x=both[: len(support)], query_x=both[len(support) :])


def predict_over_distortions(algorithm, copies: int, distortion: Distortion = Distortion()):
    """Episode -> predicted query labels from the episode and ``copies`` distorted versions of it (test-time
    augmentation): the sum of each version's log-probabilities decides. Copy k is seeded by (k, episode index)."""

    def predict(episode: Episode) -> torch.Tensor:
        versions = [episode, *(distort_episode(episode, copy, distortion) for copy in range(1, copies + 1))]
        total = 0
        with torch.no_grad():
            for version in versions:
                support_x, support_y, query_x, _ = algorithm.inputs(version)
                total = total + F.log_softmax(algorithm(support_x, support_y, query_x), dim=1)
        return total.argmax(1)

    return predict
