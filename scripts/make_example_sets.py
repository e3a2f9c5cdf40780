"""Make the example class sets the Your images page loads with one click.

    python -m scripts.make_example_sets [--seed 0]

``assets/examples/symbols.zip``: three classes of hand-drawn-looking symbols (star, spiral,
triangle), 3 support images each, and 4 query images, as a class set (``core.user.save_class_set``).
Each symbol is drawn with PIL as a pen stroke that wobbles, in a dark ink of varying shade and
width, slightly rotated, scaled and shifted, on a light paper-coloured background with a little
shading and noise: a stand-in for symbols drawn on paper and photographed. ``symbols.json``
beside the zip records how it was made. Queries are named after what they show, so a visitor can
check the predictions.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from core.user import ClassSet, NamedImage, UserClass, save_class_set

OUT = Path(__file__).resolve().parents[1] / "assets" / "examples"
SIZE = 160
SHAPES = ("star", "spiral", "triangle")
SUPPORT_PER_CLASS = 3
QUERIES = ("star", "spiral", "triangle", "spiral")


def outline(shape: str, rng: np.random.Generator) -> np.ndarray:
    """The symbol's pen path in unit coordinates (about [-1, 1]), [P, 2]."""
    if shape == "star":  # a five-pointed star drawn in one stroke, as people draw it
        angles = -math.pi / 2 + np.arange(6) * 4 * math.pi / 5
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if shape == "spiral":
        turns = rng.uniform(2.2, 3.0)
        theta = np.linspace(0, 2 * math.pi * turns, 120)
        radius = 0.08 + 0.92 * theta / theta[-1]
        return np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
    if shape == "triangle":
        angles = -math.pi / 2 + np.arange(4) * 2 * math.pi / 3
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)
    raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")


def _densify(path: np.ndarray, step: float = 0.05) -> np.ndarray:
    """Points every ``step`` along the path, so the wobble bends straight lines too."""
    points = [path[0]]
    for start, end in itertools.pairwise(path):
        count = max(1, int(np.linalg.norm(end - start) / step))
        points += [start + (end - start) * t for t in np.linspace(0, 1, count + 1)[1:]]
    return np.array(points)


def _wobble(points: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """A smooth random displacement (noise averaged along the stroke), like a hand's tremor."""
    noise = rng.normal(0, amount, points.shape)
    kernel = np.ones(7) / 7
    smooth = np.stack([np.convolve(noise[:, i], kernel, mode="same") for i in range(2)], axis=1)
    return points + smooth * math.sqrt(7)


def paper(rng: np.random.Generator) -> np.ndarray:
    """A light, slightly tinted and unevenly lit sheet with grain, float [S, S, 3]."""
    tint = np.array([rng.uniform(238, 250), rng.uniform(234, 246), rng.uniform(222, 238)])
    ramp = np.linspace(-1, 1, SIZE)
    angle = rng.uniform(0, 2 * math.pi)
    light = (math.cos(angle) * ramp[None, :] + math.sin(angle) * ramp[:, None]) * rng.uniform(3, 8)
    grain = rng.normal(0, 3.0, (SIZE, SIZE, 1))
    return tint + light[..., None] + grain


def drawing(shape: str, rng: np.random.Generator) -> Image.Image:
    """One hand-drawn-looking ``shape`` on paper, RGB, SIZE x SIZE."""
    points = _wobble(_densify(outline(shape, rng)), rng, rng.uniform(0.01, 0.025))
    angle = rng.uniform(-0.3, 0.3)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    scale = SIZE * rng.uniform(0.28, 0.38) * np.array([rng.uniform(0.85, 1.15), 1.0])
    centre = SIZE / 2 + rng.uniform(-0.08, 0.08, 2) * SIZE
    pixels = (points @ rotation.T) * scale + centre
    ink = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(ink).line([tuple(p) for p in pixels], fill=255, width=int(rng.integers(5, 9)), joint="curve")
    colour = np.array([rng.uniform(20, 60), rng.uniform(25, 60), rng.uniform(50, 110)])  # a ballpoint's blue-black
    alpha = np.asarray(ink, dtype=np.float64)[..., None] / 255 * rng.uniform(0.8, 0.95)
    image = paper(rng) * (1 - alpha) + colour * alpha
    return Image.fromarray(np.clip(image, 0, 255).round().astype(np.uint8), "RGB")


def symbols(seed: int) -> ClassSet:
    """The example set: SUPPORT_PER_CLASS drawings of each shape and the QUERIES, all different draws."""
    rng = np.random.default_rng(seed)
    classes = [UserClass(shape, [NamedImage(f"{shape}-{i + 1}.png", drawing(shape, rng))
                                 for i in range(SUPPORT_PER_CLASS)]) for shape in SHAPES]  # fmt: skip
    queries = [NamedImage(f"query-{i + 1}-{shape}.png", drawing(shape, rng)) for i, shape in enumerate(QUERIES)]
    return ClassSet(classes, queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "symbols.zip").write_bytes(save_class_set(symbols(args.seed)))
    record = {
        "made_by": f"python -m scripts.make_example_sets --seed {args.seed}",
        "date": datetime.date.today().isoformat(),
        "what": "hand-drawn-looking symbols generated with PIL (wobbly pen strokes on noisy paper), not photographs",
        "classes": list(SHAPES), "support_per_class": SUPPORT_PER_CLASS, "queries": list(QUERIES),
        "image_size": SIZE, "seed": args.seed,
    }  # fmt: skip
    (args.out / "symbols.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out / 'symbols.zip'}")


if __name__ == "__main__":
    main()
