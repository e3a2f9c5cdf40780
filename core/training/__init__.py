"""Training: the one meta-training loop for every algorithm (``loop``) and the plain pre-training
of the fine-tuning baseline (``pretraining``)."""

from core.training.loop import Progress, TrainConfig, TrainingRun, check_precision, train

__all__ = ["Progress", "TrainConfig", "TrainingRun", "check_precision", "train"]
