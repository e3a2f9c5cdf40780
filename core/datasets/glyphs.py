"""Glyphs: procedural handwritten-like characters, the data set that works offline.

A *character* (one class) is 1 to 4 smooth pen strokes, each a cubic Bezier curve.
Characters come in *alphabets* that share a stroke style (pen width, curviness,
preferred stroke directions, stroke length, how often strokes join or close into
loops, slant). Each *drawing* of a character redraws it the way a person would:
the control points move a little, the pen width changes, and the whole glyph is
rotated, scaled, sheared and shifted slightly. Strokes are rendered antialiased from
their exact distance to each pixel, bright on a dark background like Omniglot.

Everything is deterministic in ``seed``; alphabets are split into background and
evaluation sets, as Omniglot's are, so evaluation characters are never seen in
training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from core.datasets.cache import cached
from core.datasets.class_dataset import ClassDataset

GENERATOR_VERSION = 1
MAX_STROKES = 4
POINTS_PER_STROKE = 14
# How much one drawing of a character differs from another: control points and whole
# strokes move (in units of half the image), the pen changes, the glyph is rotated,
# scaled, sheared and shifted. Tuned so nearest neighbour on pixels does about as
# badly here as on Omniglot (benchmarks/pixel_baseline.py).
JITTER = {
    "point": 0.05,
    "stroke": 0.03,
    "pen": (0.6, 1.5),
    "degrees": 10.0,
    "scale": (0.8, 1.2),
    "shear": 0.12,
    "shift": 0.12,
}
SYLLABLES = [
    "ka",
    "ri",
    "to",
    "ve",
    "na",
    "lu",
    "mo",
    "shi",
    "ze",
    "ra",
    "el",
    "an",
    "or",
    "ith",
    "ul",
    "ban",
    "dor",
    "kes",
    "mir",
    "tal",
    "vin",
    "yr",
    "qua",
    "zo",
    "fen",
    "gal",
    "hu",
    "ost",
    "pra",
    "sel",
]


@dataclass(frozen=True)
class GlyphsConfig:
    """What determines a glyphs data set; equal configs give identical images."""

    seed: int = 0
    n_background_alphabets: int = 30
    n_evaluation_alphabets: int = 20
    min_characters: int = 25
    max_characters: int = 60
    drawings_per_character: int = 20
    image_size: int = 28


def load_glyphs(config: GlyphsConfig = GlyphsConfig()) -> ClassDataset:
    """The glyphs data set for ``config``, generated once and then read from the cache."""
    if config.image_size < 8:
        raise ValueError(f"image_size must be at least 8 pixels, got {config.image_size}")
    if not 1 <= config.min_characters <= config.max_characters:
        raise ValueError("need 1 <= min_characters <= max_characters")
    parts = {"version": GENERATOR_VERSION, **asdict(config)}
    return cached("glyphs", parts, lambda: generate_glyphs(config))


def generate_glyphs(config: GlyphsConfig) -> ClassDataset:
    """Generate every drawing of every character (no cache)."""
    n_alphabets = config.n_background_alphabets + config.n_evaluation_alphabets
    controls, masks, class_names, class_splits, widths = [], [], [], [], []
    for alphabet in range(n_alphabets):
        rng = np.random.default_rng([config.seed, alphabet])
        style = _alphabet_style(rng)
        name = _alphabet_name(rng)
        n_chars = int(rng.integers(config.min_characters, config.max_characters + 1))
        split = "background" if alphabet < config.n_background_alphabets else "evaluation"
        for char in range(n_chars):
            points, mask = _character(rng, style)
            controls.append(points)
            masks.append(mask)
            widths.append(style["width"])
            class_names.append(f"{name}/character{char + 1:02d}")
            class_splits.append(split)
    rng = np.random.default_rng([config.seed, n_alphabets, 7])
    images = _draw_all(rng, np.stack(controls), np.stack(masks), np.array(widths), config)
    n_draw = config.drawings_per_character
    return ClassDataset(
        name="glyphs",
        images=images,
        labels=torch.arange(len(class_names)).repeat_interleave(n_draw),
        class_names=tuple(class_names),
        class_splits=tuple(class_splits),
        split_scheme=(
            f"glyphs seed {config.seed}: {config.n_background_alphabets} background / "
            f"{config.n_evaluation_alphabets} evaluation alphabets"
        ),
    )


def _alphabet_name(rng: np.random.Generator) -> str:
    return "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 4)))).capitalize()


def _alphabet_style(rng: np.random.Generator) -> dict:
    quantum = rng.choice([0.0, np.pi / 4, np.pi / 2, np.pi / 3], p=[0.4, 0.25, 0.2, 0.15])
    return {
        "width": rng.uniform(1.4, 2.6),
        "curviness": rng.uniform(0.05, 0.6),
        "angle_quantum": quantum,
        "stroke_length": rng.uniform(0.8, 1.5),
        "closure": rng.uniform(0.0, 0.35),
        "connect": rng.uniform(0.2, 0.8),
        "stroke_weights": rng.dirichlet(np.ones(MAX_STROKES) * 1.5),
        "slant": rng.uniform(-0.3, 0.3),
    }


def _character(rng: np.random.Generator, style: dict) -> tuple[np.ndarray, np.ndarray]:
    """Control points [MAX_STROKES, 4, 2] in [-1, 1] and a stroke mask [MAX_STROKES]."""
    n_strokes = int(rng.choice(np.arange(1, MAX_STROKES + 1), p=style["stroke_weights"]))
    points = np.zeros((MAX_STROKES, 4, 2))
    for s in range(n_strokes):
        if s and rng.random() < style["connect"]:
            t = rng.choice([0.0, 0.5, 1.0])
            start = _bezier(points[rng.integers(s)][None], np.array([t]))[0, 0]
        else:
            start = rng.uniform(-0.7, 0.7, size=2)
        angle = rng.uniform(0, 2 * np.pi)
        if style["angle_quantum"]:
            angle = np.round(angle / style["angle_quantum"]) * style["angle_quantum"]
        length = style["stroke_length"] * rng.uniform(0.6, 1.3)
        direction = np.array([np.cos(angle), np.sin(angle)])
        normal = np.array([-direction[1], direction[0]])
        if rng.random() < style["closure"]:  # a loop: out and back to near the start
            end = start + 0.1 * rng.normal(size=2)
            bulge = length * rng.uniform(0.5, 0.8)
            c1 = start + direction * length * 0.6 + normal * bulge
            c2 = start + direction * length * 0.6 - normal * bulge
        else:
            end = start + direction * length
            bend = style["curviness"] * length * rng.normal(size=2)
            c1 = start + direction * length / 3 + normal * bend[0]
            c2 = start + direction * length * 2 / 3 + normal * bend[1]
        points[s] = [start, c1, c2, end]
    points[:, :, 0] += style["slant"] * points[:, :, 1]
    mask = np.arange(MAX_STROKES) < n_strokes
    return _fit_box(points, mask), mask


def _fit_box(points: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Centre the character and scale its larger side into [1.2, 1.5] (of the 2-unit box)."""
    curve = _bezier(points[mask], np.linspace(0, 1, POINTS_PER_STROKE)).reshape(-1, 2)
    low, high = curve.min(0), curve.max(0)
    extent = max(float((high - low).max()), 1e-6)
    scale = float(np.clip(extent, 1.2, 1.5)) / extent
    fitted = (points - (low + high) / 2) * scale
    fitted[~mask] = 0.0
    return fitted


def _bezier(points: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Cubic Bezier curves [..., 4, 2] evaluated at t [T] -> [..., T, 2]."""
    t = t[:, None]
    basis = [(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3]
    return sum(b * points[..., i : i + 1, :] for i, b in enumerate(basis))


def _draw_all(
    rng: np.random.Generator,
    controls: np.ndarray,
    masks: np.ndarray,
    widths: np.ndarray,
    config: GlyphsConfig,
) -> torch.Tensor:
    """Jitter every character into its drawings and render them: uint8 [M, 1, S, S]."""
    n_chars, n_draw = len(controls), config.drawings_per_character
    shape = (n_chars, n_draw, MAX_STROKES)
    jittered = (
        controls[:, None]
        + rng.normal(0, JITTER["point"], size=shape + (4, 2))
        + rng.normal(0, JITTER["stroke"], size=shape + (1, 2))
    )
    affine = _random_affines(rng, n_chars * n_draw).reshape(n_chars, n_draw, 1, 1, 2, 3)
    jittered = (affine[..., :2] @ jittered[..., None])[..., 0] + affine[..., 2]
    curves = _bezier(jittered, np.linspace(0, 1, POINTS_PER_STROKE))  # [N, D, K, T, 2]
    pen = widths[:, None] * rng.uniform(*JITTER["pen"], size=(n_chars, n_draw))
    n_strokes = np.repeat(masks.sum(1), n_draw)
    return render_strokes(
        torch.from_numpy(curves.reshape(n_chars * n_draw, MAX_STROKES, POINTS_PER_STROKE, 2)),
        torch.from_numpy(n_strokes),
        torch.from_numpy(pen.reshape(-1)),
        config.image_size,
    )


def _random_affines(rng: np.random.Generator, n: int) -> np.ndarray:
    """[n, 2, 3] small rotations, scalings, shears and shifts."""
    angle = rng.normal(0, np.deg2rad(JITTER["degrees"]), n)
    scale = rng.uniform(*JITTER["scale"], size=(n, 2))
    shear = rng.normal(0, JITTER["shear"], n)
    shift = rng.normal(0, JITTER["shift"], (n, 2))
    cos, sin = np.cos(angle), np.sin(angle)
    linear = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    linear = linear @ np.stack(
        [np.stack([scale[:, 0], shear * scale[:, 1]], -1), np.stack([np.zeros(n), scale[:, 1]], -1)], -2
    )
    return np.concatenate([linear, shift[:, :, None]], axis=-1)


def render_strokes(
    curves: torch.Tensor,
    n_strokes: torch.Tensor,
    pen_width: torch.Tensor,
    size: int,
    chunk: int = 128,
) -> torch.Tensor:
    """Render polylines antialiased, bright on dark.

    Args:
        curves: float [N, K, T, 2] points of up to K strokes in [-1, 1] coordinates.
        n_strokes: int [N], how many of the K strokes each drawing uses (the first ones).
        pen_width: float [N], pen width in pixels at 28x28 (scaled with ``size``).
        size: output side in pixels.

    Returns:
        uint8 [N, 1, size, size]; a pixel's value is the pen's coverage of it.
    """
    centres = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    grid_y, grid_x = (g.reshape(1, 1, -1) for g in torch.meshgrid(centres, centres, indexing="ij"))
    out = torch.empty(len(curves), size * size, dtype=torch.uint8)
    half_width = pen_width.float() * size / 28 / 2
    for k in n_strokes.unique().tolist():
        rows = torch.nonzero(n_strokes == k).flatten()
        for group in rows.split(chunk):
            c = curves[group, :k].float()
            a, b = c[:, :, :-1].flatten(1, 2), c[:, :, 1:].flatten(1, 2)  # [n, S, 2]
            ab_x, ab_y = (b - a).unbind(-1)
            inv_len2 = 1 / (ab_x * ab_x + ab_y * ab_y).clamp_min(1e-12)
            ap_x = grid_x - a[:, :, 0:1]  # [n, S, P]
            ap_y = grid_y - a[:, :, 1:2]
            t = ((ap_x * ab_x[..., None] + ap_y * ab_y[..., None]) * inv_len2[..., None]).clamp_(0, 1)
            ap_x.sub_(t * ab_x[..., None])
            ap_y.sub_(t * ab_y[..., None])
            dist = (ap_x.square_() + ap_y.square_()).amin(1).sqrt_() * (size / 2)
            coverage = (half_width[group, None] + 0.5 - dist).clamp_(0, 1)
            out[group] = (coverage * 255).round_().to(torch.uint8)
    return out.view(-1, 1, size, size)
