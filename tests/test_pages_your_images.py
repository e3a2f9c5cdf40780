"""AppTest of "Your images": classes from uploads, bad files, the class-set zip, MAML's limits, draw mode."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import open_page
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.datasets import GlyphsConfig, load_glyphs
from core.user import ClassSet, NamedImage, UserClass, save_class_set

PAGE = "pages/6_Your_images.py"


@pytest.fixture(scope="module")
def glyph_pngs() -> list[list[bytes]]:
    """Three unseen glyph characters, four drawings each, as ink-on-paper PNGs (as a person would scan them)."""
    glyphs = load_glyphs(GlyphsConfig())
    classes = glyphs.classes_in("evaluation")[[0, 40, 80]]
    pngs = []
    for c in classes:
        drawings = []
        for image in glyphs.class_images(int(c))[:4]:
            paper = Image.fromarray(255 - image[0].numpy()).resize((112, 112))
            buffer = io.BytesIO()
            paper.save(buffer, format="PNG")
            drawings.append(buffer.getvalue())
        pngs.append(drawings)
    return pngs


def class_headings(at) -> list[str]:
    """The class expanders' headings (the page's other expanders, such as "Upload a checkpoint", left out)."""
    return [e.label for e in at.expander if e.label.startswith("Class ")]


def uploader(at: AppTest, slot: str):
    return next(u for u in at.get("file_uploader") if u.key and u.key.startswith(f"{slot}_upload_"))


def test_three_classes_and_their_queries_are_classified_correctly(glyph_pngs):
    at = open_page(PAGE)
    assert any("Start by adding a class" in i.value for i in at.info)
    for k, name in enumerate(("alpha", "beta", "gamma")):
        at.get("text_input")[-1].set_value(name)
        next(b for b in at.get("form_submit_button")).click().run()
        files = [(f"{name}-{i}.png", data, "image/png") for i, data in enumerate(glyph_pngs[k][:3])]
        uploader(at, f"your_class_{k}").set_value(files).run()
        assert not at.exception, [e.value for e in at.exception]
    queries = [(f"query-{k}.png", glyph_pngs[k][3], "image/png") for k in range(3)]
    queries.append(("my-long-scan-of-the-last-query.png", glyph_pngs[2][3], "image/png"))
    uploader(at, "your_queries").set_value(queries).run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert list(table.index) == ["query-0.png", "query-1.png", "query-2.png", "my-long-scan-of-the-last-query.png"]
    assert list(table["predicted"]) == ["alpha", "beta", "gamma", "gamma"]
    assert class_headings(at)[:3] == [f"Class {k} ({n}) · 3 images" for k, n in
                                      ((1, "alpha"), (2, "beta"), (3, "gamma"))]  # fmt: skip
    rows = ["query-0.png", "query-1.png", "query-2.png", "my-long-scan-of…"]
    for title in ("Squared Euclidean distance", "Probability of each class"):
        heat_map = _chart(at, title)["data"][0]
        assert list(heat_map["y"]) == rows and list(heat_map["x"]) == ["alpha", "beta", "gamma"]
    assert np.allclose(table[["alpha", "beta", "gamma"]].sum(axis=1), 1, atol=1e-4)
    assert any(b.proto.label == "Download the predictions (CSV)" for b in at.get("download_button"))


def test_every_bad_file_gets_its_message_and_the_good_ones_stay(glyph_pngs):
    at = open_page(PAGE)
    at.get("text_input")[-1].set_value("mixed")
    next(b for b in at.get("form_submit_button")).click().run()
    gif = io.BytesIO()
    frames = [Image.new("RGB", (30, 30), c) for c in ("red", "blue")]
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:])
    files = [
        ("good.png", glyph_pngs[0][0], "image/png"),
        ("empty.png", b"", "image/png"),
        ("notes.png", b"this is text, not a picture", "image/png"),
        ("cut.png", glyph_pngs[0][1][:60], "image/png"),
        ("dot.png", _png(Image.new("L", (1, 1))), "image/png"),
        ("moving.gif", gif.getvalue(), "image/gif"),
    ]
    uploader(at, "your_class_0").set_value(files).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    for name in ("empty.png", "notes.png", "cut.png", "dot.png"):
        assert name in errors, (name, errors)
    assert "first of its 2 frames" in " ".join(i.value for i in at.info)
    assert any("Added 2 images" in s.value for s in at.success)
    assert "Class 1 (mixed) · 2 images (1 blank, left out)" in [e.label for e in at.expander]  # the red GIF frame
    assert [w.value for w in at.warning][-1] == "Only one class (mixed); add at least one more to classify."
    assert at.warning[0].value.startswith("moving.gif looks empty after preprocessing")


def test_duplicate_names_are_reported_and_a_saved_set_loads_back(glyph_pngs):
    image = Image.open(io.BytesIO(glyph_pngs[0][0]))
    saved = ClassSet([UserClass("cat", [NamedImage("a.png", image)]), UserClass("Cat ", [NamedImage("b.png", image)])],
                     [NamedImage("q.png", image)])  # fmt: skip
    at = open_page(PAGE)
    loader = next(u for u in at.get("file_uploader") if u.key and u.key.startswith("your_load_"))
    loader.set_value(("set.zip", save_class_set(saved), "application/zip")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Loaded 2 classes and 1 query from set.zip" in s.value for s in at.success)
    assert any("cat" in w.value.lower() and "same name" in w.value.lower() for w in at.warning), [
        w.value for w in at.warning
    ]
    loader = next(u for u in at.get("file_uploader") if u.key and u.key.startswith("your_load_"))
    loader.set_value(("other.zip", _zip_without_manifest(), "application/zip")).run()
    assert not at.exception and any("other.zip" in e.value for e in at.error)
    assert class_headings(at)[:2] == ["Class 1 (cat) · 1 image", "Class 2 (Cat) · 1 image"]


def test_a_maml_model_of_another_class_count_says_what_to_do(glyph_pngs):
    image = Image.open(io.BytesIO(glyph_pngs[0][0]))
    at = open_page(PAGE)
    at.session_state["your_set"] = ClassSet(
        [UserClass(n, [NamedImage(f"{n}.png", image)]) for n in ("a", "b", "c")], [NamedImage("q.png", image)]
    )
    at.selectbox(key="your_model").set_value("MAML · shipped maml-glyphs").run()
    assert not at.exception
    assert any("classifies exactly 5 classes and the set has 3" in e.value for e in at.error)


def test_draw_mode_classifies_the_query_drawing(glyph_pngs, monkeypatch):
    at = open_page(PAGE)
    import app.draw_live

    drawings = {f"draw_class_{k}": glyph_pngs[k][0] for k in range(3)} | {"draw_query": glyph_pngs[1][3]}
    monkeypatch.setattr(app.draw_live, "st_canvas", lambda key, **_: SimpleNamespace(
        json_data={"objects": [{"type": "path"}]}, image_bytes=drawings[key]))  # fmt: skip
    at.segmented_control(key="your_mode").set_value("Draw live").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.number_input(key="draw_n_way").value == 2  # a live demo starts small
    at.number_input(key="draw_n_way").set_value(3).run()
    assert next(m for m in at.metric if m.label == "prediction").value == "class 2"  # numbered from 1
    assert [at.text_input(key=f"draw_name_{k}").value for k in range(3)] == ["class 1", "class 2", "class 3"]
    assert list(_chart(at, "probability of each class")["data"][0]["x"]) == ["class 1", "class 2", "class 3"]
    at.text_input(key="draw_name_1").set_value("spiral").run()
    assert next(m for m in at.metric if m.label == "prediction").value == "spiral"
    at.text_input(key="draw_name_2").set_value("spiral").run()
    assert "Two classes have the same name" in at.warning[-1].value


def test_draw_live_undo_and_clear_start_a_new_canvas_from_the_strokes_kept(glyph_pngs, monkeypatch):
    at = open_page(PAGE)
    import app.draw_live

    strokes = [{"type": "path", "path": [["M", 1, 1]]}, {"type": "path", "path": [["M", 2, 2]]}]
    seen = {}

    def canvas(key, initial_drawing=None, **_):
        seen[key] = initial_drawing
        drawn = initial_drawing["objects"] if initial_drawing else (strokes if key == "draw_class_0" else [])
        return SimpleNamespace(json_data={"objects": drawn}, image_bytes=glyph_pngs[0][0])

    monkeypatch.setattr(app.draw_live, "st_canvas", canvas)
    at.segmented_control(key="your_mode").set_value("Draw live").run()
    assert at.button(key="draw_class_1_undo").disabled is not False  # an empty canvas has nothing to undo
    at.button(key="draw_class_0_undo").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert seen["draw_class_0_v1"]["objects"] == strokes[:1]  # a new canvas with all strokes but the last
    at.button(key="draw_class_0_clear").click().run()
    assert "draw_class_0_v2" in seen and seen["draw_class_0_v2"] is None


def _chart(at: AppTest, title: str) -> dict:
    """The plotly spec of the chart whose title starts with ``title``."""
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return next(spec for spec in specs if spec["layout"]["title"]["text"].startswith(title))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _zip_without_manifest() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.png", b"x")
    return buffer.getvalue()


# the file app.example_sets loads (importing it here would import the drawing canvas outside a Streamlit run)
SYMBOLS = Path(__file__).resolve().parents[1] / "assets" / "examples" / "symbols.zip"


def test_loading_the_example_shows_predictions_at_once():
    from core.user import load_class_set

    example = load_class_set(SYMBOLS.read_bytes())
    at = open_page(PAGE)
    at.button(key="your_example").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Loaded the example" in s.value for s in at.success)
    assert any(h.value.startswith("Predictions of") for h in at.subheader)
    table = at.dataframe[0].value
    assert list(table.index) == [q.name for q in example.queries]
    truth = [name.rsplit("-", 1)[1].removesuffix(".png") for name in table.index]  # queries are named by shape
    predicted = list(table["predicted"])
    assert sum(p == t for p, t in zip(predicted, truth, strict=True)) >= len(truth) - 1, predicted


def test_the_example_set_is_made_by_its_script():
    from core.user import load_class_set
    from scripts.make_example_sets import symbols

    record = json.loads(SYMBOLS.with_suffix(".json").read_text())
    assert record["made_by"].startswith("python -m scripts.make_example_sets")
    assert save_class_set(symbols(record["seed"])) == SYMBOLS.read_bytes()  # deterministic: remade, not hand-edited
    loaded = load_class_set(SYMBOLS.read_bytes())
    assert [c.name for c in loaded.classes] == record["classes"] and len(loaded.queries) == len(record["queries"])


def test_a_blank_upload_is_named_in_a_warning_and_left_out_of_the_support_set(glyph_pngs):
    from core.algorithms.protonet import PrototypicalNetworks
    from core.preprocessing import Preprocessing
    from core.user.classify import class_set_episode

    at = open_page(PAGE)
    at.button(key="your_example").click().run()
    clear = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    uploader(at, "your_class_0").set_value([("blank_name.png", _png(clear), "image/png")]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("blank_name.png looks empty after preprocessing: nothing to classify" in w.value for w in at.warning), [
        w.value for w in at.warning
    ]
    current = at.session_state["your_set"]
    star = current.classes[0]
    assert "blank_name.png" in [item.name for item in star.images]  # kept, not lost
    assert "blank_name.png" not in [item.name for item in star.support_images]
    assert class_headings(at)[0].endswith("4 images (1 blank, left out)"), class_headings(at)
    model = PrototypicalNetworks(Preprocessing())
    assert class_set_episode(current, model).support_x.shape[0] == sum(len(c.images) for c in current.classes) - 1
    at.checkbox(key=f"your_keep_blank_0_{id(star)}").check().run()  # the visitor insists
    assert not at.exception and at.session_state["your_set"].classes[0].keep_blank


def test_a_blank_query_is_classified_with_a_caption_saying_it_means_nothing():
    at = open_page(PAGE)
    at.button(key="your_example").click().run()
    uploader(at, "your_queries").set_value([("white.jpg", _png(Image.new("L", (50, 50), 255)), "image/png")]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("white.jpg looks empty" in w.value for w in at.warning)
    assert "white.jpg" in list(at.dataframe[0].value.index)
    assert sum("blank: these probabilities mean nothing" in c.value for c in at.caption) == 1


def test_an_unavailable_model_keeps_the_classes_and_turns_off_only_the_predictions(monkeypatch):
    at = open_page(PAGE)
    import app.your_results
    from core.algorithms.imagenet_prototypes import BackboneUnavailable

    def offline():
        raise BackboneUnavailable("The ImageNet weights for ResNet-18 could not be downloaded (no network).")

    monkeypatch.setattr(app.your_results, "imagenet_model", offline)  # what this offline machine does, at once
    at.button(key="your_example").click().run()
    at.selectbox(key="your_model").set_value(app.your_results.IMAGENET).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("not available here" in w.value and "offline" in w.value for w in at.warning), [
        w.value for w in at.warning
    ]
    assert class_headings(at)[:3] == [f"Class {k} ({n}) · 3 images" for k, n in
                                      ((1, "star"), (2, "spiral"), (3, "triangle"))]  # fmt: skip
    assert any(s.value == "Queries" for s in at.subheader) and at.dataframe.len == 0
    assert not any(h.value.startswith("Predictions of") for h in at.subheader)


@pytest.mark.skipif(not (Path(__file__).resolve().parents[1] / "assets" / "protonet-omniglot.json").exists(),
                    reason="assets/protonet-omniglot is missing")  # fmt: skip
def test_draw_live_opens_with_the_omniglot_model_unless_one_was_chosen_there():
    at = open_page(PAGE)
    assert at.selectbox(key="your_model").value.endswith("shipped protonet-glyphs")
    at.segmented_control(key="your_mode").set_value("Draw live").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="draw_model").value.endswith("shipped protonet-omniglot")
    at.selectbox(key="draw_model").set_value("Relation Networks · shipped relationnet-omniglot").run()
    at.segmented_control(key="your_mode").set_value("Your classes").run()
    at.segmented_control(key="your_mode").set_value("Draw live").run()
    assert at.selectbox(key="draw_model").value == "Relation Networks · shipped relationnet-omniglot"


def test_the_gallery_shows_fixed_size_thumbnails_with_short_captions_and_full_names_on_hover(glyph_pngs):
    at = open_page(PAGE)
    at.button(key="your_example").click().run()
    long_name = "a-very-long-name-of-a-spiral-scan_4.jpg"
    uploader(at, "your_queries").set_value([(long_name, glyph_pngs[0][0], "image/png")]).run()
    assert not at.exception, [e.value for e in at.exception]
    caption = next(c for c in at.caption if c.value.startswith("a-very-long-n…") and "→" in c.value)
    assert caption.proto.help.startswith(long_name + " → ")
    gallery = [c for c in at.caption if "→" in c.value]  # one captioned thumbnail per query, in a grid
    assert len(gallery) == len(at.dataframe[0].value) and all(len(c.value.split("  \n")[0]) <= 14 for c in gallery)
