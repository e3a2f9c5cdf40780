"""Training: the one meta-training loop for every algorithm (``loop``), the weights it keeps along the way
to replay training (``snapshots``), and the plain pre-training of the fine-tuning baseline (``pretraining``)."""

from core.training.loop import Progress, TrainConfig, TrainingRun, check_precision, train
from core.training.snapshots import Snapshot, SnapshotKeeper

__all__ = ["Progress", "Snapshot", "SnapshotKeeper", "TrainConfig", "TrainingRun", "check_precision", "train"]
