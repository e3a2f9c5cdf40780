"""Arranging episode images for display: pure numpy, no plotting library."""

from __future__ import annotations

import base64
import io

import numpy as np
import torch
from PIL import Image


def display_scale(image_size: int, target: int = 64) -> int:
    """Integer upscaling factor that brings ``image_size`` close to ``target`` pixels."""
    return max(1, round(target / image_size))


def to_display(images: torch.Tensor, scale: int = 1) -> list[np.ndarray]:
    """uint8 [N, C, H, W] -> N arrays [H*scale, W*scale(, 3)], crisp (nearest) upscaling."""
    arrays = images.numpy()
    if scale > 1:
        arrays = arrays.repeat(scale, axis=2).repeat(scale, axis=3)
    arrays = arrays.transpose(0, 2, 3, 1)
    return [a[..., 0] if a.shape[-1] == 1 else a for a in arrays]


def image_row(images: torch.Tensor, scale: int = 1, gap: int = 4, gap_value: int = 255) -> np.ndarray:
    """One strip of images side by side with ``gap`` pixels between them.

    Args:
        images: uint8 [N, C, H, W].
        scale: integer upscaling factor.
        gap: pixels between neighbours, filled with ``gap_value``.

    Returns:
        uint8 [H*scale, N*W*scale + (N-1)*gap] for one channel, with a trailing 3 for colour.
    """
    tiles = to_display(images, scale)
    height = tiles[0].shape[0]
    spacer = np.full((height, gap) + tiles[0].shape[2:], gap_value, dtype=np.uint8)
    pieces = [piece for tile in tiles for piece in (tile, spacer)][:-1]
    return np.concatenate(pieces, axis=1)


def classes_per_row(n_way: int, n_shot: int, max_columns: int = 6, max_images: int = 20) -> int:
    """How many class strips sit side by side so one row holds at most ``max_images`` thumbnails.

    20-way 5-shot gives 4 strips a row (5 rows), 5-way 1-shot one row of 5.
    """
    return max(1, min(n_way, max_columns, max_images // max(1, n_shot)))


def png_data_url(image: np.ndarray) -> str:
    """A uint8 [H, W] or [H, W, 3] array as a ``data:image/png;base64`` URL.

    The picture travels inside the page's message instead of the server's media store, which
    forgets an earlier run's files while the browser may still ask for them (404s on /media/).
    """
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
