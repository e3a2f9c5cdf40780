"""One algorithm per file on a small shared base; ``ALGORITHMS`` maps names to classes."""

from core.algorithms.base import FewShotAlgorithm
from core.algorithms.protonet import PrototypicalNetworks

ALGORITHMS: dict[str, type[FewShotAlgorithm]] = {PrototypicalNetworks.name: PrototypicalNetworks}
DISPLAY_NAMES = {"protonet": "Prototypical Networks"}

__all__ = ["ALGORITHMS", "DISPLAY_NAMES", "FewShotAlgorithm", "PrototypicalNetworks"]
