import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from core import load_learner
from core.algorithms import PrototypicalNetworks
from core.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from core.episodes import EpisodeSampler
from core.preprocessing import Preprocessing


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = PrototypicalNetworks(Preprocessing(mean=(0.1,), std=(0.3,)), hidden=16).eval()
    save_checkpoint(tmp_path / "model", model, {"dataset": {"source": "glyphs"}, "note": "test"})
    return model, tmp_path / "model"


def test_round_trip_gives_identical_outputs(saved, small_glyphs):
    model, path = saved
    loaded, record = load_checkpoint(path.with_suffix(".safetensors"))
    episode = EpisodeSampler(small_glyphs, "evaluation", 5, 1, 3).episode(0)
    with torch.no_grad():
        assert torch.equal(model(*model.inputs(episode)[:3]), loaded(*loaded.inputs(episode)[:3]))
    assert record["note"] == "test" and record["settings"]["hidden"] == 16
    assert loaded.preprocessing == model.preprocessing


def test_a_pickle_is_refused_without_being_unpickled(saved, tmp_path):
    _, path = saved

    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("unpickled!",))

    path.with_suffix(".safetensors").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(CheckpointError, match="is a pickle or torch.save file, not safetensors") as caught:
        load_checkpoint(path)
    assert caught.value.code == "checkpoint.pickle"
    assert caught.value.params == {"file": str(path.with_suffix(".safetensors"))}


def test_a_torch_save_file_is_refused(saved):
    _, path = saved
    torch.save({"w": torch.zeros(1)}, path.with_suffix(".safetensors"))
    with pytest.raises(CheckpointError, match="pickle or torch.save"):
        load_checkpoint(path)


def test_a_truncated_file_is_refused(saved):
    _, path = saved
    weights = path.with_suffix(".safetensors")
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="truncated or not a safetensors file"):
        load_checkpoint(path)


def test_wrong_shapes_are_refused_naming_the_tensor(saved):
    model, path = saved
    state = {k: v.contiguous().clone() for k, v in model.state_dict().items()}
    state["backbone.blocks.0.0.weight"] = torch.zeros(8, 1, 3, 3)
    save_file(state, str(path.with_suffix(".safetensors")))
    with pytest.raises(CheckpointError, match=r"wrong shape .*backbone.blocks.0.0.weight: file \(8, 1, 3, 3\)"):
        load_checkpoint(path)


def test_weights_of_another_architecture_are_refused(saved):
    _, path = saved
    save_file({"linear.weight": torch.zeros(2, 2)}, str(path.with_suffix(".safetensors")))
    with pytest.raises(CheckpointError, match="does not fit the protonet architecture"):
        load_checkpoint(path)


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "is not valid JSON"),
    ('{"format": "other"}', "is not a playground checkpoint"),
    ('{"format": "meta-learning-playground/checkpoint-v1", "algorithm": "svm"}', "names algorithm 'svm'"),
])  # fmt: skip
def test_bad_descriptions_are_refused(saved, text, message):
    _, path = saved
    path.with_suffix(".json").write_text(text)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(CheckpointError, match="nothing.json is missing"):
        load_checkpoint(tmp_path / "nothing")


def test_learner_predicts_from_pil_images_with_its_own_preprocessing(saved, small_glyphs):
    from PIL import Image

    _, path = saved
    learner = load_learner(path)
    episode = EpisodeSampler(small_glyphs, "evaluation", 3, 2, 2).episode(0)
    # ink on paper, 3x larger: the learner inverts and resizes them back
    to_paper = [Image.fromarray(255 - x[0].numpy()).resize((84, 84)) for x in episode.support_x]
    names = ["alpha", "alpha", "beta", "beta", "gamma", "gamma"]
    prediction = learner.predict(to_paper, names, [Image.fromarray(255 - x[0].numpy()) for x in episode.query_x])
    assert prediction.classes == ("alpha", "beta", "gamma")
    assert prediction.probabilities.shape == (6, 3)
    assert torch.allclose(prediction.probabilities.sum(1), torch.ones(6))
    direct = learner.predict(episode.support_x, names, episode.query_x)
    assert (direct.probabilities - prediction.probabilities).abs().max() < 0.2
    assert len(prediction.labels) == 6


def test_learner_refuses_bad_support_sets(saved, small_glyphs):
    learner = load_learner(saved[1])
    images = small_glyphs.images[:3]
    with pytest.raises(ValueError, match="3 support images but 2 labels"):
        learner.predict(images, ["a", "b"], images)
    with pytest.raises(ValueError, match="at least two classes"):
        learner.predict(images, ["a", "a", "a"], images)


@pytest.mark.parametrize("listed", [[0, 5], ["a"], {"0": 1}, "0,5", 7, [[0]]])
def test_odd_snapshot_lists_give_a_checkpoint_error_or_none(saved, listed):
    from core.checkpoints import load_snapshots

    _, path = saved
    record = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps({**record, "snapshots": {"steps": listed}}))
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_snapshots(path)
    assert load_checkpoint(path)[0] is not None  # the model itself still loads


def test_a_safetensors_file_whose_header_length_begins_like_a_pickle_still_loads(tmp_path):
    """The first 8 bytes are the header's length: 1 file in 256 begins with 0x80, a pickle's first byte."""
    from safetensors.torch import save_file

    from core.checkpoints import _read_weights

    path = tmp_path / "w.safetensors"
    for pad in range(300):
        save_file({"x": torch.ones(2)}, str(path), metadata={"pad": "x" * pad})
        if path.read_bytes()[:1] == b"\x80":
            break
    assert path.read_bytes()[:1] == b"\x80"
    torch.testing.assert_close(_read_weights(path)["x"], torch.ones(2))
