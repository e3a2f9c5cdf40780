"""Where the ink is: crop a drawing to its strokes, tell a blank picture, prepare pictures for a model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from core.preprocessing import Preprocessing, to_pil
from core.user.decoding import INK_THRESHOLD, ImageLimits, standardise

ImageLike = Image.Image | torch.Tensor | np.ndarray


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


def crops_to_ink(preprocessing: Preprocessing) -> bool:
    """Whether pictures are cropped to their ink before this model sees them.

    Character models (strokes bright on dark: Omniglot, glyphs) are: a small drawing in a big
    photo or canvas then fills the frame the way their training characters do. Photo models are not.
    """
    return preprocessing.bright_on_dark


def prepare_for_model(
    images: Sequence[ImageLike] | torch.Tensor, preprocessing: Preprocessing, crop_to_ink: bool | None = None
) -> torch.Tensor:
    """Pictures -> uint8 [N, C, S, S] for a model, the one way the page and ``Learner.predict`` both use.

    Each image (PIL, uint8 array or tensor; floats read as [0, 1]) is standardised the way an
    upload is (transparency flattened, "L" or "RGB", longer side at most 512), cropped to its ink
    when `crop_to_ink` says so (None: ``crops_to_ink(preprocessing)`` decides), then sized,
    converted and inverted by `preprocessing`.
    """
    if len(images) == 0:
        raise ValueError("no images to prepare; add at least one")
    crop = crops_to_ink(preprocessing) if crop_to_ink is None else crop_to_ink
    return preprocessing.prepare([_picture(image, crop) for image in images])


def _picture(image: ImageLike, crop: bool) -> Image.Image:
    pil = standardise("image", to_pil(image), ImageLimits().max_side).image
    return ink_crop(pil) if crop else pil


def _as_l_or_rgb(image: Image.Image) -> Image.Image:
    return image if image.mode in ("L", "RGB") else standardise("image", image, max(image.size)).image


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
