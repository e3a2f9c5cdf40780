"""Classifying a person's own class set with the shipped checkpoints, and the predictions CSV."""

import csv
import io
from pathlib import Path

import pytest
import torch
from PIL import Image

from core.algorithms.maml import AdaptationTrace
from core.algorithms.protonet import PrototypeTrace
from core.checkpoints import load_checkpoint
from core.user import ClassSet, NamedImage, UserClass
from core.user.classify import class_set_episode, classify, predictions_csv

ASSETS = Path(__file__).resolve().parents[1] / "assets"
NAMES = ("alpha", "beta", "gamma", "delta", "epsilon")


def shipped(name: str):
    if not (ASSETS / f"{name}.safetensors").exists():
        pytest.skip(f"assets/{name} is not there (python -m scripts.make_assets makes it)")
    return load_checkpoint(ASSETS / name)[0]


def scanned(image: torch.Tensor, size: int = 84) -> Image.Image:
    """A glyph [1, H, W] (bright strokes on dark) as a person would scan it: dark ink on white paper, larger."""
    return Image.fromarray(255 - image[0].numpy()).resize((size, size))


@pytest.fixture(scope="module")
def drawings(small_glyphs) -> list[list[Image.Image]]:
    """Five unseen glyph characters from different alphabets, four drawings each."""
    classes = small_glyphs.classes_in("evaluation")
    chosen = classes[torch.linspace(0, len(classes) - 1, len(NAMES)).long()]
    return [[scanned(image) for image in small_glyphs.class_images(int(c))[:4]] for c in chosen]


def class_set(drawings, n_classes: int, shots: int, queries: list[tuple[int, int]]) -> ClassSet:
    """``n_classes`` classes of ``shots`` drawings each; queries are (class, drawing) pairs."""
    classes = [
        UserClass(NAMES[k], [NamedImage(f"{NAMES[k]}-{i}.png", drawings[k][i]) for i in range(shots)])
        for k in range(n_classes)
    ]
    return ClassSet(classes, [NamedImage(f"query-{k}-{i}.png", drawings[k][i]) for k, i in queries])


@pytest.mark.parametrize(("name", "trace"), [("protonet-glyphs", PrototypeTrace), ("finetune-glyphs", AdaptationTrace)])
def test_a_shipped_model_puts_each_support_drawing_in_its_own_class(drawings, name, trace):
    model = shipped(name)
    own = [(k, i) for k in range(5) for i in range(2)]
    result = classify(class_set(drawings, 5, 2, own), model)
    assert result.class_names == NAMES
    assert result.predictions.tolist() == [k for k, _ in own]
    assert result.probabilities.shape == (10, 5)
    torch.testing.assert_close(result.probabilities.sum(1), torch.ones(10))
    assert isinstance(result.trace, trace)
    assert torch.equal(result.trace.query_y, result.predictions)  # the trace explains the predicted labels
    assert torch.equal(result.episode.query_y, result.predictions)


def test_protonet_classifies_unseen_drawings_of_the_classes(drawings):
    model = shipped("protonet-glyphs")
    result = classify(class_set(drawings, 5, 3, [(k, 3) for k in range(5)]), model)
    assert result.predictions.tolist() == [0, 1, 2, 3, 4]


def test_the_episode_has_the_models_input_form_and_labels_in_class_order(drawings):
    model = shipped("protonet-glyphs")
    episode = class_set_episode(class_set(drawings, 3, 2, [(1, 3), (0, 3)]), model)
    size, channels = model.preprocessing.image_size, model.preprocessing.channels
    assert episode.support_x.shape == (6, channels, size, size) and episode.query_x.shape == (2, channels, size, size)
    assert episode.support_y.tolist() == [0, 0, 1, 1, 2, 2]
    assert episode.query_y.tolist() == [0, 0]  # unknown until predicted
    assert episode.class_names == NAMES[:3] and episode.n_way == 3
    # a character model sees strokes bright on dark, like its training data, though the scans are dark on white
    assert episode.support_x.float().mean() < 128


def test_maml_adapts_to_the_set_and_its_trace_agrees_with_its_predictions(drawings):
    model = shipped("maml-glyphs")
    labelled = class_set(drawings, model.n_way, 1, [(k, 0) for k in range(model.n_way)])
    result = classify(labelled, model)  # the trace runs the model's own number of test steps
    assert isinstance(result.trace, AdaptationTrace)
    assert len(result.trace.support_loss) == model.test_steps + 1  # the initialisation, then each step
    assert torch.equal(result.trace.predictions[-1], result.predictions)
    assert result.trace.support_loss[1] < result.trace.support_loss[0]  # a step on the support set fits it better
    torch.testing.assert_close(result.probabilities.sum(1), torch.ones(model.n_way))
    shorter = classify(labelled, model, maml_steps=1)
    assert len(shorter.trace.support_loss) == 2 and torch.equal(shorter.probabilities, result.probabilities)


def test_a_maml_model_of_another_class_count_says_what_to_do(drawings):
    model = shipped("maml-glyphs")
    with pytest.raises(ValueError, match=rf"exactly {model.n_way} classes and the set has 3; use {model.n_way}"):
        classify(class_set(drawings, 3, 2, [(0, 3)]), model)


def test_a_set_without_queries_is_refused_with_what_to_add(drawings):
    model = shipped("protonet-glyphs")
    with pytest.raises(ValueError, match="add at least one"):
        classify(class_set(drawings, 3, 2, []), model)


def test_the_predictions_csv_has_a_column_per_class_and_a_row_per_query(drawings):
    model = shipped("protonet-glyphs")
    result = classify(class_set(drawings, 3, 2, [(2, 3), (0, 3)]), model)
    rows = list(csv.DictReader(io.StringIO(predictions_csv(result, ["a.png", "b.png"]))))
    assert list(rows[0]) == ["query", "predicted", "p(alpha)", "p(beta)", "p(gamma)"]
    assert [row["query"] for row in rows] == ["a.png", "b.png"]
    assert [row["predicted"] for row in rows] == [NAMES[k] for k in result.predictions.tolist()]
    for row, probabilities in zip(rows, result.probabilities.tolist(), strict=True):
        written = [float(row[f"p({name})"]) for name in NAMES[:3]]
        assert written == pytest.approx(probabilities, abs=5e-5) and sum(written) == pytest.approx(1, abs=2e-4)


def test_the_predictions_csv_quotes_commas_and_defuses_spreadsheet_formulas(drawings):
    model = shipped("protonet-glyphs")
    result = classify(class_set(drawings, 2, 1, [(0, 3), (1, 3)]), model)
    text = predictions_csv(result, ['=HYPERLINK("x"),1.png', "plain.png"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == '\'=HYPERLINK("x"),1.png' and len(rows[1]) == 4  # one field, shown as text
    assert rows[2][0] == "plain.png"


def test_the_predictions_csv_needs_one_name_per_query(drawings):
    model = shipped("protonet-glyphs")
    result = classify(class_set(drawings, 2, 1, [(0, 3), (1, 3)]), model)
    with pytest.raises(ValueError):
        predictions_csv(result, ["only-one.png"])
