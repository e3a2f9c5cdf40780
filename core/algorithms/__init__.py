"""One algorithm per file on a small shared base; ``ALGORITHMS`` maps names to classes."""

from core.algorithms.base import FewShotAlgorithm
from core.algorithms.maml import MAML
from core.algorithms.protonet import PrototypicalNetworks

ALGORITHMS: dict[str, type[FewShotAlgorithm]] = {PrototypicalNetworks.name: PrototypicalNetworks, MAML.name: MAML}
DISPLAY_NAMES = {"protonet": "Prototypical Networks", "maml": "MAML"}

__all__ = ["ALGORITHMS", "DISPLAY_NAMES", "MAML", "FewShotAlgorithm", "PrototypicalNetworks"]
