"""From stored uint8 images to network inputs, and from arbitrary images to stored form.

A model's preprocessing travels with its checkpoint, so callers never guess size,
channels, inversion or normalisation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from PIL import Image

from core.datasets.images import fit_square, to_chw, to_mode
from core.episodes import Episode


@dataclass(frozen=True)
class Preprocessing:
    """How images are turned into this model's inputs.

    Attributes:
        image_size: side of the square input.
        channels: 1 (grayscale) or 3 (RGB).
        bright_on_dark: the model saw strokes bright on a dark background (glyphs,
            Omniglot); images with a light background are inverted to match.
        mean, std: per-channel normalisation of [0, 1] pixel values.
    """

    image_size: int = 28
    channels: int = 1
    bright_on_dark: bool = True
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 [N, C, H, W] -> float inputs, (x / 255 - mean) / std per channel."""
        mean = torch.tensor(self.mean, device=images.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=images.device).view(1, -1, 1, 1)
        return (images.float() / 255 - mean) / std

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Preprocessing:
        known = {k: values[k] for k in ("image_size", "channels", "bright_on_dark", "mean", "std") if k in values}
        for key in ("mean", "std"):
            if key in known:
                known[key] = tuple(float(v) for v in known[key])
        return cls(**known)

    def prepare(self, images: list[Image.Image | torch.Tensor | np.ndarray] | torch.Tensor) -> torch.Tensor:
        """Images of any size, mode or polarity -> uint8 [N, C, S, S] in this model's form."""
        if isinstance(images, torch.Tensor) and images.dim() == 4:
            images = list(images)
        return torch.stack([self._prepare_one(image) for image in images])

    def _prepare_one(self, image: Image.Image | torch.Tensor | np.ndarray) -> torch.Tensor:
        pil = to_pil(image)
        array = to_chw(fit_square(to_mode(pil, self.channels), self.image_size))
        if self.bright_on_dark and _has_light_background(array):
            array = 255 - array
        return torch.from_numpy(array.copy())


def adapt_episode(episode: Episode, preprocessing: Preprocessing) -> Episode:
    """The episode with its images in the model's form (size, channels, polarity), when they differ."""
    target = (preprocessing.channels, preprocessing.image_size, preprocessing.image_size)
    if tuple(episode.support_x.shape[1:]) == target:
        return episode
    return replace(episode, support_x=preprocessing.prepare(episode.support_x),
                   query_x=preprocessing.prepare(episode.query_x))  # fmt: skip


def fitted_preprocessing(images: torch.Tensor, bright_on_dark: bool) -> Preprocessing:
    """Preprocessing whose normalisation is measured on ``images`` (uint8 [N, C, H, W])."""
    values = images.float() / 255
    mean = values.mean(dim=(0, 2, 3))
    std = values.std(dim=(0, 2, 3)).clamp_min(1e-3)
    return Preprocessing(
        image_size=images.shape[-1], channels=images.shape[1], bright_on_dark=bright_on_dark,
        mean=tuple(round(float(m), 5) for m in mean), std=tuple(round(float(s), 5) for s in std),
    )  # fmt: skip


def to_pil(image: Image.Image | torch.Tensor | np.ndarray) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    array = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if array.dtype != np.uint8:
        array = (np.clip(array, 0, 1) * 255).round().astype(np.uint8)  # floats are taken as [0, 1]
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
        array = array.transpose(1, 2, 0)  # [C, H, W] -> [H, W, C]
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3):
        raise ValueError(f"an image must be [H, W], [H, W, C] or [C, H, W]; got shape {array.shape}")
    return Image.fromarray(array)


def _has_light_background(array: np.ndarray) -> bool:
    """Whether the border of a uint8 [C, H, W] image is mostly light (ink on paper)."""
    border = np.concatenate([array[:, 0], array[:, -1], array[:, :, 0], array[:, :, -1]], axis=None)
    return float(np.median(border)) > 127
