import dataclasses

import torch

from core.augment import Distortion, distort, distort_episode
from core.episodes import EpisodeSampler
from core.training import TrainConfig, train

STILL = Distortion(rotation_degrees=0, shear=0, scale=(1, 1), shift_pixels_at_28=0, thicker=0, thinner=0)


def _dot(bright_on_dark: bool) -> torch.Tensor:
    image = torch.zeros(1, 1, 28, 28, dtype=torch.uint8)
    image[0, 0, 14, 14] = 255
    return image if bright_on_dark else 255 - image


def test_no_distortion_leaves_images_as_they_are_and_the_same_seed_repeats_the_same_ones(small_glyphs):
    images = small_glyphs.images[:16]
    assert torch.equal(distort(images, torch.Generator().manual_seed(0), STILL), images)
    first = distort(images, torch.Generator().manual_seed(3))
    assert first.dtype == torch.uint8 and first.shape == images.shape and not torch.equal(first, images)
    assert torch.equal(first, distort(images, torch.Generator().manual_seed(3)))
    moved = [not torch.equal(a, b) for a, b in zip(first, images)]
    assert sum(moved) >= 14  # each image its own map


def test_strokes_thicken_whether_bright_on_dark_or_dark_on_bright():
    always_thicker = dataclasses.replace(STILL, thicker=1.0, thinner=-1.0)  # blends drawn from [1, 1]: all thicker
    for bright in (True, False):
        out = distort(_dot(bright), torch.Generator().manual_seed(0), always_thicker)
        ink = out if bright else 255 - out
        assert int((ink > 127).sum()) == 9  # the one-pixel dot became 3x3


def test_training_with_augment_distorts_each_episode_seeded_by_its_index(small_glyphs):
    from core.algorithms import PrototypicalNetworks
    from core.preprocessing import Preprocessing

    model = PrototypicalNetworks(Preprocessing(mean=(0.09,), std=(0.26,)), hidden=8)
    sampler = EpisodeSampler(small_glyphs, "background", 5, 1, 2, seed=4)
    seen = []
    original = model.episode_loss
    model.episode_loss = lambda episode: seen.append(episode) or original(episode)
    list(train(model, sampler, TrainConfig(episodes=2, validate_every=0, augment=True, snapshots=0)))
    assert len(seen) == 2
    for episode in seen:
        plain = sampler.episode(episode.index)
        assert episode.class_ids == plain.class_ids and not torch.equal(episode.support_x, plain.support_x)
        assert torch.equal(episode.query_x, distort_episode(plain, sampler.seed).query_x)


def test_test_time_augmentation_decides_over_the_episode_and_its_distorted_copies(small_glyphs):
    from core.algorithms import PrototypicalNetworks
    from core.augment import predict_over_distortions
    from core.preprocessing import Preprocessing

    torch.manual_seed(0)
    model = PrototypicalNetworks(Preprocessing(mean=(0.09,), std=(0.26,)), hidden=8).eval()
    episode = EpisodeSampler(small_glyphs, "evaluation", 5, 1, 3, seed=2).episode(0)
    assert torch.equal(predict_over_distortions(model, 0)(episode), model.predict_episode(episode))
    averaged = predict_over_distortions(model, 4)
    labels = averaged(episode)
    assert labels.shape == (15,) and torch.equal(labels, averaged(episode))  # seeded copies: the same answer
    total = sum(torch.log_softmax(model(*model.inputs(v)[:3]), 1)
                for v in [episode, *(distort_episode(episode, k) for k in range(1, 5))])  # fmt: skip
    assert torch.equal(labels, total.argmax(1))
