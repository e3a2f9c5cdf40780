import numpy as np
import pytest
import torch
from PIL import Image

from core.datasets import DatasetSpec, load_dataset, load_folder


def _save(path, mode="RGB", size=(40, 30), colour=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour if mode == "RGB" else colour[0]).save(path)


@pytest.fixture
def photos(tmp_path):
    for name in ("cat", "dog", "owl"):
        for i in range(4):
            _save(tmp_path / name / f"{i}.png")
    return tmp_path


def test_flat_layout_has_every_class_in_split_all(photos):
    dataset = load_folder(photos, image_size=32)
    assert dataset.class_names == ("cat", "dog", "owl")
    assert dataset.split_names == ("all",)
    assert dataset.images.shape == (12, 3, 32, 32) and dataset.images.dtype == torch.uint8
    assert dataset.class_counts.tolist() == [4, 4, 4]


def test_default_size_is_84(photos):
    assert load_folder(photos).image_shape == (3, 84, 84)


def test_split_folders_become_splits(tmp_path):
    for split, classes in {"train": ["a", "b"], "val": ["c", "d"], "test": ["e", "f"]}.items():
        for name in classes:
            _save(tmp_path / split / name / "0.png")
    dataset = load_folder(tmp_path, image_size=16)
    assert dataset.split_names == ("train", "val", "test")
    assert dataset.classes_in("test").tolist() == [4, 5]


def test_grayscale_folders_give_one_channel_and_colour_three(tmp_path):
    for name in ("a", "b"):
        _save(tmp_path / name / "0.png", mode="L")
    assert load_folder(tmp_path, image_size=16).image_shape == (1, 16, 16)
    _save(tmp_path / "b" / "1.png", mode="RGB")
    assert load_folder(tmp_path, image_size=16).image_shape == (3, 16, 16)


def test_aspect_is_kept_by_cropping_not_stretching(tmp_path):
    wide = np.zeros((20, 60, 3), dtype=np.uint8)
    wide[:, 20:40] = 255  # a white square in the middle of a wide black image
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.fromarray(wide).save(tmp_path / name / "0.png")
    image = load_folder(tmp_path, image_size=20).images[0, 0].numpy()
    assert image.mean() > 200, "the centre crop is the white square"


def test_unreadable_files_are_skipped_and_counted(photos):
    (photos / "cat" / "notes.txt").write_text("not an image")
    (photos / "cat" / "broken.png").write_bytes(b"\x89PNG but not really")
    (photos / "dog" / "empty.jpg").write_bytes(b"")
    dataset = load_folder(photos, image_size=16)
    assert sorted(dataset.skipped) == ["cat/broken.png", "cat/notes.txt", "dog/empty.jpg"]
    assert dataset.class_counts.tolist() == [4, 4, 4]


def test_odd_images_are_read(tmp_path):
    _save(tmp_path / "a" / "palette.png", mode="P", colour=(3, 0, 0))
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(tmp_path / "a" / "transparent.png")
    (tmp_path / "b").mkdir()
    Image.fromarray(np.full((12, 12), 40000, dtype=np.uint16)).save(tmp_path / "b" / "deep.png")
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(tmp_path / "b" / "anim.gif", save_all=True, append_images=frames[1:])
    Image.new("CMYK", (9, 9), (0, 0, 0, 0)).save(tmp_path / "b" / "print.jpg")
    Image.new("RGB", (1, 1), (9, 9, 9)).save(tmp_path / "b" / "dot.png")
    dataset = load_folder(tmp_path, image_size=8)
    assert dataset.skipped == () and dataset.class_counts.tolist() == [2, 4]
    transparent = dataset.class_images(0)[1]
    assert transparent.min() == 255, "transparent pixels become white"
    deep = dataset.class_images(1)[1]  # sorted: anim.gif, deep.png, dot.png, print.jpg
    assert 140 < deep.float().mean() < 170, "16-bit values are scaled, not clipped"


def test_cache_notices_new_files(photos):
    assert load_folder(photos, image_size=16).class_counts.tolist() == [4, 4, 4]
    _save(photos / "owl" / "9.png")
    assert load_folder(photos, image_size=16).class_counts.tolist() == [4, 4, 5]


def test_missing_path_says_what_to_give(tmp_path):
    with pytest.raises(
        FileNotFoundError, match="is not a folder; give the path of a folder with one sub-folder per class"
    ):
        load_folder(tmp_path / "nowhere")


def test_one_class_is_refused_with_what_to_do(tmp_path):
    _save(tmp_path / "only" / "0.png")
    with pytest.raises(ValueError, match=r"only one class with images \(only\).*add another sub-folder"):
        load_folder(tmp_path)


def test_no_class_folders_is_refused(tmp_path):
    _save(tmp_path / "loose.png")
    with pytest.raises(ValueError, match="no class folders with files"):
        load_folder(tmp_path)


def test_folders_without_images_are_refused_and_counted(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "readme.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"no readable images .* \(2 files skipped"):
        load_folder(tmp_path)


def test_spec_without_root_is_refused():
    with pytest.raises(ValueError, match="needs a root"):
        load_dataset(DatasetSpec("folder"))
    with pytest.raises(ValueError, match="unknown data source 'mnist'"):
        load_dataset(DatasetSpec("mnist"))
