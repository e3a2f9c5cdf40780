"""Classify your own images with a trained checkpoint, preprocessing included."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.algorithms import FewShotAlgorithm
from core.checkpoints import load_checkpoint
from core.user.ink import prepare_for_model

ImageLike = Image.Image | torch.Tensor | np.ndarray


@dataclass(frozen=True, eq=False)
class Prediction:
    """Class probabilities of each query; ``classes[j]`` names column ``j``."""

    classes: tuple[Hashable, ...]
    probabilities: torch.Tensor  # float [Q, n_way]

    @property
    def labels(self) -> list[Hashable]:
        """The most probable class of each query."""
        return [self.classes[j] for j in self.probabilities.argmax(1).tolist()]


class Learner:
    """A trained few-shot model with its own preprocessing.

    >>> learner = load_learner("assets/protonet-omniglot")
    >>> prediction = learner.predict(support_images, ["alpha", "beta"], query_images)
    >>> prediction.labels, prediction.probabilities
    """

    def __init__(self, algorithm: FewShotAlgorithm, metadata: dict) -> None:
        self.algorithm, self.metadata = algorithm.eval(), metadata

    @property
    def preprocessing(self):
        return self.algorithm.preprocessing

    @torch.no_grad()
    def predict(
        self,
        support_images: Sequence[ImageLike] | torch.Tensor,
        support_labels: Sequence[Hashable],
        query_images: Sequence[ImageLike] | torch.Tensor,
    ) -> Prediction:
        """Probabilities that each query belongs to each support class.

        Images may be PIL images, uint8 arrays or tensors ([H, W], [H, W, C] or
        [C, H, W]; floats are read as [0, 1]) of any size, mode and polarity. They are
        prepared exactly as the "Your images" page prepares an upload
        (``core.user.prepare_for_model``): standardised, cropped to their ink for
        character models, then resized, converted and inverted the way this model was trained.
        """
        labels = list(support_labels)
        if len(labels) != len(support_images):
            raise ValueError(f"{len(support_images)} support images but {len(labels)} labels; give one label per image")
        classes = tuple(dict.fromkeys(labels))
        if len(classes) < 2:
            raise ValueError("the support set needs at least two classes to choose between")
        if len(query_images) == 0:
            raise ValueError("no query images to classify")
        index = {name: i for i, name in enumerate(classes)}
        support_y = torch.tensor([index[label] for label in labels], device=self.algorithm.device)
        normalise, device = self.preprocessing.normalise, self.algorithm.device
        support_x = normalise(prepare_for_model(support_images, self.preprocessing).to(device))
        query_x = normalise(prepare_for_model(query_images, self.preprocessing).to(device))
        logits = self.algorithm(support_x, support_y, query_x)
        return Prediction(classes, logits.softmax(1).cpu())


def load_learner(path: str | Path, device: str | torch.device = "cpu") -> Learner:
    """Load ``path`` (``name``, ``name.json`` or ``name.safetensors``) as a ready Learner."""
    algorithm, metadata = load_checkpoint(path, device)
    return Learner(algorithm, metadata)
