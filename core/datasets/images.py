"""Turning one image file into a uint8 array of a fixed size: shared by the file-based sources."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def to_mode(image: Image.Image, channels: int) -> Image.Image:
    """Grayscale ("L") for 1 channel or "RGB" for 3, whatever the file's own mode.

    Transparent pixels become white (the usual page colour), 16-bit images are scaled
    to 8 bits rather than clipped, and EXIF rotation is applied.
    """
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray((array / peak * 255).clip(0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("L" if channels == 1 else "RGB")


def has_colour(image: Image.Image) -> bool:
    """Whether an image file carries colour (not whether its pixels happen to be gray)."""
    return image.mode not in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


def fit_square(image: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to ``size`` and centre-crop: no distortion, antialiased."""
    return ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)


def to_chw(image: Image.Image) -> np.ndarray:
    """uint8 [C, H, W] from an "L" or "RGB" image."""
    array = np.asarray(image, dtype=np.uint8)
    return array[None] if array.ndim == 2 else np.ascontiguousarray(array.transpose(2, 0, 1))
