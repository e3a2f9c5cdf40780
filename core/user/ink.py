"""Where the ink is: crop a drawing to its strokes, tell a blank picture, prepare pictures for a model."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from core.preprocessing import Preprocessing
from core.user.decoding import INK_THRESHOLD, _standardise


def ink_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the pixels clearly unlike the border's colour; None for a blank image."""
    return _ink(_as_l_or_rgb(image))[0]


def looks_blank(image: Image.Image) -> bool:
    """Whether nothing in the image stands out from its border's colour (the page warns about these)."""
    return ink_box(image) is None


def ink_crop(image: Image.Image, margin: float = 0.1) -> Image.Image:
    """The ink's bounding box, centred in a square of the background colour, `margin` x its longer side each way.

    Works for either polarity (dark on light or light on dark); a blank image is returned unchanged.
    """
    work = _as_l_or_rgb(image)
    box, background = _ink(work)
    if box is None:
        return image
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    side = max(width, height) + 2 * round(margin * max(width, height))
    square = Image.new(work.mode, (side, side), background)
    square.paste(work.crop(box), ((side - width) // 2, (side - height) // 2))
    return square


def prepare_for_model(images: list[Image.Image], preprocessing: Preprocessing, crop_to_ink: bool) -> torch.Tensor:
    """Images -> uint8 [N, C, S, S] for a model; `crop_to_ink` (character models) crops each to its ink first."""
    if not images:
        raise ValueError("no images to prepare; add at least one")
    return preprocessing.prepare([ink_crop(image) if crop_to_ink else image for image in images])


def _as_l_or_rgb(image: Image.Image) -> Image.Image:
    return image if image.mode in ("L", "RGB") else _standardise("image", image, max(image.size)).image


def _ink(image: Image.Image) -> tuple[tuple[int, int, int, int] | None, int | tuple[int, ...]]:
    array = np.asarray(image, dtype=np.int16).reshape(image.height, image.width, -1)
    border = np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]])
    background = np.median(border, axis=0).round().astype(np.int16)
    ink = (np.abs(array - background) > INK_THRESHOLD).any(axis=-1)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    fill = int(background[0]) if image.mode == "L" else tuple(int(v) for v in background)
    if rows.size == 0:
        return None, fill
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1), fill


