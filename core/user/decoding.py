"""Untrusted uploaded bytes -> checked, standardised PIL images; sizes are checked before pixels are decoded."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from core.datasets.images import has_colour, to_mode
from core.errors import CodedError, Message

INK_THRESHOLD = 48  # a pixel is ink when a channel differs from the background by more (JPEG noise is ~10-20)

# The only decoders untrusted bytes reach (JPEG covers MPO); never EPS & co., whose decoders run programs.
_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
_KINDS = "PNG/JPEG/GIF/BMP/WebP/TIFF"
_ALPHA_MODES = ("RGBA", "LA", "PA", "La", "RGBa")
_RESIZABLE = ("L", "RGB", "RGBA", "I", "F", "I;16", "I;16B", "I;16L")


@dataclass(frozen=True)
class ImageLimits:
    """What an uploaded image or class-set zip may be; larger or smaller ones are refused.

    `max_side` is not a refusal: kept images are reduced so their longer side is at most
    this (models see 28-84 pixels, and a full class set must fit in a server's memory).
    """

    max_file_bytes: int = 10_000_000
    max_pixels: int = 40_000_000
    min_side: int = 2
    max_side: int = 512
    max_classes: int = 20
    max_images_per_class: int = 50
    max_query_images: int = 100
    max_zip_bytes: int = 1_000_000_000

    @property
    def max_zip_entries(self) -> int:
        return self.max_classes * self.max_images_per_class + self.max_query_images + 1


class UserImageError(CodedError, ValueError):
    """An uploaded file that cannot be used; the message names it and says what to do."""


class ClassSetError(CodedError, ValueError):
    """A zip that is not a usable class set; the message says why and what to do."""


@dataclass(frozen=True)
class DecodedImage:
    """An "L" or "RGB" image, fully loaded, and a sentence about anything changed on the way (or None)."""

    image: Image.Image
    note: Message | None = None


def decode_image(name: str, data: bytes, limits: ImageLimits = ImageLimits()) -> DecodedImage:
    """Uploaded bytes -> an upright "L" or "RGB" image; raises `UserImageError` for anything unusable."""
    label = display_name(name)
    if not data:
        raise UserImageError(
            f"{label}: the file is empty (0 bytes); upload the picture again or choose another file",
            code="image.empty", name=label,
        )  # fmt: skip
    if len(data) > limits.max_file_bytes:
        size_mb, limit_mb = len(data) / 1e6, limits.max_file_bytes / 1e6
        raise UserImageError(
            f"{label}: the file is {size_mb:.1f} MB, over the {limit_mb:g} MB"
            " limit; upload a smaller version (for example a JPEG, or fewer pixels)",
            code="image.file_too_large", name=label, size_mb=size_mb, limit_mb=limit_mb,
        )  # fmt: skip
    image = _open(label, data, limits)
    try:  # a decoder can fail in many ways on damaged bytes; all of them mean the same to the person
        frames = getattr(image, "n_frames", 1)  # reads every frame's header: damaged ones fail here
        several = frames > 1 and image.format != "MPO"
        note = (Message(f"{label}: only the first of its {frames} frames was used.", code="image.first_frame",
                        name=label, frames=frames) if several else None)  # fmt: skip
        image.draft(None, (limits.max_side, limits.max_side))  # JPEG only: decode at a reduced scale, cheaply
        image.load()
        image = ImageOps.exif_transpose(image)
    except Exception as error:
        raise UserImageError(
            f"{label}: the {image.format} data is damaged or incomplete ({error}); "
            "save or export the picture again and upload the new file",
            code="image.damaged_detail",
            name=label,
            kind=image.format,
            detail=str(error),
        ) from error
    decoded = normalise_image(label, image, limits)
    if note and decoded.note:
        note = Message(f"{note} {decoded.note}", code="image.two_notes", first=note, second=decoded.note)
    return DecodedImage(decoded.image, note or decoded.note)


def normalise_image(name: str, image: Image.Image | np.ndarray, limits: ImageLimits = ImageLimits()) -> DecodedImage:
    """An open image (a canvas drawing's RGBA array, say) -> the same form `decode_image` gives; not modified."""
    label = display_name(name)
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    _check_size(label, image.size, limits)
    try:
        return standardise(label, image, limits.max_side)
    except (ValueError, OSError) as error:  # Pillow cannot convert some rare modes (LAB to RGB in old versions...)
        raise UserImageError(
            f"{label}: its colour format ({image.mode}) cannot be read; "
            "save it as an ordinary RGB or grayscale PNG or JPEG and upload that",
            code="image.colour_format",
            name=label,
            mode=image.mode,
        ) from error


def display_name(name: str) -> str:
    """A file name fit to show: its last path part, printable characters only, at most 100 of them."""
    base = "".join(ch for ch in re.split(r"[\\/]", str(name))[-1] if ch.isprintable()).strip()
    return base[:100] or "image"


def _open(label: str, data: bytes, limits: ImageLimits) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=_FORMATS)  # reads the header only
    except Image.DecompressionBombError as error:
        limit = limits.max_pixels / 1e6
        raise UserImageError(
            f"{label}: the image has far more than {limit:g} megapixels; "
            "resize it (for example to 2000 pixels on its longer side) and upload it again",
            code="image.bomb",
            name=label,
            limit_mp=limit,
        ) from error
    except Exception as error:
        raise _unreadable(label, data) from error
    _check_size(label, image.size, limits)
    return image


def _unreadable(label: str, data: bytes) -> UserImageError:
    head = data[:1024]
    kind = next((k for magic, k in _MAGIC if head.startswith(magic)), None)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = "WebP"
    if kind:
        return UserImageError(
            f"{label}: the {kind} data is damaged or incomplete; save or export the picture again and upload it",
            code="image.damaged", name=label, kind=kind,
        )  # fmt: skip
    if head[4:8] == b"ftyp":
        return UserImageError(
            f"{label}: HEIC/AVIF photos cannot be read here; export it as JPEG or PNG and upload that",
            code="image.heic", name=label,
        )  # fmt: skip
    if head[:4] == b"%PDF":
        return UserImageError(f"{label}: a PDF, not an image; export the page as PNG or JPEG and upload that",
                              code="image.pdf", name=label)  # fmt: skip
    if b"<svg" in head.lower():
        return UserImageError(f"{label}: an SVG drawing, not a picture of pixels; export it as PNG and upload that",
                              code="image.svg", name=label)  # fmt: skip
    return UserImageError(f"{label}: not an image (the bytes are not {_KINDS}); upload the picture itself",
                          code="image.not_an_image", name=label, kinds=_KINDS)  # fmt: skip


_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def _check_size(label: str, size: tuple[int, int], limits: ImageLimits) -> None:
    width, height = size
    if width * height > limits.max_pixels:
        pixels_mp, limit_mp = width * height / 1e6, limits.max_pixels / 1e6
        raise UserImageError(
            f"{label}: the image is {width}×{height} pixels ({pixels_mp:.1f} megapixels), "
            f"over the {limit_mp:g} megapixel limit; resize it (for example to 2000 "
            "pixels on its longer side) and upload it again",
            code="image.too_many_pixels", name=label, width=width, height=height, pixels_mp=pixels_mp,
            limit_mp=limit_mp,
        )  # fmt: skip
    if min(width, height) < limits.min_side:
        raise UserImageError(
            f"{label}: the image is only {width}×{height} pixels, too small to show a shape (at least "
            f"{limits.min_side}×{limits.min_side} is needed); upload a larger picture",
            code="image.too_small", name=label, width=width, height=height, min_side=limits.min_side,
        )  # fmt: skip


def standardise(label: str, image: Image.Image, max_side: int) -> DecodedImage:
    """Any mode -> "L" (no colour in the file) or "RGB", at most max_side, transparency flattened."""
    colour = has_colour(image)
    transparent = image.mode in _ALPHA_MODES or ("transparency" in image.info and image.mode in ("1", "L", "P", "RGB"))
    if transparent:
        image = image.convert("RGBA")
    elif image.mode not in _RESIZABLE:  # palette, 1-bit, CMYK, YCbCr...: resizing these would not antialias
        image = image.convert("RGB" if colour else "L")
    if max(image.size) > max_side:
        image = _shrink(image, max_side)
    if image.mode in ("I", "F"):
        image = _wide_to_l(image)
    if transparent:
        return _flatten_alpha(label, image, colour)
    return DecodedImage(to_mode(image, 3 if colour else 1))  # to_mode scales 16-bit to 8 bits


def _shrink(image: Image.Image, max_side: int) -> Image.Image:
    """Longer side to ``max_side``, aspect kept, no side under 1 pixel (ImageOps.contain makes 2×3000 0×512)."""
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _wide_to_l(image: Image.Image) -> Image.Image:
    """32-bit integer or float -> 8 bits: [0, 1] floats, 8- or 16-bit ranges kept, anything else stretched."""
    array = np.nan_to_num(np.asarray(image, dtype=np.float32))
    low, high = float(array.min()), float(array.max())
    if low >= 0 and high <= 1 and image.mode == "F":
        low, high = 0.0, 1.0
    elif low >= 0 and high <= 65535:
        low, high = 0.0, (255.0 if high <= 255 else 65535.0)
    scaled = (array - low) / max(high - low, 1e-12) * 255
    return Image.fromarray(scaled.round().clip(0, 255).astype(np.uint8))


def _flatten_alpha(label: str, rgba: Image.Image, colour: bool) -> DecodedImage:
    """Composite onto white, or onto black when what is drawn is light, so the drawing stays visible."""
    array = np.asarray(rgba, dtype=np.float32)
    alpha = array[..., 3] / 255
    luminance = array[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    light = alpha.sum() > 0 and float((luminance * alpha).sum() / alpha.sum()) > 127
    shade = 0 if light else 255
    background = Image.new("RGBA", rgba.size, (shade, shade, shade, 255))
    flat = Image.alpha_composite(background, rgba).convert("RGB" if colour else "L")
    note = None
    if light and (alpha < 1).any():
        note = Message(
            f"{label}: its transparent background was filled with black so that its light drawing stays visible.",
            code="image.black_background", name=label,
        )  # fmt: skip
    return DecodedImage(flat, note)
