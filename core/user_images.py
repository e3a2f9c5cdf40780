"""People's own pictures as few-shot classes: untrusted bytes to images, ink crops, class-set zips.

Everything here takes bytes a browser uploaded and must never trust them: sizes are
checked before pixels are decoded, every failure becomes a `UserImageError` or
`ClassSetError` whose message names the file and says what to do, and a bad image in a
saved class set is skipped with a note rather than losing the rest.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image, ImageOps

from core.datasets.images import has_colour, to_mode
from core.preprocessing import Preprocessing

FORMAT_NAME = "meta-learning-playground/class-set"
FORMAT_VERSION = 1
INK_THRESHOLD = 48  # a pixel is ink when a channel differs from the background by more (JPEG noise is ~10-20)

# The only decoders untrusted bytes reach (JPEG covers MPO); never EPS & co., whose decoders run programs.
_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
_KINDS = "PNG/JPEG/GIF/BMP/WebP/TIFF"
_ALPHA_MODES = ("RGBA", "LA", "PA", "La", "RGBa")
_RESIZABLE = ("L", "RGB", "RGBA", "I", "F", "I;16", "I;16B", "I;16L")
_MEMBER_PATH = re.compile(r"(classes/\d{1,4}|queries)/[A-Za-z0-9][A-Za-z0-9._-]{0,80}\.png")
_STAMP = (1980, 1, 1, 0, 0, 0)  # fixed, so the same class set always gives the same bytes
# a member that fails its CRC, uses an unknown method or needs a password
_ZIP_ERRORS = (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, zlib.error)


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


class UserImageError(ValueError):
    """An uploaded file that cannot be used; the message names it and says what to do."""


class ClassSetError(ValueError):
    """A zip that is not a usable class set; the message says why and what to do."""


@dataclass(frozen=True)
class DecodedImage:
    """An "L" or "RGB" image, fully loaded, and a sentence about anything changed on the way (or None)."""

    image: Image.Image
    note: str | None = None


def decode_image(name: str, data: bytes, limits: ImageLimits = ImageLimits()) -> DecodedImage:
    """Uploaded bytes -> an upright "L" or "RGB" image; raises `UserImageError` for anything unusable."""
    label = display_name(name)
    if not data:
        raise UserImageError(f"{label}: the file is empty (0 bytes); upload the picture again or choose another file")
    if len(data) > limits.max_file_bytes:
        raise UserImageError(
            f"{label}: the file is {len(data) / 1e6:.1f} MB, over the {limits.max_file_bytes / 1e6:g} MB"
            " limit; upload a smaller version (for example a JPEG, or fewer pixels)"
        )
    image = _open(label, data, limits)
    try:  # a decoder can fail in many ways on damaged bytes; all of them mean the same to the person
        frames = getattr(image, "n_frames", 1)  # reads every frame's header: damaged ones fail here
        several = frames > 1 and image.format != "MPO"
        note = f"{label}: only the first of its {frames} frames was used." if several else None
        image.draft(None, (limits.max_side, limits.max_side))  # JPEG only: decode at a reduced scale, cheaply
        image.load()
        image = ImageOps.exif_transpose(image)
    except Exception as error:
        raise UserImageError(
            f"{label}: the {image.format} data is damaged or incomplete ({error}); "
            "save or export the picture again and upload the new file"
        ) from error
    decoded = normalise_image(label, image, limits)
    return DecodedImage(decoded.image, " ".join(n for n in (note, decoded.note) if n) or None)


def normalise_image(name: str, image: Image.Image | np.ndarray, limits: ImageLimits = ImageLimits()) -> DecodedImage:
    """An open image (a canvas drawing's RGBA array, say) -> the same form `decode_image` gives; not modified."""
    label = display_name(name)
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    _check_size(label, image.size, limits)
    try:
        return _standardise(label, image, limits.max_side)
    except (ValueError, OSError) as error:  # Pillow cannot convert some rare modes (LAB to RGB in old versions...)
        raise UserImageError(
            f"{label}: its colour format ({image.mode}) cannot be read; "
            "save it as an ordinary RGB or grayscale PNG or JPEG and upload that"
        ) from error


def display_name(name: str) -> str:
    """A file name fit to show: its last path part, printable characters only, at most 100 of them."""
    base = "".join(ch for ch in re.split(r"[\\/]", str(name))[-1] if ch.isprintable()).strip()
    return base[:100] or "image"


def _open(label: str, data: bytes, limits: ImageLimits) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=_FORMATS)  # reads the header only
    except Image.DecompressionBombError as error:
        raise UserImageError(
            f"{label}: the image has far more than {limits.max_pixels / 1e6:g} megapixels; "
            "resize it (for example to 2000 pixels on its longer side) and upload it again"
        ) from error
    except Exception as error:
        raise UserImageError(_unreadable(label, data)) from error
    _check_size(label, image.size, limits)
    return image


def _unreadable(label: str, data: bytes) -> str:
    head = data[:1024]
    kind = next((k for magic, k in _MAGIC if head.startswith(magic)), None)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = "WebP"
    if kind:
        return f"{label}: the {kind} data is damaged or incomplete; save or export the picture again and upload it"
    if head[4:8] == b"ftyp":
        return f"{label}: HEIC/AVIF photos cannot be read here; export it as JPEG or PNG and upload that"
    if head[:4] == b"%PDF":
        return f"{label}: a PDF, not an image; export the page as PNG or JPEG and upload that"
    if b"<svg" in head.lower():
        return f"{label}: an SVG drawing, not a picture of pixels; export it as PNG and upload that"
    return f"{label}: not an image (the bytes are not {_KINDS}); upload the picture itself"


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
        raise UserImageError(
            f"{label}: the image is {width}×{height} pixels ({width * height / 1e6:.1f} megapixels), "
            f"over the {limits.max_pixels / 1e6:g} megapixel limit; resize it (for example to 2000 "
            "pixels on its longer side) and upload it again"
        )
    if min(width, height) < limits.min_side:
        raise UserImageError(
            f"{label}: the image is only {width}×{height} pixels, too small to show a shape (at least "
            f"{limits.min_side}×{limits.min_side} is needed); upload a larger picture"
        )


def _standardise(label: str, image: Image.Image, max_side: int) -> DecodedImage:
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
        note = f"{label}: its transparent background was filled with black so that its light drawing stays visible."
    return DecodedImage(flat, note)


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


@dataclass
class NamedImage:
    """An image and the file name it came with (shown to people, never used as a path)."""

    name: str
    image: Image.Image


@dataclass
class UserClass:
    name: str
    images: list[NamedImage] = field(default_factory=list)


@dataclass
class ClassSet:
    """Classes in order, each with its images, and unlabelled query images.

    A list rather than a name-keyed mapping, so that what a person is halfway through
    typing (two classes both called "cat", two unnamed ones) can be held and reported.
    `notes` says what loading skipped or changed; it is not saved.
    """

    classes: list[UserClass] = field(default_factory=list)
    queries: list[NamedImage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def class_names(self) -> list[str]:
        return [user_class.name for user_class in self.classes]


def check_class_set(class_set: ClassSet, limits: ImageLimits = ImageLimits()) -> list[str]:
    """Every reason the set cannot be classified yet, each naming the class and what to do; [] when ready."""
    classes, problems = class_set.classes, []
    if len(classes) < 2:
        problems.append(
            "No classes yet; add at least two."
            if not classes
            else f"Only one class ({classes[0].name.strip() or 'unnamed'}); add at least one more to classify."
        )
    if len(classes) > limits.max_classes:
        problems.append(
            f"{len(classes)} classes, over the limit of {limits.max_classes}; "
            f"remove {len(classes) - limits.max_classes}."
        )
    seen: dict[str, int] = {}
    for number, user_class in enumerate(classes, 1):
        name, key = user_class.name.strip(), user_class.name.strip().casefold()
        label = f"Class {number} ({name})" if name else f"Class {number}"
        if not name:
            problems.append(f"Class {number} has no name; type a name for it.")
        elif key in seen:
            problems.append(
                f"{label} has the same name as class {seen[key]} (names ignore case and spaces at the "
                "ends); rename one of them."
            )
        else:
            seen[key] = number
        count = len(user_class.images)
        if count == 0:
            problems.append(f"{label} has no images; add at least one picture or remove the class.")
        elif count > limits.max_images_per_class:
            problems.append(
                f"{label} has {count} images, over the limit of {limits.max_images_per_class} per class; "
                f"remove {count - limits.max_images_per_class}."
            )
    if len(class_set.queries) > limits.max_query_images:
        problems.append(
            f"{len(class_set.queries)} query images, over the limit of {limits.max_query_images}; "
            f"remove {len(class_set.queries) - limits.max_query_images}."
        )
    return problems


def save_class_set(class_set: ClassSet) -> bytes:
    """A zip: manifest.json (format, version, classes in order with their files, queries) and PNGs."""
    manifest: dict = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "classes": [], "queries": []}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, user_class in enumerate(class_set.classes):
            files = [_write_png(archive, f"classes/{index}", i, item) for i, item in enumerate(user_class.images)]
            manifest["classes"].append({"name": user_class.name, "files": files})
        manifest["queries"] = [_write_png(archive, "queries", i, item) for i, item in enumerate(class_set.queries)]
        text = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
        archive.writestr(zipfile.ZipInfo("manifest.json", _STAMP), text, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _write_png(archive: zipfile.ZipFile, folder: str, index: int, item: NamedImage) -> dict[str, str]:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", display_name(item.name).rsplit(".", 1)[0]).strip("-.")[:60]
    path = f"{folder}/{index:03d}-{stem or 'image'}.png"
    png = io.BytesIO()
    item.image.save(png, "PNG")
    archive.writestr(zipfile.ZipInfo(path, _STAMP), png.getvalue())  # stored: PNG is compressed already
    return {"name": item.name, "path": path}


def load_class_set(data: bytes, limits: ImageLimits = ImageLimits()) -> ClassSet:
    """A zip from `save_class_set` -> the class set; raises `ClassSetError` for anything else.

    A missing, oversized or undecodable image is skipped with a note in `notes` and the
    rest is kept, so one damaged file never loses a whole set.
    """
    archive = _open_zip(data, limits)
    manifest = _read_manifest(archive)
    class_set = ClassSet()
    for entry in manifest["classes"]:
        name = "".join(ch for ch in entry["name"] if ch.isprintable())[:100]
        where = f"class {name.strip() or '(unnamed)'}"
        images = [_load_member(archive, item, where, limits, class_set.notes) for item in entry["files"]]
        class_set.classes.append(UserClass(name, [image for image in images if image]))
    queries = [_load_member(archive, item, "queries", limits, class_set.notes) for item in manifest["queries"]]
    class_set.queries = [image for image in queries if image]
    return class_set


def _open_zip(data: bytes, limits: ImageLimits) -> zipfile.ZipFile:
    if len(data) > limits.max_zip_bytes:
        raise ClassSetError(f"This zip is {len(data) / 1e6:.0f} MB, over the {limits.max_zip_bytes / 1e6:g} MB limit.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise ClassSetError("This file is not a zip; choose a class set saved with this page.") from error
    if len(infos) > limits.max_zip_entries:
        raise ClassSetError(
            f"This zip holds {len(infos)} files, more than a class set can "
            f"({limits.max_zip_entries}); choose a class set saved with this page."
        )
    for info in infos:
        parts = info.filename.replace("\\", "/").split("/")
        if info.filename.startswith(("/", "\\")) or ".." in parts or re.match(r"[A-Za-z]:", info.filename):
            raise ClassSetError(
                f"This zip holds a file named {info.filename!r}, which points outside the archive; "
                "it was not opened. Choose a class set saved with this page."
            )
    # zipfile stops each member at its declared size, so the declared total bounds what can be read
    total = sum(info.file_size for info in infos)
    if total > limits.max_zip_bytes:
        raise ClassSetError(
            f"This zip would unpack to {total / 1e6:.0f} MB, over the "
            f"{limits.max_zip_bytes / 1e6:g} MB limit; it was not opened."
        )
    return archive


def _read_manifest(archive: zipfile.ZipFile) -> dict:
    not_ours = "choose a zip made with this page's “Save class set”"
    try:
        raw = _read_member(archive, archive.getinfo("manifest.json"), 1_000_000)
    except KeyError:
        raise ClassSetError(f"This zip has no manifest.json, so it is not a saved class set; {not_ours}.") from None
    except _ZIP_ERRORS as error:
        raise ClassSetError(f"This zip's manifest.json cannot be unpacked (damaged); {not_ours}.") from error
    try:
        manifest = json.loads(raw) if raw is not None else None
    except (ValueError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ClassSetError(f"This zip's manifest.json is not a class-set manifest; {not_ours}.")
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ClassSetError(
            f"This class set has format version {version!r}, newer than this app reads "
            f"({FORMAT_VERSION}); update the app or save the set again."
        )
    classes, queries = manifest.get("classes"), manifest.get("queries", [])
    valid = isinstance(classes, list) and all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and _valid_files(c.get("files")) for c in classes
    )
    if not valid or not _valid_files(queries):
        raise ClassSetError(f"This zip's manifest.json is damaged (classes or files missing or mistyped); {not_ours}.")
    return manifest


def _valid_files(files: object) -> bool:
    return isinstance(files, list) and all(
        isinstance(f, dict)
        and isinstance(f.get("name"), str)
        and isinstance(f.get("path"), str)
        and _MEMBER_PATH.fullmatch(f["path"])
        for f in files
    )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The member's bytes, or None when it unpacks to more than `limit`; never reads past limit + 1."""
    with archive.open(info) as member:
        content = member.read(limit + 1)
    return content if len(content) <= limit else None


def _load_member(
    archive: zipfile.ZipFile, item: dict, where: str, limits: ImageLimits, notes: list[str]
) -> NamedImage | None:
    label, skipped = display_name(item["name"]), "Skipped; the rest of the set was loaded."
    try:
        data = _read_member(archive, archive.getinfo(item["path"]), limits.max_file_bytes)
    except KeyError:
        notes.append(f"{where}: {label} is listed in manifest.json but missing from the zip. {skipped}")
        return None
    except _ZIP_ERRORS:
        notes.append(f"{where}: {label} could not be unpacked (damaged or encrypted). {skipped}")
        return None
    if data is None:
        notes.append(f"{where}: {label} unpacks to over {limits.max_file_bytes / 1e6:g} MB. {skipped}")
        return None
    try:
        decoded = decode_image(item["name"], data, limits)
    except UserImageError as error:
        notes.append(f"{where}: {error}. {skipped}")
        return None
    if decoded.note:
        notes.append(f"{where}: {decoded.note}")
    return NamedImage(label, decoded.image)
