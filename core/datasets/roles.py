"""Which split trains, which selects the model, and which tests it, for any data set."""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.datasets.class_dataset import ALL_SPLITS, ClassDataset
from core.errors import InputError

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
    if dataset.split_names == (ALL_SPLITS,):
        carved = dataset.with_validation_classes(ALL_SPLITS, fraction=0.2, seed=seed, name="test")
        # "all" would still mean every class, test ones included: the rest becomes "train"
        dataset = replace(carved, class_splits=tuple("train" if s == ALL_SPLITS else s for s in carved.class_splits))
    train = next((s for s in (*TRAIN_NAMES, ALL_SPLITS) if s in dataset.split_names), dataset.split_names[0])
    test = next((s for s in TEST_NAMES if s in dataset.split_names), None)
    if test is None:
        raise InputError(f"{dataset.name} has no held-out split (evaluation or test) among {dataset.split_names}",
                         code="dataset.no_held_out", dataset=dataset.name, splits=dataset.split_names)  # fmt: skip
    dataset = dataset.with_validation_classes(train, fraction=0.1, seed=seed)
    return dataset, SplitRoles(train=train, val="val", test=test)


def validation_sampler(
    dataset: ClassDataset, roles: SplitRoles, n_shot: int, n_query: int, seed: int = 1, n_way: int = 5
):
    """Episodes of up to ``n_way`` validation classes, or None when they are too few to validate on."""
    from core.episodes import EpisodeSampler

    n_way = min(n_way, len(dataset.classes_in(roles.val)))
    try:
        return EpisodeSampler(dataset, roles.val, n_way, n_shot, n_query, seed=seed)
    except ValueError:
        return None
