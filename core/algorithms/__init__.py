"""One algorithm per file on a small shared base; ``ALGORITHMS`` maps names to classes."""

from core.algorithms.base import FewShotAlgorithm
from core.algorithms.finetune import FineTuning
from core.algorithms.imagenet_prototypes import ImageNetPrototypes
from core.algorithms.maml import MAML
from core.algorithms.protonet import PrototypicalNetworks
from core.algorithms.relationnet import RelationNetworks

ALGORITHMS: dict[str, type[FewShotAlgorithm]] = {
    PrototypicalNetworks.name: PrototypicalNetworks,
    MAML.name: MAML,
    FineTuning.name: FineTuning,
    RelationNetworks.name: RelationNetworks,
    ImageNetPrototypes.name: ImageNetPrototypes,
}
DISPLAY_NAMES = {
    "protonet": "Prototypical Networks",
    "maml": "MAML",
    "finetune": "pre-trained + fine-tuned",
    "relationnet": "Relation Networks",
    "imagenet": "ImageNet ResNet-18 + prototypes",
}

__all__ = [
    "ALGORITHMS",
    "DISPLAY_NAMES",
    "MAML",
    "FewShotAlgorithm",
    "FineTuning",
    "ImageNetPrototypes",
    "PrototypicalNetworks",
    "RelationNetworks",
]
