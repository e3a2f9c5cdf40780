"""Prototypes on a frozen ImageNet-pretrained ResNet-18: a strong start for photos, no meta-training."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn
from torch.nn import functional as F

from core.algorithms.base import FewShotAlgorithm
from core.algorithms.protonet import PrototypeDistances, PrototypeTrace, compute_prototypes, squared_euclidean
from core.episodes import Episode
from core.errors import CodedError
from core.preprocessing import Preprocessing

WEIGHTS = ("imagenet", "random")
# 160 px, not the weights' own 224: on a 2-core CPU it embeds about twice as many images a
# second (53 vs 25), and ResNet features lose little at this size on photos.
IMAGE_SIZE = 160


def imagenet_weights():
    """torchvision's ``ResNet18_Weights.IMAGENET1K_V1`` (imported here: torchvision adds a second to startup)."""
    from torchvision.models import ResNet18_Weights

    return ResNet18_Weights.IMAGENET1K_V1


class BackboneUnavailable(CodedError, RuntimeError):
    """The ImageNet weights could not be had (offline, download failed); the message says what to do."""


def imagenet_preprocessing(image_size: int = IMAGE_SIZE) -> Preprocessing:
    """RGB squares normalised with the mean and std the ImageNet weights were trained with."""
    transforms = imagenet_weights().transforms()
    return Preprocessing(image_size=image_size, channels=3, bright_on_dark=False,
                         mean=tuple(transforms.mean), std=tuple(transforms.std))  # fmt: skip


def imagenet_weights_path() -> Path:
    """Where torchvision caches (or will cache) the ResNet-18 ImageNet weights: torch's hub dir."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(imagenet_weights().url).path).name


def load_imagenet_backbone(weights: str = "imagenet") -> nn.Module:
    """A frozen ResNet-18 without its classifier: images [N, 3, H, W] -> features [N, 512].

    ``"imagenet"`` reads the weights from torch's hub cache, downloading them there once
    (about 45 MB) and raising ``BackboneUnavailable`` when that fails; ``"random"`` is a
    seeded random initialisation, for tests and offline demonstrations of the mechanics.
    """
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    from torchvision.models import resnet18

    with torch.random.fork_rng(devices=[]):  # the same random net every time, the caller's RNG untouched
        torch.manual_seed(0)
        backbone = resnet18()
    backbone.fc = nn.Identity()
    if weights == "imagenet":
        state = _imagenet_state()
        backbone.load_state_dict({k: v for k, v in state.items() if not k.startswith("fc.")})
    return backbone.requires_grad_(False).eval()


def _imagenet_state() -> dict[str, torch.Tensor]:
    path = imagenet_weights_path()
    cached = path.is_file()
    try:
        # torch downloads to a ``.partial`` file, checks its hash and only then renames it,
        # so a failed download never leaves a file here that the next attempt would trip on.
        return imagenet_weights().get_state_dict(progress=False, check_hash=True, weights_only=True)
    except Exception as error:  # URLError, timeouts, a bad hash; a damaged cached file, any unpickling error
        if cached:
            raise BackboneUnavailable(
                f"The cached ImageNet weights at {path} cannot be read ({type(error).__name__}). Delete that file: "
                "they will download again (about 45 MB) the next time, where there is internet.",
                code="imagenet.unreadable_cache",
                path=str(path),
                kind=type(error).__name__,
            ) from error
        raise BackboneUnavailable(
            f"The ImageNet weights for ResNet-18 (about 45 MB) could not be downloaded ({error}). "
            f"They need internet once; then they stay cached in {path.parent} (under torch.hub.get_dir()) "
            "and load offline. The other models keep working without them.",
            code="imagenet.no_download",
            detail=str(error),
            folder=str(path.parent),
        ) from error


class ImageNetPrototypes(FewShotAlgorithm):
    """Prototype classification on a frozen ResNet-18 pretrained on ImageNet (He et al., 2016).

    Nothing is meta-trained: as in SimpleShot (Wang et al., 2019) the pretrained features are
    L2-normalised, each class's support features are averaged into a prototype, and a query
    goes to the nearest prototype. The network always stays in eval mode, so BatchNorm keeps
    ImageNet's statistics whatever the support set looks like.
    """

    name = "imagenet"

    def __init__(
        self,
        preprocessing: Preprocessing | None = None,
        weights: str = "imagenet",
        scale: float = 10.0,
        fetch: bool = True,
    ) -> None:
        """``fetch=False`` builds the architecture without loading ImageNet's weights: checkpoints
        record it, because their own file holds the weights and must load offline."""
        preprocessing = preprocessing or imagenet_preprocessing()
        if preprocessing.channels != 3:
            raise ValueError(f"the ImageNet backbone takes RGB images (3 channels), got {preprocessing.channels}")
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
        super().__init__(preprocessing, weights=weights, scale=scale, fetch=False)
        self.backbone = load_imagenet_backbone(weights if fetch else "random")
        # Unit features are at most 2 apart (squared distance 4): without a scale the softmax
        # over minus the distances would stay close to uniform. It changes no prediction.
        self.scale = float(scale)
        self.train(False)

    def train(self, mode: bool = True) -> ImageNetPrototypes:
        """Always eval mode: the features are frozen, BatchNorm's running statistics included."""
        return super().train(False)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Normalised images [N, 3, H, W] -> unit-length features [N, 512].

        Unit length because SimpleShot found nearest-prototype accuracy with pretrained
        features clearly better on L2-normalised than on raw features (whose norm tracks
        image statistics more than class); on the unit sphere squared distance is 2 - 2 cos.
        """
        return F.normalize(self.backbone(images), dim=1)

    def distances(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> PrototypeDistances:
        """Squared distances [Q, n_way] between unit features (D = 512) and their class prototypes."""
        n_way = int(support_y.max()) + 1
        support_embeddings, query_embeddings = self.embed(torch.cat([support_x, query_x])).split(
            [len(support_x), len(query_x)]
        )
        prototypes = compute_prototypes(support_embeddings, support_y, n_way)
        return PrototypeDistances(squared_euclidean(query_embeddings, prototypes), support_embeddings, query_embeddings,
                                  prototypes)  # fmt: skip

    def forward(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        return -self.scale * self.distances(support_x, support_y, query_x).distances

    @torch.no_grad()
    def explain(self, episode: Episode) -> PrototypeTrace:
        support_x, support_y, query_x, query_y = self.inputs(episode)
        computed = self.distances(support_x, support_y, query_x)
        return PrototypeTrace.from_distances(computed, -self.scale * computed.distances, support_y, query_y)


def imagenet_prototypes(weights: str = "imagenet", image_size: int = IMAGE_SIZE) -> ImageNetPrototypes:
    """A ready model for RGB photos; raises ``BackboneUnavailable`` when ImageNet weights cannot be had."""
    return ImageNetPrototypes(imagenet_preprocessing(image_size), weights=weights)
