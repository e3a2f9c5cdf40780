"""Which split trains, which selects the model, and which tests it, for any data set."""

from __future__ import annotations

from dataclasses import dataclass

from core.datasets.class_dataset import ALL_SPLITS, ClassDataset

TRAIN_NAMES = ("background", "train")
TEST_NAMES = ("evaluation", "test")


@dataclass(frozen=True)
class SplitRoles:
    train: str
    val: str
    test: str


def assign_roles(dataset: ClassDataset, seed: int = 0) -> tuple[ClassDataset, SplitRoles]:
    """Train, validation and test splits with disjoint classes.

    Uses the data set's own splits where it has them (Omniglot's train/val/test,
    background/evaluation); otherwise holds out a seeded share of the training
    classes: 20% for test when there is only "all", then 10% for validation.
    """
    if ALL_SPLITS in dataset.split_names and len(dataset.split_names) == 1:
        dataset = dataset.with_validation_classes(ALL_SPLITS, fraction=0.2, seed=seed, name="test")
    train = next((s for s in (*TRAIN_NAMES, ALL_SPLITS) if s in dataset.split_names), dataset.split_names[0])
    test = next((s for s in TEST_NAMES if s in dataset.split_names), None)
    if test is None:
        raise ValueError(f"{dataset.name} has no held-out split (evaluation or test) among {dataset.split_names}")
    dataset = dataset.with_validation_classes(train, fraction=0.1, seed=seed)
    return dataset, SplitRoles(train=train, val="val", test=test)
