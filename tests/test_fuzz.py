"""Property-based fuzzing of everything that reads untrusted bytes: images, class-set zips, checkpoints.

Each property says the same thing: whatever arrives ends in a result or the module's own
documented error (a ValueError subclass whose message says what to do), never another
exception. Examples are bounded so the file runs in well under a minute on two busy cores;
``FUZZ_SCALE=20`` runs twenty times as many, freshly randomised (derandomised otherwise,
so CI sees the same cases every run).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from safetensors.torch import load_file, save_file

from core.algorithms import ALGORITHMS, FewShotAlgorithm
from core.checkpoints import CheckpointError, load_checkpoint
from core.preprocessing import Preprocessing
from core.user import (
    FORMAT_NAME,
    ClassSet,
    ClassSetError,
    ImageLimits,
    NamedImage,
    UserClass,
    UserImageError,
    decode_image,
    ink_box,
    load_class_set,
    normalise_image,
    prepare_for_model,
    save_class_set,
)

ASSETS = Path(__file__).resolve().parents[1] / "assets"
SCALE = int(os.environ.get("FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    """Bounded, reproducible (unless FUZZ_SCALE > 1), and writing no .hypothesis folder into the tree."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=SCALE == 1,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---------------------------------------------------------------- images

MAGIC = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*",
         b"RIFF\x00\x00\x00\x00WEBP", b"%PDF", b"<svg", b"\x00\x00\x00\x18ftypheic"]  # fmt: skip
BYTES_PER_PIXEL = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "P": 1, "CMYK": 4, "I;16": 2, "I": 4, "F": 4}
FORMATS = {  # what Pillow writes for each mode (checked with Pillow 13)
    "L": ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP"),
    "LA": ("PNG", "GIF", "TIFF", "WEBP"),
    "RGB": ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP"),
    "RGBA": ("PNG", "BMP", "GIF", "TIFF", "WEBP"),
    "P": ("PNG", "BMP", "GIF", "TIFF", "WEBP"),
    "CMYK": ("JPEG", "TIFF", "WEBP"),
    "I;16": ("PNG", "GIF", "TIFF", "WEBP"),
    "I": ("GIF", "TIFF", "WEBP"),
    "F": ("GIF", "TIFF", "WEBP"),
}
SMALL = ImageLimits(max_side=64)  # keeps decoding and resizing quick; the checks are the same


def pixel_bytes(mode: str, size: tuple[int, int], pattern: str, seed: int) -> bytes:
    """Raw pixels: noise, one flat colour, a bright stroke on dark, or the type's extreme values."""
    rng = np.random.default_rng(seed)
    count = size[0] * size[1] * BYTES_PER_PIXEL[mode]
    if pattern == "flat":
        return bytes([int(rng.integers(256))]) * count
    if mode == "F" and pattern == "extremes":
        values = rng.choice(np.array([np.nan, np.inf, -np.inf, 0, 1, -1e38, 1e38, 0.5], np.float32), count // 4)
        return values.astype(np.float32).tobytes()
    if pattern == "extremes":
        return rng.choice(np.array([0, 255], np.uint8), count).tobytes()
    data = np.zeros(count, np.uint8)
    data[count // 3 : count // 2] = 255 if pattern == "stroke" else rng.integers(0, 256, count // 2 - count // 3)
    return (data if pattern == "stroke" else rng.integers(0, 256, count, dtype=np.uint8)).tobytes()


@st.composite
def odd_images(draw) -> Image.Image:
    """An in-memory image of any of the awkward modes, 1..300 pixels each way."""
    mode = draw(st.sampled_from(sorted(BYTES_PER_PIXEL)))
    size = (draw(st.integers(1, 300)), draw(st.integers(1, 300)))
    pattern = draw(st.sampled_from(["noise", "flat", "stroke", "extremes"]))
    image = Image.frombytes(mode, size, pixel_bytes(mode, size, pattern, draw(st.integers(0, 2**32 - 1))))
    if mode == "P":
        image.putpalette(np.random.default_rng(size[0]).integers(0, 256, 768, dtype=np.uint8).tobytes())
    if mode in ("L", "RGB", "P") and draw(st.booleans()):
        image.info["transparency"] = 0 if mode != "RGB" else (0, 0, 0)
    return image


@st.composite
def odd_image_files(draw) -> bytes:
    """An odd image saved in a format its mode allows, sometimes with an EXIF rotation or several frames."""
    image = draw(odd_images())
    fmt = draw(st.sampled_from(FORMATS[image.mode]))
    options: dict = {}
    transparency = image.info.pop("transparency", None)  # Pillow's GIF writer fails on RGB tuples: PNG only
    if transparency is not None and fmt == "PNG":
        options["transparency"] = transparency
    if fmt in ("JPEG", "PNG", "WEBP", "TIFF") and draw(st.booleans()):
        exif = Image.Exif()
        exif[0x0112] = draw(st.integers(0, 9))  # orientation; 0 and 9 are invalid on purpose
        options["exif"] = exif.tobytes()
    if fmt in ("GIF", "TIFF", "WEBP", "PNG") and draw(st.booleans()):
        options |= {"save_all": True, "append_images": [image.transpose(Image.Transpose.ROTATE_180)]}
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def damaged(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    """``data`` truncated to ``cut`` bytes (when shorter) with some bytes XOR-ed."""
    array = bytearray(data[: max(cut, 1)])
    for position, mask in flips:
        array[position % len(array)] ^= mask
    return bytes(array)


def check_decoded(name: str, data: bytes, limits: ImageLimits = SMALL) -> Image.Image | None:
    """Decode ``data``; the property every image case shares."""
    try:
        decoded = decode_image(name, data, limits)
    except UserImageError as error:
        assert str(error).strip(), "the error must say something"
        return None
    assert decoded.image.mode in ("L", "RGB")
    assert max(decoded.image.size) <= limits.max_side and min(decoded.image.size) >= 1
    return decoded.image


def check_prepared(image: Image.Image, size: int, channels: int, crop: bool) -> None:
    """The image goes on to a model: uint8 [1, C, S, S] whatever it was."""
    preprocessing = Preprocessing(image_size=size, channels=channels)
    for tensor in (preprocessing.prepare([image]), prepare_for_model([image], preprocessing, crop_to_ink=crop)):
        assert tensor.dtype == torch.uint8 and tuple(tensor.shape) == (1, channels, size, size)


@fuzz(150)
@given(head=st.sampled_from(MAGIC), tail=st.binary(max_size=600))
def test_random_bytes_decode_to_an_image_or_a_user_image_error(head, tail):
    check_decoded("upload.png", head + tail)


@fuzz(60)
@given(data=odd_image_files(), size=st.sampled_from([1, 5, 28]), channels=st.sampled_from([1, 3]), crop=st.booleans())
def test_odd_image_files_decode_and_prepare_for_a_model(data, size, channels, crop):
    image = check_decoded("odd", data)
    if image is not None:
        box = ink_box(image)
        assert box is None or (0 <= box[0] < box[2] <= image.width and 0 <= box[1] < box[3] <= image.height)
        check_prepared(image, size, channels, crop)


@fuzz(60)
@given(data=odd_image_files(), cut=st.integers(1, 4000), flips=st.lists(st.tuples(st.integers(0, 10**6),
       st.integers(1, 255)), max_size=4))  # fmt: skip
def test_damaged_image_files_decode_or_say_they_are_damaged(data, cut, flips):
    check_decoded("damaged.jpg", damaged(data, cut, flips))


@fuzz(60)
@given(image=odd_images(), size=st.sampled_from([3, 28]), channels=st.sampled_from([1, 3]), crop=st.booleans())
def test_odd_images_in_memory_normalise_and_prepare(image, size, channels, crop):
    try:
        normalised = normalise_image("canvas", image, SMALL).image
    except UserImageError:
        normalised = None
    if normalised is not None:
        assert normalised.mode in ("L", "RGB")
        check_prepared(normalised, size, channels, crop)
    prepared = Preprocessing(image_size=size, channels=channels).prepare([image])  # any mode, straight in
    assert prepared.dtype == torch.uint8 and tuple(prepared.shape) == (1, channels, size, size)


def test_a_very_thin_strip_keeps_at_least_one_pixel_across():
    """Found by the fuzzer: shrinking 2×3000 to 512 made a 0-pixel-wide image that crashed later."""
    buffer = io.BytesIO()
    Image.new("L", (2, 3000), 0).save(buffer, "PNG")
    image = check_decoded("strip.png", buffer.getvalue(), ImageLimits())
    assert image is not None and image.size == (1, 512)
    check_prepared(image, 28, 1, crop=True)


# ---------------------------------------------------------------- class-set zips

ODD_NAMES = ["classes/0/000-a.png", "classes/1/000-b.png", "queries/000-q.png", "manifest.json", "../evil.png",
             "/etc/passwd", "C:\\evil.png", "classes/0/../../x.png", "a\\..\\b.png", "classes/0/0.png\x00.txt",
             ""]  # fmt: skip
MEMBER_NAMES = st.sampled_from(ODD_NAMES) | st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def tiny_png(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (6, 6), value).save(buffer, "PNG")
    return buffer.getvalue()


@st.composite
def manifests(draw, paths: list[str]) -> object:
    """Random JSON, or a class-set manifest with odd values and paths here and there."""
    if draw(st.booleans()):
        return draw(JSON)
    path = st.sampled_from(paths) if paths else MEMBER_NAMES
    files = st.lists(st.fixed_dictionaries({"name": st.text(max_size=12), "path": path | MEMBER_NAMES}), max_size=3)
    manifest = {
        "format": draw(st.sampled_from([FORMAT_NAME, FORMAT_NAME, "other"])),
        "version": draw(st.sampled_from([1, 1, 0, 2, "1", None])),
        "classes": draw(st.lists(st.fixed_dictionaries({"name": st.text(max_size=12), "files": files}), max_size=3)),
        "queries": draw(files),
    }
    if draw(st.booleans()):
        manifest[draw(st.sampled_from(["classes", "queries", "version"]))] = draw(JSON)
    return manifest


def declare_sizes(data: bytes, size: int) -> bytes:
    """Every member's declared (central directory) uncompressed size set to ``size``: a zip-bomb header."""
    array = bytearray(data)
    start = array.find(b"PK\x01\x02")
    while start != -1:
        array[start + 24 : start + 28] = struct.pack("<I", size)
        start = array.find(b"PK\x01\x02", start + 4)
    return bytes(array)


@st.composite
def class_set_zips(draw) -> bytes:
    """A zip with random member names and contents, a random or odd manifest, maybe damaged."""
    members = draw(st.lists(st.tuples(MEMBER_NAMES, st.sampled_from(["png", "bytes", "empty"])), max_size=5))
    buffer = io.BytesIO()
    warnings.filterwarnings("ignore", "Duplicate name", UserWarning)  # duplicates are one of the odd cases
    with zipfile.ZipFile(buffer, "w", draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))) as archive:
        for name, kind in members:
            content = {"png": tiny_png(len(name) * 9 % 256), "empty": b""}.get(kind) or draw(st.binary(max_size=64))
            archive.writestr(zipfile.ZipInfo(name or "x"), content)
        if draw(st.integers(0, 4)):  # usually a manifest
            manifest = draw(manifests([name for name, _ in members]))
            archive.writestr("manifest.json", json.dumps(manifest) if draw(st.integers(0, 5)) else b"\xff{")
    data = buffer.getvalue()
    if draw(st.booleans()):
        data = declare_sizes(data, draw(st.sampled_from([0, 1, 2**31, 2**32 - 1])))
    if draw(st.integers(0, 3)) == 0:
        flips = draw(st.lists(st.tuples(st.integers(0, 10**5), st.integers(1, 255)), max_size=3))
        data = damaged(data, draw(st.integers(1, len(data))), flips)
    return data


TIGHT = ImageLimits(max_file_bytes=200, max_side=16, max_classes=2, max_images_per_class=2, max_query_images=1,
                    max_zip_bytes=4000)  # fmt: skip


def check_class_set_loads(data: bytes, limits: ImageLimits) -> None:
    try:
        class_set = load_class_set(data, limits)
    except ClassSetError as error:
        assert str(error).strip()
        return
    assert isinstance(class_set, ClassSet)
    images = [item.image for user_class in class_set.classes for item in user_class.images]
    assert all(image.mode in ("L", "RGB") for image in images + [item.image for item in class_set.queries])


@fuzz(100)
@given(head=st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06"]), tail=st.binary(max_size=400))
def test_random_bytes_load_as_a_class_set_or_a_class_set_error(head, tail):
    check_class_set_loads(head + tail, ImageLimits())


@fuzz(120)
@given(data=class_set_zips(), tight=st.booleans())
def test_random_zips_load_as_a_class_set_or_a_class_set_error(data, tight):
    check_class_set_loads(data, TIGHT if tight else ImageLimits())


def test_a_saved_class_set_survives_the_zip_fuzzers_checks():
    """The fuzzers' positive case exists: a real saved set passes the same check with classes kept."""
    real = ClassSet([UserClass("a", [NamedImage("a.png", Image.new("L", (8, 8), 9))])])
    check_class_set_loads(save_class_set(real), ImageLimits())
    assert load_class_set(save_class_set(real)).class_names == ["a"]


# ---------------------------------------------------------------- checkpoints

REAL_JSON = json.loads((ASSETS / "protonet-glyphs.json").read_text())
REAL_WEIGHTS = (ASSETS / "protonet-glyphs.safetensors").read_bytes()
HEADER_END = 8 + struct.unpack("<Q", REAL_WEIGHTS[:8])[0]
UNPICKLED: list[str] = []


class Trap:
    """Unpickling this records it: the property asserts nothing ever did."""

    def __reduce__(self):
        return (UNPICKLED.append, ("a checkpoint was unpickled",))


def check_checkpoint_loads(description: bytes, weights: bytes) -> FewShotAlgorithm | None:
    """Write the pair to a fresh folder and load it: a model, or a CheckpointError saying why."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "model.json").write_bytes(description)
        (Path(folder) / "model.safetensors").write_bytes(weights)
        try:
            algorithm, record = load_checkpoint(Path(folder) / "model")
        except CheckpointError as error:
            assert str(error).strip()
            return None
    assert isinstance(algorithm, FewShotAlgorithm) and not algorithm.training and isinstance(record, dict)
    assert not UNPICKLED, UNPICKLED
    return algorithm


def set_field(record: dict, dotted: str, value: object) -> dict:
    """A copy of ``record`` with ``a.b`` set to ``value`` (or deleted when value is ``DELETE``)."""
    record = json.loads(json.dumps(record))
    *parents, key = dotted.split(".")
    target = record
    for parent in parents:
        if not isinstance(target.get(parent), dict):
            target[parent] = {}
        target = target[parent]
    if value is DELETE:
        target.pop(key, None)
    else:
        target[key] = value
    return record


DELETE = object()
FIELDS = ["format", "algorithm", "settings", "preprocessing", "settings.hidden", "settings.backbone",
          "settings.distance", "settings.n_way", "settings.fetch", "preprocessing.image_size",
          "preprocessing.channels", "preprocessing.mean", "preprocessing.std", "training"]  # fmt: skip
FIELD_VALUES = st.one_of(
    st.just(DELETE),
    st.sampled_from([*ALGORITHMS, -1, 0, 1, 3, 10**6, 2**63, 1e308, "64", [], {}, None, [0.1, 0.2, 0.3]]),
    JSON,
)


@st.composite
def tensor_swaps(draw) -> dict[str, torch.Tensor]:
    """The real weights with one tensor dropped, reshaped, retyped or joined by a stranger (a valid file)."""
    state = load_file(str(ASSETS / "protonet-glyphs.safetensors"))
    key = draw(st.sampled_from(sorted(state)))
    change = draw(st.sampled_from(["drop", "shape", "dtype", "extra"]))
    if change == "drop":
        del state[key]
    elif change == "shape":
        state[key] = torch.zeros(draw(st.lists(st.integers(0, 5), max_size=4)))
    elif change == "dtype":
        dtype = draw(st.sampled_from([torch.float16, torch.bfloat16, torch.float64, torch.int8, torch.int64,
                                      torch.bool, torch.uint8]))  # fmt: skip
        state[key] = state[key].to(dtype)
    else:
        state["stranger.weight"] = torch.ones(2)
    return state


@fuzz(80)
@given(description=st.one_of(st.binary(max_size=300), JSON.map(lambda v: json.dumps(v).encode())),
       weights=st.one_of(st.binary(max_size=300), st.just(b"\x80\x04"), st.just(b"PK\x03\x04")))  # fmt: skip
def test_random_bytes_as_a_checkpoint_load_or_raise_a_checkpoint_error(description, weights):
    check_checkpoint_loads(description, weights)


@fuzz(80)
@given(edits=st.lists(st.tuples(st.sampled_from(FIELDS), FIELD_VALUES), min_size=1, max_size=3))
def test_a_real_checkpoint_with_odd_json_loads_or_raises_a_checkpoint_error(edits):
    record = REAL_JSON
    for dotted, value in edits:
        record = set_field(record, dotted, value)
    check_checkpoint_loads(json.dumps(record).encode(), REAL_WEIGHTS)


@fuzz(60)
@given(cut=st.integers(1, len(REAL_WEIGHTS)), flips=st.lists(st.tuples(st.integers(0, HEADER_END + 64),
       st.integers(1, 255)), max_size=4), truncate=st.booleans())  # fmt: skip
def test_damaged_real_weights_load_or_raise_a_checkpoint_error(cut, flips, truncate):
    weights = damaged(REAL_WEIGHTS, cut if truncate else len(REAL_WEIGHTS), flips)
    check_checkpoint_loads(json.dumps(REAL_JSON).encode(), weights)


@fuzz(40)
@given(state=tensor_swaps())
def test_weights_that_do_not_fit_the_architecture_are_refused(state):
    with tempfile.TemporaryDirectory() as folder:
        save_file({k: v.contiguous() for k, v in state.items()}, str(Path(folder) / "w.safetensors"))
        weights = (Path(folder) / "w.safetensors").read_bytes()
    check_checkpoint_loads(json.dumps(REAL_JSON).encode(), weights)


@pytest.mark.parametrize("protocol", [0, 1, 2, 5])
def test_pickles_renamed_to_safetensors_are_refused_and_never_run(protocol):
    for payload in (Trap(), {"state": Trap()}):
        assert check_checkpoint_loads(json.dumps(REAL_JSON).encode(), pickle.dumps(payload, protocol)) is None
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buffer)
    assert check_checkpoint_loads(json.dumps(REAL_JSON).encode(), buffer.getvalue()) is None
    assert not UNPICKLED


def test_the_unmodified_checkpoint_loads():
    """The properties' positive case: the real pair gives a model."""
    assert check_checkpoint_loads(json.dumps(REAL_JSON).encode(), REAL_WEIGHTS) is not None


def test_a_description_asking_for_a_huge_model_is_refused_before_it_is_built():
    huge = set_field(REAL_JSON, "settings.hidden", 100_000)  # ~360 GB of weights were it built
    with pytest.raises(CheckpointError, match="above the 200 MB limit"), tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "m.json").write_text(json.dumps(huge))
        (Path(folder) / "m.safetensors").write_bytes(REAL_WEIGHTS)
        load_checkpoint(Path(folder) / "m")


def test_deeply_nested_json_is_refused_with_a_message():
    assert check_checkpoint_loads(b"[" * 100_000 + b"]" * 100_000, REAL_WEIGHTS) is None
