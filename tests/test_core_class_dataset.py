import pytest
import torch

from core.datasets.class_dataset import ClassDataset, from_class_lists


def test_classes_are_contiguous_rows():
    per_class = [torch.full((n, 1, 2, 2), c, dtype=torch.uint8) for c, n in enumerate((3, 1, 2))]
    dataset = from_class_lists("d", per_class, ["a", "b", "c"], ["s", "t", "s"])
    assert dataset.class_offsets.tolist() == [0, 3, 4, 6]
    assert dataset.class_images(2).unique().tolist() == [2]
    assert dataset.classes_in("s").tolist() == [0, 2]
    assert dataset.split_names == ("s", "t")
    assert dataset.summary()[0] == {
        "split": "s",
        "classes": 2,
        "images": 5,
        "images per class (min)": 2,
        "images per class (median)": 2.5,
        "images per class (max)": 3,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"images": torch.zeros(2, 1, 2, 2)}, "uint8 tensor"),
        ({"labels": torch.tensor([1, 0])}, "sorted class indices"),
        ({"labels": torch.tensor([0])}, "2 images but 1 labels"),
        ({"class_splits": ("s",)}, "2 class names but 1 class splits"),
    ],
)
def test_inconsistent_data_is_refused(kwargs, message):
    fields = {
        "name": "d",
        "images": torch.zeros(2, 1, 2, 2, dtype=torch.uint8),
        "labels": torch.tensor([0, 1]),
        "class_names": ("a", "b"),
        "class_splits": ("s", "s"),
    }
    with pytest.raises(ValueError, match=message):
        ClassDataset(**{**fields, **kwargs})


def test_validation_classes_are_carved_from_one_split_without_copying():
    per_class = [torch.full((2, 1, 2, 2), c, dtype=torch.uint8) for c in range(20)]
    dataset = from_class_lists("d", per_class, [str(c) for c in range(20)], ["train"] * 15 + ["test"] * 5)
    carved = dataset.with_validation_classes("train", fraction=0.2, seed=3)
    assert len(carved.classes_in("val")) == 3 and len(carved.classes_in("train")) == 12
    assert set(carved.classes_in("val")) < set(dataset.classes_in("train"))
    assert carved.images.data_ptr() == dataset.images.data_ptr()
    assert carved.with_validation_classes("train") is carved
    assert carved.classes_in("test").tolist() == dataset.classes_in("test").tolist()


def test_split_images_come_only_from_that_split():
    per_class = [torch.full((3, 1, 1, 1), c, dtype=torch.uint8) for c in range(4)]
    dataset = from_class_lists("d", per_class, list("abcd"), ["test", "train", "test", "train"])
    assert sorted(dataset.split_images("train").flatten().tolist()) == [1, 1, 1, 3, 3, 3]
    assert len(dataset.split_images("train", limit=4)) == 4


def test_a_plus_joins_splits_into_one_set_of_classes():
    per_class = [torch.full((2, 1, 1, 1), c, dtype=torch.uint8) for c in range(5)]
    dataset = from_class_lists("d", per_class, list("abcde"), ["train", "val", "test", "train", "val"])
    assert dataset.classes_in("train+val").tolist() == [0, 1, 3, 4]
    with pytest.raises(ValueError, match="no split 'nope'"):
        dataset.classes_in("train+nope")
