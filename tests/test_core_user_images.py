import io
import json
import struct
import zipfile
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from core.preprocessing import Preprocessing
from core.user import (
    FORMAT_NAME,
    ClassSet,
    ClassSetError,
    ImageLimits,
    NamedImage,
    UserClass,
    UserImageError,
    check_class_set,
    decode_image,
    ink_box,
    ink_crop,
    load_class_set,
    looks_blank,
    normalise_image,
    prepare_for_model,
    save_class_set,
)


def _bytes(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares its size but carries no pixels: what a decompression bomb looks like before decoding."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IEND", b"")
    )


def _strokes(mode: str, size=(40, 40), background=0, ink=255) -> Image.Image:
    image = Image.new(mode, size, background)
    ImageDraw.Draw(image).line([(5, 20), (35, 20)], fill=ink, width=3)
    return image


def _refusal(name: str, data: bytes, limits: ImageLimits | None = None) -> str:
    with pytest.raises(UserImageError) as caught:
        decode_image(name, data, limits or ImageLimits())
    message = str(caught.value)
    assert message.startswith(f"{name}: ")
    return message


# decode_image: odd but usable files


def test_16_bit_gradient_maps_to_the_full_8_bit_range():
    gradient = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (8, 1))
    decoded = decode_image("scan.png", _bytes(Image.fromarray(gradient)))
    array = np.asarray(decoded.image)
    assert decoded.image.mode == "L" and decoded.note is None
    assert array.min() == 0 and array.max() == 255
    assert np.all(np.diff(array[0].astype(int)) >= 0)


def test_32_bit_integer_and_float_images_are_scaled_not_clipped():
    ints = Image.fromarray(np.tile(np.arange(0, 200_000, 10_000, dtype=np.int32), (4, 1)))
    floats = Image.fromarray(np.tile(np.linspace(0, 1, 20, dtype=np.float32), (4, 1)))
    for image in (ints, floats):
        array = np.asarray(decode_image("depth.tif", _bytes(image, "TIFF")).image)
        assert array.min() == 0 and array.max() == 255 and len(np.unique(array[0])) == 20


def test_cmyk_jpeg_becomes_rgb_with_black_kept_black():
    image = Image.new("CMYK", (32, 16), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (0, 0, 16, 16))
    decoded = decode_image("print.jpg", _bytes(image, "JPEG", quality=95)).image
    assert decoded.mode == "RGB"
    assert max(decoded.getpixel((4, 8))) < 20 and min(decoded.getpixel((28, 8))) > 235


def test_transparent_drawing_of_black_strokes_becomes_black_on_white():
    drawing = _strokes("RGBA", background=(0, 0, 0, 0), ink=(0, 0, 0, 255))
    decoded = decode_image("drawing.png", _bytes(drawing))
    assert decoded.image.mode == "RGB" and decoded.note is None
    assert decoded.image.getpixel((0, 0)) == (255, 255, 255) and decoded.image.getpixel((20, 20)) == (0, 0, 0)


def test_transparent_drawing_of_white_strokes_goes_on_black_and_says_so():
    drawing = _strokes("LA", background=(0, 0), ink=(255, 255))
    decoded = decode_image("chalk.png", _bytes(drawing))
    assert decoded.image.mode == "L"
    assert decoded.image.getpixel((0, 0)) == 0 and decoded.image.getpixel((20, 20)) == 255
    assert "chalk.png" in decoded.note and "black" in decoded.note


def test_palette_images_with_and_without_transparency():
    plain = _strokes("P", background=1, ink=2)
    plain.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)
    decoded = decode_image("plain.gif", _bytes(plain, "GIF")).image
    assert decoded.mode == "RGB" and decoded.getpixel((0, 0)) == (255, 0, 0)
    assert decoded.getpixel((20, 20)) == (0, 0, 255)
    see_through = _strokes("P", background=0, ink=1)
    see_through.putpalette([200, 200, 200, 0, 0, 0] + [0] * 762)
    decoded = decode_image("icon.png", _bytes(see_through, transparency=0)).image
    assert decoded.getpixel((0, 0)) == (255, 255, 255) and decoded.getpixel((20, 20)) == (0, 0, 0)


def test_one_bit_image_becomes_grayscale_0_and_255():
    decoded = decode_image("fax.bmp", _bytes(_strokes("1", background=1, ink=0), "BMP")).image
    assert decoded.mode == "L" and set(np.unique(np.asarray(decoded))) == {0, 255}


def test_exif_orientation_6_rotates_the_photo_upright():
    photo = Image.new("RGB", (40, 20), (0, 0, 255))
    photo.paste((255, 0, 0), (0, 0, 20, 20))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    decoded = decode_image("phone.jpg", _bytes(photo, "JPEG", exif=exif, quality=95)).image
    assert decoded.size == (20, 40)
    top, bottom = decoded.getpixel((10, 5)), decoded.getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60 and bottom[2] > 200 and bottom[0] < 60


def test_animated_gif_gives_its_first_frame_and_says_so():
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    data = _bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    decoded = decode_image("wave.gif", data)
    assert decoded.image.getpixel((8, 8)) == (255, 0, 0)
    assert "wave.gif" in decoded.note and "first" in decoded.note and "3 frames" in decoded.note


def test_animated_png_and_webp_give_their_first_frame_too():
    frames = [Image.new("RGB", (16, 16), shade) for shade in ((30, 30, 30), (220, 220, 220))]
    for name, fmt in (("blink.png", "PNG"), ("blink.webp", "WEBP")):
        decoded = decode_image(name, _bytes(frames[0], fmt, save_all=True, append_images=frames[1:], lossless=True))
        assert decoded.image.getpixel((8, 8)) == (30, 30, 30) and "first of its 2 frames" in decoded.note


def test_a_two_picture_camera_jpeg_is_not_called_animated():
    pictures = [Image.new("RGB", (16, 16), (200, 0, 0)), Image.new("RGB", (8, 8))]
    decoded = decode_image("camera.jpg", _bytes(pictures[0], "MPO", save_all=True, append_images=pictures[1:]))
    assert decoded.image.size == (16, 16) and decoded.note is None


def test_large_images_are_reduced_to_max_side_keeping_their_shape():
    decoded = decode_image("big.png", _bytes(Image.new("L", (1200, 600), 90))).image
    assert decoded.size == (512, 256)


def test_a_canvas_rgba_array_is_normalised_like_an_upload():
    canvas = np.zeros((30, 30, 4), dtype=np.uint8)
    canvas[10:20, 10:20] = (0, 0, 0, 255)
    decoded = normalise_image("canvas", canvas).image
    assert decoded.getpixel((0, 0)) == (255, 255, 255) and decoded.getpixel((15, 15)) == (0, 0, 0)


# decode_image: refusals, each naming the file and saying what to do


def test_zero_byte_file_is_refused():
    assert "empty" in _refusal("blank.png", b"")


def test_text_file_named_png_is_not_an_image():
    message = _refusal("scan-3.png", b"hello, this is a note\n")
    assert "not an image" in message and "upload the picture itself" in message


def test_truncated_png_and_jpeg_are_damaged():
    noisy = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    for name, fmt in (("cut.png", "PNG"), ("cut.jpg", "JPEG")):
        data = _bytes(noisy, fmt)
        assert "damaged or incomplete" in _refusal(name, data[: len(data) // 2])


def test_corrupt_png_with_a_valid_signature_is_damaged():
    message = _refusal("broken.png", b"\x89PNG\r\n\x1a\n" + bytes(range(200)))
    assert "PNG data is damaged" in message and "upload" in message


def test_heic_photo_gets_an_export_hint():
    assert "export it as JPEG" in _refusal("IMG_0001.heic", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 40)


def test_file_over_the_byte_limit_is_refused_before_decoding():
    message = _refusal("huge.png", b"\x00" * 2001, ImageLimits(max_file_bytes=2000))
    assert "over the 0.002 MB limit" in message and "smaller" in message


def test_decompression_bomb_is_refused_from_its_header_alone():
    assert "resize it" in _refusal("bomb.png", _png_header_only(100_000, 100_000))
    message = _refusal("tall.png", _png_header_only(8000, 8000))
    assert "8000×8000" in message and "40 megapixel limit" in message


def test_pixel_limit_is_a_setting():
    message = _refusal("photo.png", _bytes(Image.new("RGB", (50, 50))), ImageLimits(max_pixels=1000))
    assert "50×50" in message


def test_one_pixel_images_are_refused_two_by_two_accepted():
    assert "too small" in _refusal("dot.png", _bytes(Image.new("L", (1, 1))))
    assert "1×30" in _refusal("line.png", _bytes(Image.new("L", (1, 30))))
    assert decode_image("tiny.png", _bytes(Image.new("L", (2, 2)))).image.size == (2, 2)


def test_messages_show_names_without_their_folders():
    with pytest.raises(UserImageError, match=r"^empty\.png: the file is empty") as caught:
        decode_image("/secret/empty.png", b"")
    assert (caught.value.code, caught.value.params) == ("image.empty", {"name": "empty.png"})


def test_a_refusal_carries_its_numbers_for_other_languages():
    with pytest.raises(UserImageError) as caught:
        decode_image("huge.png", b"\x00" * 2001, ImageLimits(max_file_bytes=2000))
    assert caught.value.code == "image.file_too_large"
    assert caught.value.params == {"name": "huge.png", "size_mb": 0.002001, "limit_mb": 0.002}


# ink_crop and prepare_for_model


def test_ink_crop_gives_a_tight_square_with_margin():
    canvas = Image.new("L", (200, 200), 255)
    canvas.paste(0, (80, 50, 120, 60))  # 40 wide, 10 tall
    cropped = ink_crop(canvas, margin=0.1)
    assert cropped.size == (48, 48) and cropped.mode == "L"
    array = np.asarray(cropped)
    assert array[0].min() == 255 and array[:, 0].min() == 255 and array[24, 24] == 0
    assert (array == 0).sum() == 400


def test_ink_crop_works_for_white_strokes_on_black_and_colour():
    canvas = Image.new("L", (200, 200), 0)
    canvas.paste(255, (80, 50, 120, 60))
    cropped = ink_crop(canvas)
    assert cropped.size == (48, 48) and np.asarray(cropped)[0, 0] == 0 and np.asarray(cropped)[24, 24] == 255
    photo = Image.new("RGB", (100, 100), (120, 160, 90))
    photo.paste((200, 20, 20), (10, 10, 30, 30))
    assert ink_crop(photo, margin=0).size == (20, 20) and ink_crop(photo).getpixel((0, 0)) == (120, 160, 90)


def test_blank_image_is_unchanged_and_looks_blank():
    blank = Image.new("L", (60, 40), 250)
    assert ink_crop(blank) is blank and looks_blank(blank) and ink_box(blank) is None
    assert not looks_blank(_strokes("L")) and ink_box(_strokes("L")) == (5, 19, 36, 22)


def test_prepare_for_model_for_a_glyph_model_crops_and_inverts():
    canvas = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(canvas).line([(90, 90), (110, 110)], fill=0, width=4)
    glyph = Preprocessing()
    cropped = prepare_for_model([canvas, canvas], glyph, crop_to_ink=True)
    whole = prepare_for_model([canvas], glyph, crop_to_ink=False)
    assert cropped.shape == (2, 1, 28, 28) and cropped.dtype == torch.uint8
    assert cropped[0, 0, 0, 0] == 0  # strokes bright on dark, as the model saw them
    assert (cropped[0] > 127).sum() > 4 * (whole[0] > 127).sum()


def test_prepare_for_model_for_an_rgb_model():
    rgb = Preprocessing(image_size=84, channels=3, bright_on_dark=False, mean=(0.5,) * 3, std=(0.25,) * 3)
    images = [Image.new("RGB", (120, 90), (10, 200, 30)), Image.new("L", (50, 50), 128)]
    prepared = prepare_for_model(images, rgb, crop_to_ink=False)
    assert prepared.shape == (2, 3, 84, 84) and prepared.dtype == torch.uint8
    assert prepared[0, :, 40, 40].tolist() == [10, 200, 30]
    with pytest.raises(ValueError, match="add at least one"):
        prepare_for_model([], rgb, crop_to_ink=False)


# class sets


def _named(name: str, shade: int, mode: str = "L") -> NamedImage:
    image = Image.new(mode, (12, 10), shade if mode == "L" else (shade, 255 - shade, 7))
    ink = 255 if shade < 128 else 0  # a dot that stands out, so the image is not blank
    image.putpixel((1, 2), ink if mode == "L" else (ink, ink, ink))
    return NamedImage(name, image)


def _class_set() -> ClassSet:
    return ClassSet(
        classes=[
            UserClass("Zebra", [_named("z 1.png", 10), _named("../z2.JPG", 20, "RGB")]),
            UserClass("ant", [_named("ant.png", 30)]),
            UserClass("Émile", [_named("é.png", 40, "RGB")]),
        ],
        queries=[_named("q.png", 50), _named("q.png", 60)],
    )


def test_a_complete_class_set_has_no_problems():
    assert check_class_set(_class_set()) == []


def test_check_class_set_reports_every_problem_and_keeps_everything():
    class_set = ClassSet(
        classes=[
            UserClass("cat", [_named("a.png", 1)]),
            UserClass(" Cat ", [_named("b.png", 2)]),
            UserClass("  ", [_named("c.png", 3)]),
            UserClass("dog", []),
            UserClass("owl", [_named(f"{i}.png", i) for i in range(4)]),
        ],
        queries=[_named("q.png", 1)] * 3,
    )
    problems = check_class_set(class_set, ImageLimits(max_classes=4, max_images_per_class=3, max_query_images=2))
    assert len(problems) == 6
    assert "5 classes" in problems[0] and "remove 1" in problems[0]
    assert "Class 2 (Cat) has the same name as class 1" in problems[1] and "rename" in problems[1]
    assert "Class 3 has no name" in problems[2]
    assert "Class 4 (dog) has no images" in problems[3]
    assert "Class 5 (owl) has 4 images" in problems[4] and "remove 1" in problems[4]
    assert "3 query images" in problems[5]
    assert len(class_set.classes) == 5 and len(class_set.queries) == 3


def test_one_or_no_class_cannot_classify():
    assert "Only one class (cat)" in check_class_set(ClassSet([UserClass("cat", [_named("a.png", 1)])]))[0]
    assert "No classes yet" in check_class_set(ClassSet())[0]


def test_zip_round_trip_keeps_names_order_and_pixels():
    original = _class_set()
    data = save_class_set(original)
    loaded = load_class_set(data)
    assert loaded.class_names == ["Zebra", "ant", "Émile"] and loaded.notes == []
    for before, after in zip(original.classes, loaded.classes):
        assert [item.name for item in after.images] == [item.name.removeprefix("../") for item in before.images]
        for old, new in zip(before.images, after.images):
            assert new.image.mode == old.image.mode and np.array_equal(np.asarray(new.image), np.asarray(old.image))
    assert [np.asarray(q.image)[5, 5] for q in loaded.queries] == [50, 60]
    assert save_class_set(original) == data  # the same set gives the same bytes
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert all(".." not in name and not name.startswith("/") for name in names)
    assert "classes/0/001-z2.png" in names


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _manifest(files: list[str], queries: list[str] = (), **changes) -> bytes:
    manifest = {"format": FORMAT_NAME, "version": 1, "queries": [{"name": p, "path": p} for p in queries]}
    manifest["classes"] = [{"name": "a", "files": [{"name": p.split("/")[-1], "path": p} for p in files]}]
    return json.dumps(manifest | changes).encode()


def _load_refusal(data: bytes, limits: ImageLimits | None = None) -> str:
    with pytest.raises(ClassSetError) as caught:
        load_class_set(data, limits or ImageLimits())
    return str(caught.value)


def test_load_refuses_what_is_not_a_saved_class_set():
    assert "not a zip" in _load_refusal(np.random.default_rng(1).bytes(500))
    assert "no manifest.json" in _load_refusal(_zip({"cat/1.png": _bytes(Image.new("L", (4, 4)))}))
    assert "not a class-set manifest" in _load_refusal(_zip({"manifest.json": b'{"format": "other"}'}))
    assert "not a class-set manifest" in _load_refusal(_zip({"manifest.json": b"{not json"}))
    assert "newer" in _load_refusal(_zip({"manifest.json": _manifest([], version=7)}))
    assert "damaged" in _load_refusal(_zip({"manifest.json": _manifest(["../../etc/passwd.png"])}))


def test_load_refuses_member_names_pointing_outside():
    good = _bytes(Image.new("L", (4, 4)))
    for bad in ("../evil.png", "/abs.png", "classes/0/../../x.png", "C:/x.png"):
        message = _load_refusal(_zip({"manifest.json": _manifest([]), bad: good}))
        assert "points outside" in message and repr(bad) in message


def test_load_refuses_a_zip_that_unpacks_beyond_the_limit():
    data = _zip({"manifest.json": _manifest([]), "classes/0/000-a.png": b"\x00" * 3_000_000})
    assert len(data) < 10_000 and "unpack to 3 MB" in _load_refusal(data, ImageLimits(max_zip_bytes=2_000_000))
    many = _zip({"manifest.json": _manifest([])} | {f"queries/{i}.png": b"" for i in range(20)})
    assert "21 files" in _load_refusal(many, ImageLimits(max_classes=2, max_images_per_class=2, max_query_images=5))


def test_load_skips_bad_members_with_notes_and_keeps_the_rest():
    good = _bytes(Image.new("L", (6, 6), 77))
    files = ["classes/0/000-good.png", "classes/0/001-bad.png", "classes/0/002-gone.png", "classes/0/003-big.png"]
    members = {files[0]: good, files[1]: good[:40], files[3]: b"\x00" * 2_000_000, "queries/q.png": good}
    data = _zip({"manifest.json": _manifest(files, ["queries/q.png"])} | members)
    loaded = load_class_set(data, ImageLimits(max_file_bytes=1_000_000))
    assert [item.name for item in loaded.classes[0].images] == ["000-good.png"]
    assert np.asarray(loaded.classes[0].images[0].image)[0, 0] == 77 and len(loaded.queries) == 1
    assert len(loaded.notes) == 3 and all(note.startswith("class a: ") and "Skipped" in note for note in loaded.notes)
    assert "001-bad.png: the PNG data is damaged" in loaded.notes[0]
    assert "002-gone.png is listed in manifest.json but missing" in loaded.notes[1]
    assert "003-big.png unpacks to over 1 MB" in loaded.notes[2]
    assert [note.code for note in loaded.notes] == ["class_set.member_unusable", "class_set.member_missing",
                                                    "class_set.member_too_large"]  # fmt: skip
    assert loaded.notes[0].params["reason"].code == "image.damaged"  # the image's own error, coded too


def test_counts_are_pluralised_and_classes_numbered_from_one():
    from core.user.wording import class_label, counted

    assert [counted(n, "image") for n in (0, 1, 2)] == ["0 images", "1 image", "2 images"]
    assert counted(1, "query", "queries") == "1 query" and counted(3, "query", "queries") == "3 queries"
    assert class_label(0, "star") == "Class 1 (star)" and class_label(1, "  ") == "Class 2"
    limits = ImageLimits(max_images_per_class=1)
    owls = [_named(f"{i}.png", i) for i in range(2)]
    owl = ClassSet([UserClass("cat", [_named("a.png", 1)]), UserClass("owl", owls)])
    assert "Class 2 (owl) has 2 images, over the limit of 1" in check_class_set(owl, limits)[0]


def test_long_and_repeated_file_names_are_shortened_to_distinct_labels():
    from core.user.wording import distinct_labels, short_name

    assert short_name("sixteen-chars.pn") == "sixteen-chars.pn"
    assert short_name("a-very-long-file-name.png") == "a-very-long-fil…" and len(short_name("x" * 40)) == 16
    assert distinct_labels(["a-very-long-file-name-1.png", "a-very-long-file-name-2.png", "b.png"]) == [
        "a-very-long-fil…", "a-very-long-fil… (2)", "b.png"
    ]  # fmt: skip


def test_prepare_for_model_treats_a_picture_the_same_whatever_its_form():
    canvas = Image.new("RGBA", (150, 150), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(20, 20), (60, 40)], fill=(0, 0, 0, 255), width=5)
    glyph = Preprocessing()
    from_canvas = prepare_for_model([canvas], glyph)  # the character model's own choice: crop to the ink
    flat = Image.alpha_composite(Image.new("RGBA", canvas.size, "white"), canvas).convert("L")
    assert torch.equal(from_canvas, prepare_for_model([flat], glyph, crop_to_ink=True))
    assert torch.equal(from_canvas, prepare_for_model(torch.from_numpy(np.array(flat))[None, None], glyph))
    assert not torch.equal(from_canvas, prepare_for_model([flat], glyph, crop_to_ink=False))


def _blank_uploads() -> dict[str, bytes]:
    """One file of each kind that decoded to a single colour and was once classified at 100%."""
    cmyk = _bytes(Image.new("CMYK", (64, 48), (10, 200, 30, 0)), "JPEG", quality=90)
    huge = _bytes(Image.new("RGB", (3000, 3000), (90, 140, 200)), "PNG")
    palette = Image.new("P", (40, 40), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.paste(1, (10, 10, 30, 30))  # a red square, but every pixel of it is transparent too
    see_through = _bytes(palette, "PNG", transparency=bytes([0, 0] + [255] * 254))
    transparent = _bytes(_strokes("RGBA", background=(0, 0, 0, 0), ink=(0, 0, 0, 0)), "PNG")
    frames = [Image.new("RGB", (32, 32), (40, 160, 40)), _strokes("RGB", background=(255, 255, 255), ink=(0, 0, 0))]
    gif = _bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return {"cmyk.jpg": cmyk, "huge.png": huge, "palette.png": see_through, "clear.png": transparent, "anim.gif": gif}


@pytest.mark.parametrize("name", ["cmyk.jpg", "huge.png", "palette.png", "clear.png", "anim.gif"])
def test_uploads_of_a_single_colour_look_blank_after_decoding(name):
    decoded = decode_image(name, _blank_uploads()[name]).image
    assert looks_blank(decoded) and NamedImage(name, decoded).blank


def test_a_drawing_and_a_low_contrast_scan_of_one_are_not_blank():
    drawing = decode_image("drawing.png", _bytes(_strokes("RGBA", background=(0, 0, 0, 0), ink=(0, 0, 0, 255))))
    assert not looks_blank(drawing.image)
    pencil = decode_image("pencil.jpg", _bytes(_strokes("L", background=230, ink=150), "JPEG", quality=90))
    assert not NamedImage("pencil.jpg", pencil.image).blank


def test_blank_support_images_are_left_out_unless_the_class_keeps_them():
    from core.algorithms.protonet import PrototypicalNetworks
    from core.user.classify import class_set_episode, classify

    blank, drawn = NamedImage("blank.png", Image.new("L", (40, 40), 255)), NamedImage("a.png", _strokes("L"))
    other = NamedImage("b.png", _strokes("L", background=255, ink=0).rotate(90))
    star = UserClass("star", [drawn, blank])
    class_set = ClassSet([star, UserClass("bar", [other])], [blank, drawn])
    model = PrototypicalNetworks(Preprocessing(image_size=28, channels=1, bright_on_dark=True))
    assert class_set_episode(class_set, model).support_x.shape[0] == 2
    star.keep_blank = True
    assert class_set_episode(class_set, model).support_x.shape[0] == 3
    assert classify(class_set, model).blank_queries == (True, False)
    only_blank = ClassSet([UserClass("empty", [blank]), UserClass("bar", [other])], [drawn])
    assert any("only blank images" in p and "empty" in p for p in check_class_set(only_blank))
