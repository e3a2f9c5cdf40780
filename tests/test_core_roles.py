import torch

from core.datasets.class_dataset import from_class_lists
from core.datasets.roles import assign_roles, validation_sampler


def _dataset(splits):
    per_class = [torch.zeros(6, 1, 2, 2, dtype=torch.uint8) for _ in splits]
    return from_class_lists("d", per_class, [f"c{i}" for i in range(len(splits))], splits)


def _disjoint(dataset, roles):
    groups = [set(dataset.classes_in(s).tolist()) for s in (roles.train, roles.val, roles.test)]
    return all(groups) and not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])


def test_an_unsplit_folder_gets_disjoint_train_val_and_test_classes():
    dataset, roles = assign_roles(_dataset(["all"] * 20))
    assert (roles.train, roles.val, roles.test) == ("train", "val", "test")
    assert _disjoint(dataset, roles)
    assert [len(dataset.classes_in(s)) for s in ("train", "val", "test")] == [14, 2, 4]


def test_existing_splits_are_used_and_val_is_carved_from_training_classes():
    dataset, roles = assign_roles(_dataset(["background"] * 30 + ["evaluation"] * 10))
    assert (roles.train, roles.test) == ("background", "evaluation") and _disjoint(dataset, roles)
    vinyals, roles = assign_roles(_dataset(["train"] * 8 + ["val"] * 3 + ["test"] * 4))
    assert len(vinyals.classes_in("val")) == 3 and _disjoint(vinyals, roles)


def test_validation_is_skipped_when_too_few_classes_are_held_out():
    dataset, roles = assign_roles(_dataset(["all"] * 6))
    assert validation_sampler(dataset, roles, 1, 1) is None
    dataset, roles = assign_roles(_dataset(["all"] * 40))
    assert validation_sampler(dataset, roles, 1, 1).n_way == 3
