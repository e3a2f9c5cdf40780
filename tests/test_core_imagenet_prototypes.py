import io
from email.message import Message
from urllib.error import URLError

import pytest
import torch
from PIL import Image
from torch import nn

from core.algorithms import ALGORITHMS, DISPLAY_NAMES
from core.algorithms.imagenet_prototypes import (
    BackboneUnavailable,
    ImageNetPrototypes,
    imagenet_preprocessing,
    imagenet_prototypes,
    imagenet_weights_path,
    load_imagenet_backbone,
)
from core.algorithms.protonet import compute_prototypes
from core.checkpoints import load_checkpoint, save_checkpoint
from core.episodes import Episode
from core.preprocessing import Preprocessing


@pytest.fixture(scope="module")
def model():
    # 64 px instead of the default 160 keeps the tests fast; the mechanics are the same.
    return ImageNetPrototypes(imagenet_preprocessing(64), weights="random")


def colour_images(colours, per_class, seed, width=30):
    """Solid squares of slightly jittered colours, in sizes that differ: preprocessing must fit them."""
    generator = torch.Generator().manual_seed(seed)
    images = []
    for colour in colours:
        for i in range(per_class):
            jittered = (torch.tensor(colour) + torch.randint(-15, 16, (3,), generator=generator)).clamp(0, 255)
            images.append(Image.new("RGB", (width + i, 30), tuple(jittered.tolist())))
    return images


def colour_episode(preprocessing, n_shot=3, n_query=4):
    colours = [(37 * k % 256, 91 * k % 256, 173 * k % 256) for k in (1, 2, 3)]
    n_way = len(colours)
    return Episode(
        support_x=preprocessing.prepare(colour_images(colours, n_shot, seed=0)),
        support_y=torch.arange(n_way).repeat_interleave(n_shot),
        query_x=preprocessing.prepare(colour_images(colours, n_query, seed=1, width=40)),
        query_y=torch.arange(n_way).repeat_interleave(n_query),
        class_names=("c1", "c2", "c3"), class_ids=(1, 2, 3), seed=0, index=0,
    )  # fmt: skip


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    """An empty torch hub dir, with the network cut off as it is offline."""
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path))

    def offline(*args, **kwargs):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "urlopen", offline)
    return tmp_path


def test_is_registered_with_imagenet_preprocessing():
    assert ALGORITHMS["imagenet"] is ImageNetPrototypes and "imagenet" in DISPLAY_NAMES
    preprocessing = imagenet_preprocessing()
    assert (preprocessing.image_size, preprocessing.channels, preprocessing.bright_on_dark) == (160, 3, False)
    assert preprocessing.mean == pytest.approx((0.485, 0.456, 0.406))
    assert preprocessing.std == pytest.approx((0.229, 0.224, 0.225))


def test_random_features_separate_solid_colours(model):
    episode = colour_episode(model.preprocessing)
    assert episode.support_x.shape == (9, 3, 64, 64)
    assert torch.equal(model.predict_episode(episode), episode.query_y)


def test_explain_is_a_prototype_trace_that_matches_forward(model):
    episode = colour_episode(model.preprocessing)
    trace = model.explain(episode)
    assert trace.support_embeddings.shape == (9, 512) and trace.query_embeddings.shape == (12, 512)
    assert trace.prototypes.shape == (3, 512) and trace.distances.shape == (12, 3)
    assert trace.probabilities.shape == (12, 3) and torch.allclose(trace.probabilities.sum(1), torch.ones(12))
    assert torch.allclose(trace.query_embeddings.norm(dim=1), torch.ones(12), atol=1e-5)
    assert torch.allclose(trace.prototypes, compute_prototypes(trace.support_embeddings, trace.support_y, 3))
    with torch.no_grad():
        logits = model(*model.inputs(episode)[:3])
    assert torch.allclose(logits.softmax(1), trace.probabilities, atol=1e-5)
    assert trace.accuracy == 1.0


def test_backbone_is_frozen_and_train_keeps_batchnorm_in_eval_mode(model):
    assert not any(p.requires_grad for p in model.parameters())
    batchnorm = model.backbone.bn1
    before = batchnorm.running_mean.clone()
    model.train()
    assert not model.training and not batchnorm.training
    model(torch.randn(2, 3, 64, 64), torch.tensor([0, 1]), torch.randn(1, 3, 64, 64))
    assert torch.equal(batchnorm.running_mean, before)


def test_random_weights_are_the_same_every_time_and_leave_the_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    first, second = load_imagenet_backbone("random"), load_imagenet_backbone("random")
    assert torch.rand(1) == expected
    assert torch.equal(first.conv1.weight, second.conv1.weight) and isinstance(first.fc, nn.Identity)


def test_settings_that_cannot_work_are_refused():
    with pytest.raises(ValueError, match="weights must be one of imagenet, random"):
        ImageNetPrototypes(weights="places365")
    with pytest.raises(ValueError, match="RGB images"):
        ImageNetPrototypes(Preprocessing(), weights="random")  # the 1-channel default


def test_random_weights_checkpoint_round_trips(model, tmp_path):
    episode = colour_episode(model.preprocessing)
    save_checkpoint(tmp_path / "imagenet-random", model, {"dataset": "colours"})
    loaded, record = load_checkpoint(tmp_path / "imagenet-random")
    assert isinstance(loaded, ImageNetPrototypes) and record["settings"]["weights"] == "random"
    assert loaded.preprocessing == model.preprocessing and not loaded.training
    assert torch.allclose(loaded.explain(episode).distances, model.explain(episode).distances)


def test_an_imagenet_checkpoint_loads_offline_from_its_own_file(model, tmp_path, hub_dir):
    imagenet_like = ImageNetPrototypes(model.preprocessing, weights="random")
    imagenet_like.settings["weights"] = "imagenet"  # as if built with ImageNet weights, without downloading them
    torch.nn.init.constant_(imagenet_like.backbone.conv1.weight, 0.01)
    save_checkpoint(tmp_path / "photos", imagenet_like, {})
    loaded, record = load_checkpoint(tmp_path / "photos")
    assert record["settings"] == {"weights": "imagenet", "scale": 10.0, "fetch": False}
    assert torch.equal(loaded.backbone.conv1.weight, imagenet_like.backbone.conv1.weight)


def test_offline_the_imagenet_option_says_what_is_needed(hub_dir):
    with pytest.raises(BackboneUnavailable) as raised:
        imagenet_prototypes()
    message = str(raised.value)
    assert "could not be downloaded" in message and "45 MB" in message and "need internet once" in message
    assert str(hub_dir / "checkpoints") in message and "other models keep working" in message
    assert list((hub_dir / "checkpoints").iterdir()) == []


def test_a_broken_download_leaves_nothing_that_trips_the_next_attempt(hub_dir, monkeypatch):
    class Dropped(io.BytesIO):
        def info(self):
            return Message()  # no Content-Length

        def read(self, size=-1):
            if self.tell():
                raise ConnectionResetError("connection reset by peer")
            return super().read(1000)

    monkeypatch.setattr(torch.hub, "urlopen", lambda *args, **kwargs: Dropped(b"x" * 5000))
    with pytest.raises(BackboneUnavailable, match="connection reset"):
        load_imagenet_backbone("imagenet")
    assert list((hub_dir / "checkpoints").iterdir()) == []  # no .partial file, nothing under the final name


def test_weights_already_in_the_hub_cache_load_without_a_download(hub_dir):
    state = {k: torch.full_like(v, 0.5) if v.is_floating_point() else v for k, v in
             load_imagenet_backbone("random").state_dict().items()}  # fmt: skip
    state |= {"fc.weight": torch.zeros(1000, 512), "fc.bias": torch.zeros(1000)}  # torchvision's file has the head
    imagenet_weights_path().parent.mkdir(parents=True)
    torch.save(state, imagenet_weights_path())
    assert imagenet_weights_path().name == "resnet18-f37072fd.pth"
    backbone = load_imagenet_backbone("imagenet")  # urlopen raises here: any download attempt would fail
    assert torch.equal(backbone.layer4[1].conv2.weight, torch.full_like(backbone.layer4[1].conv2.weight, 0.5))
    assert not any(p.requires_grad for p in backbone.parameters()) and not backbone.training


def test_an_unreadable_cached_file_is_named(hub_dir):
    imagenet_weights_path().parent.mkdir(parents=True)
    imagenet_weights_path().write_bytes(b"not a checkpoint")
    with pytest.raises(BackboneUnavailable, match="cannot be read.*Delete that file"):
        load_imagenet_backbone("imagenet")
