import numpy as np
import pytest
import torch

import core.datasets.glyphs as glyphs
from core.datasets import GlyphsConfig, load_glyphs

SMALL = GlyphsConfig(
    n_background_alphabets=2, n_evaluation_alphabets=1, min_characters=4, max_characters=6, drawings_per_character=5
)


def test_same_seed_gives_identical_images_and_names():
    first, second = glyphs.generate_glyphs(SMALL), glyphs.generate_glyphs(SMALL)
    assert torch.equal(first.images, second.images)
    assert first.class_names == second.class_names


def test_another_seed_gives_other_characters():
    other = glyphs.generate_glyphs(GlyphsConfig(**{**SMALL.__dict__, "seed": 1}))
    assert other.class_names != glyphs.generate_glyphs(SMALL).class_names


def test_shapes_dtypes_and_counts():
    dataset = glyphs.generate_glyphs(SMALL)
    assert dataset.images.dtype == torch.uint8 and dataset.images.shape[1:] == (1, 28, 28)
    assert dataset.labels.dtype == torch.int64
    assert 3 * 4 <= dataset.n_classes <= 3 * 6
    assert set(dataset.class_counts.tolist()) == {5}
    assert len(dataset.images) == 5 * dataset.n_classes


def test_splits_are_by_alphabet_and_disjoint():
    dataset = glyphs.generate_glyphs(SMALL)
    alphabet = {
        split: {name.split("/")[0] for name, s in zip(dataset.class_names, dataset.class_splits) if s == split}
        for split in dataset.split_names
    }
    assert set(alphabet) == {"background", "evaluation"}
    assert len(alphabet["background"]) == 2 and len(alphabet["evaluation"]) == 1
    assert not alphabet["background"] & alphabet["evaluation"]


def test_default_has_thousands_of_classes_in_fifty_alphabets():
    config = GlyphsConfig()
    n_alphabets = config.n_background_alphabets + config.n_evaluation_alphabets
    assert n_alphabets == 50 and n_alphabets * config.min_characters >= 1000
    # drawing counts are checked on the small set; generating all 2000+ classes here
    # would repeat what the page tests already pay for.


def test_strokes_are_bright_on_dark_and_antialiased():
    images = glyphs.generate_glyphs(SMALL).images.float()
    ink = (images > 0).float().mean()
    assert 0.03 < ink < 0.4, "mostly dark background with some ink"
    partial = ((images > 0) & (images < 255)).float().sum() / (images > 0).float().sum()
    assert partial > 0.2, "stroke edges are partly covered pixels, not hard 0/255 steps"
    border = torch.cat([images[..., 0, :], images[..., -1, :], images[..., :, 0], images[..., :, -1]], -1)
    assert border.mean() < images.mean(), "glyphs sit inside the frame"


def test_drawings_of_a_class_are_alike_but_not_identical():
    dataset = glyphs.generate_glyphs(SMALL)
    flat = dataset.images.flatten(1).float()
    first_class, second_class = flat[:5], flat[5:10]
    assert not torch.equal(first_class[0], first_class[1])
    within = torch.cdist(first_class, first_class).sum() / 20
    between = torch.cdist(first_class, second_class).mean()
    assert within < between


def test_any_image_size_renders():
    dataset = glyphs.generate_glyphs(GlyphsConfig(**{**SMALL.__dict__, "image_size": 64}))
    assert dataset.images.shape[1:] == (1, 64, 64)


def test_second_load_comes_from_the_cache(monkeypatch):
    config = GlyphsConfig(**{**SMALL.__dict__, "seed": 11})
    first = load_glyphs(config)
    monkeypatch.setattr(glyphs, "generate_glyphs", lambda _: pytest.fail("generated twice"))
    second = load_glyphs(config)
    assert torch.equal(first.images, second.images)
    assert first.class_splits == second.class_splits


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("image_size", 4, "image_size must be at least 8"),
        ("min_characters", 0, "min_characters"),
    ],
)
def test_bad_configs_are_refused(field, value, message):
    with pytest.raises(ValueError, match=message):
        load_glyphs(GlyphsConfig(**{**SMALL.__dict__, field: value}))


def test_render_strokes_draws_a_line_where_it_is():
    line = torch.tensor([[[[-0.5, 0.0], [0.5, 0.0]]]])  # one horizontal stroke through the middle
    image = glyphs.render_strokes(line, torch.tensor([1]), torch.tensor([2.0]), 28)[0, 0].numpy()
    assert image[13:15, 10:18].min() > 200 and image[:8].max() == 0
    assert np.all(image[:, :3] == 0) and np.all(image[:, -3:] == 0)
