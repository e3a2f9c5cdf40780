"""``Learner.predict`` prepares pictures exactly the way the "Your images" page does."""

import io
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw

from core import load_learner
from core.checkpoints import load_checkpoint
from core.preprocessing import Preprocessing
from core.user import ClassSet, NamedImage, UserClass, crops_to_ink, decode_image
from core.user.classify import classify

ASSETS = Path(__file__).resolve().parents[1] / "assets"
SHAPES = ("cross", "ring", "zigzag")


def shipped(name: str) -> Path:
    if not (ASSETS / f"{name}.safetensors").exists():
        pytest.skip(f"assets/{name} is not there (python -m scripts.make_assets makes it)")
    return ASSETS / name


def drawing(shape: str, size: int, box: tuple[int, int, int, int], mode: str = "RGB") -> Image.Image:
    """Dark strokes of ``shape`` inside ``box`` on a light (or, for RGBA, transparent) canvas of ``size``."""
    background = (0, 0, 0, 0) if mode == "RGBA" else (245, 245, 240)
    image = Image.new(mode, (size, size), background)
    pen, (left, top, right, bottom) = ImageDraw.Draw(image), box
    width, ink = max(2, (right - left) // 12), (20, 20, 30, 255) if mode == "RGBA" else (20, 20, 30)
    if shape == "cross":
        pen.line([(left, top), (right, bottom)], fill=ink, width=width)
        pen.line([(left, bottom), (right, top)], fill=ink, width=width)
    elif shape == "ring":
        pen.ellipse(box, outline=ink, width=width)
    else:
        step = (right - left) / 4
        points = [(left + i * step, top if i % 2 == 0 else bottom) for i in range(5)]
        pen.line(points, fill=ink, width=width)
    return image


def uploaded(name: str, image: Image.Image) -> Image.Image:
    """The image as the page holds it after a visitor uploads it as a PNG."""
    data = io.BytesIO()
    image.save(data, format="PNG")
    return decode_image(name, data.getvalue()).image


@pytest.fixture(scope="module")
def pictures() -> tuple[list[Image.Image], list[str], list[Image.Image]]:
    """Two drawings of each shape at different sizes and places, and three queries, one on a transparent canvas."""
    support, labels = [], []
    for shape in SHAPES:
        support += [drawing(shape, 300, (40, 60, 120, 140)), drawing(shape, 120, (30, 20, 100, 90))]
        labels += [shape, shape]
    queries = [
        drawing("ring", 500, (300, 300, 380, 380)),
        drawing("zigzag", 200, (10, 120, 60, 170), mode="RGBA"),
        drawing("cross", 64, (8, 8, 56, 56)),
    ]
    return support, labels, queries


def test_learner_and_the_page_give_identical_predictions(pictures):
    support, labels, queries = pictures
    path = shipped("protonet-omniglot")
    classes = [
        UserClass(shape, [uploaded(f"{shape}-{i}.png", image) for i, image in enumerate(support) if labels[i] == shape])
        for shape in SHAPES
    ]
    class_set = ClassSet(
        [UserClass(c.name, [NamedImage(f"{c.name}-{i}.png", image) for i, image in enumerate(c.images)])
         for c in classes],
        [NamedImage(f"query-{i}.png", uploaded(f"query-{i}.png", image)) for i, image in enumerate(queries)],
    )  # fmt: skip
    page = classify(class_set, load_checkpoint(path)[0])
    python = load_learner(path).predict(support, labels, queries)
    assert python.classes == page.class_names == SHAPES
    assert python.labels == [SHAPES[k] for k in page.predictions.tolist()]
    torch.testing.assert_close(python.probabilities, page.probabilities, rtol=0, atol=1e-6)


def test_learner_crops_a_small_drawing_like_a_large_one(pictures):
    support, labels, _ = pictures
    learner = load_learner(shipped("protonet-omniglot"))
    small = drawing("ring", 400, (20, 300, 70, 350))
    large = drawing("ring", 100, (10, 10, 90, 90))
    both = learner.predict(support, labels, [small, large]).probabilities
    assert learner.predict(support, labels, [small]).labels == ["ring"]
    torch.testing.assert_close(both[0], both[1], rtol=0, atol=0.05)


def test_only_character_models_crop_to_ink():
    assert crops_to_ink(Preprocessing(bright_on_dark=True))
    assert not crops_to_ink(Preprocessing(image_size=84, channels=3, bright_on_dark=False))
