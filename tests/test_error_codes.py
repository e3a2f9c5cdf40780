"""Errors and notes from core in the visitor's language: every code core raises has its wording in both
catalogs with the same placeholders, the English wording is core's own sentence, and pages show the Chinese."""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
import torch
from conftest import open_page
from PIL import Image

import core.checkpoints
import core.datasets.folder
import core.episodes
import core.user.classify
from app.errors import explain
from app.i18n import catalog, placeholders
from core.checkpoints import CheckpointError, load_checkpoint
from core.datasets import ClassDataset, load_folder
from core.episodes import EpisodeSampler
from core.errors import CodedError, Message
from core.user import (
    ClassSet,
    ClassSetError,
    NamedImage,
    UserClass,
    UserImageError,
    check_class_set,
    decode_image,
    load_class_set,
    save_class_set,
)

REPO = Path(__file__).resolve().parents[1]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
assert core.checkpoints and core.datasets.folder and core.episodes and core.user.classify  # every coded class loaded


def _coded_names() -> set[str]:
    """The names of ``CodedError``'s subclasses and ``Message``: what core raises or writes with a code."""
    found, todo = set(), [CodedError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo += cls.__subclasses__()
    return found | {"Message"}


def _calls(folder: str):
    for path in sorted((REPO / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                yield f"{path.relative_to(REPO)}:{node.lineno}", node


def _coded_calls(folders=("core", "app")) -> list[tuple[str, str, set[str]]]:
    """(where, code, param names) of every call passing ``code=`` in ``folders``."""
    found = []
    for folder in folders:
        for where, node in _calls(folder):
            keywords = {k.arg: k.value for k in node.keywords}
            if "code" not in keywords or isinstance(node.func, ast.Call):  # type(self)(..., code=self.code)
                continue
            assert isinstance(keywords["code"], ast.Constant), f"{where}: the code must be a string literal"
            assert None not in keywords, f"{where}: pass params by name (no **), so that this test can read them"
            found.append((where, keywords["code"].value, set(keywords) - {"code"}))
    return found


def test_every_code_has_a_wording_in_both_catalogs_with_exactly_the_params_passed():
    calls = _coded_calls()
    assert len({code for _, code, _ in calls}) >= 60  # the scan sees core's raises
    for where, code, params in calls:
        for language in ("en", "zh"):
            template = catalog(language).get(f"errors.{code}")
            assert template is not None, f"{where}: no errors.{code} in app/locales/{language}.toml"
            used = placeholders(template)
            assert used == params, f"{where}: errors.{code} in {language} uses {used}, the call passes {params}"


def test_core_never_raises_a_coded_error_without_a_code():
    names = _coded_names()
    for where, node in _calls("core"):
        if isinstance(node.func, ast.Name) and node.func.id in names:
            assert "code" in {k.arg for k in node.keywords}, f"{where}: {node.func.id}(...) without code="


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _image_messages() -> list[UserImageError | Message]:
    noise = Image.effect_noise((64, 64), 80).convert("L")
    bad = [b"", b"\x89PNG\r\n\x1a\n" + b"x" * 40, b"%PDF-1.7", b"<svg xmlns='x'/>", b"\0\0\0\x18ftypheic",
           b"plain text", _png(Image.new("L", (1, 1))), _png(noise)[:200], b"x" * 11_000_000]  # fmt: skip
    found: list[UserImageError | Message] = []
    for number, data in enumerate(bad):
        with pytest.raises(UserImageError) as caught:
            decode_image(f"file-{number}.png", data)
        found.append(caught.value)
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF", save_all=True, append_images=[Image.new("RGB", (8, 8), "red")])
    light = Image.new("LA", (8, 8), (0, 0))
    light.paste((255, 255), (2, 2, 6, 6))
    found += [decode_image("moving.gif", gif.getvalue()).note, decode_image("light.png", _png(light)).note]
    return found


def _class_set_messages() -> list[Exception | Message]:
    found: list[Exception | Message] = []
    for data in (b"not a zip", _zip({"a.txt": b"x"}), _zip({"manifest.json": b"{}"}),
                 _zip({"manifest.json": json.dumps({"format": "meta-learning-playground/class-set", "version": 9})}),
                 _zip({"../evil.png": b"x"})):  # fmt: skip
        with pytest.raises(ClassSetError) as caught:
            load_class_set(data)
        found.append(caught.value)
    image = Image.new("L", (12, 12), 255)
    image.paste(0, (3, 3, 9, 9))
    saved = save_class_set(ClassSet([UserClass("", [NamedImage("ok.png", image)])], [NamedImage("q.png", image)]))
    with zipfile.ZipFile(io.BytesIO(saved)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    manifest = json.loads(members["manifest.json"])
    manifest["classes"][0]["files"].append({"name": "gone.png", "path": "classes/0/009-gone.png"})
    members["manifest.json"] = json.dumps(manifest).encode()
    members["queries/000-q.png"] = b"\x89PNG\r\n\x1a\nbroken"
    found += load_class_set(_zip(members)).notes
    found += check_class_set(ClassSet([UserClass("cat"), UserClass("Cat "), UserClass("")]))
    found += check_class_set(ClassSet([UserClass("")]))
    return found


def _episode_errors() -> list[Exception]:
    tiny = ClassDataset("tiny", torch.zeros(6, 1, 8, 8, dtype=torch.uint8), torch.tensor([0, 0, 0, 1, 1, 2]),
                        ("a", "b", "c"), ("train",) * 3)  # fmt: skip
    found = []
    for n_way, n_shot in ((4, 1), (2, 2), (True, 1)):
        with pytest.raises(ValueError) as caught:
            EpisodeSampler(tiny, "train", n_way, n_shot, 1)
        found.append(caught.value)
    with pytest.raises(ValueError) as caught:
        tiny.classes_in("test")
    return found + [caught.value]


def _folder_and_checkpoint_errors(tmp_path: Path) -> list[Exception]:
    found = []
    (tmp_path / "one" / "cat").mkdir(parents=True)
    (tmp_path / "one" / "cat" / "a.png").write_bytes(_png(Image.new("L", (9, 9))))
    for root in (tmp_path / "nowhere", tmp_path / "one"):
        with pytest.raises((OSError, ValueError)) as caught:
            load_folder(root)
        found.append(caught.value)
    shutil.copy(REPO / "assets" / "protonet-glyphs.json", tmp_path / "model.json")
    (tmp_path / "model.safetensors").write_bytes(b"\x80\x04 a pickle")
    (tmp_path / "broken.json").write_text("{not json")
    for name in ("model", "broken", "absent"):
        with pytest.raises(CheckpointError) as caught:
            load_checkpoint(tmp_path / name)
        found.append(caught.value)
    return found


def test_english_wording_is_cores_own_sentence_and_the_chinese_is_chinese(tmp_path):
    everything = [
        *_image_messages(),
        *_class_set_messages(),
        *_episode_errors(),
        *_folder_and_checkpoint_errors(tmp_path),
    ]
    assert len({item.code for item in everything}) >= 25
    for item in everything:
        assert item.code, f"no code: {item}"
        assert explain(item, "en") == str(item)
        chinese = explain(item, "zh")
        assert len(CHINESE.findall(chinese)) >= 2, chinese


def test_a_nested_param_is_worded_too():
    skipped = next(n for n in _class_set_messages() if getattr(n, "code", None) == "class_set.member_unusable")
    assert explain(skipped, "zh").startswith("查询样本：q.png：")  # the place and the image error, both in Chinese
    assert "已跳过" in explain(skipped, "zh")


def test_anything_without_a_known_code_is_shown_as_it_is():
    assert explain(ValueError("plain words"), "zh") == "plain words"
    assert explain(Message("odd", code="no.such.code"), "zh") == "odd"
    assert explain("a string", "zh") == "a string"
    odd = UserImageError("as core said it", code="image.file_too_large", name="a.png", size_mb="?", limit_mb=1)
    assert explain(odd, "zh") == "as core said it"  # a param the wording cannot format: English, not a traceback


def test_a_renamed_error_keeps_its_code_and_renames_its_params():
    error = CheckpointError("/tmp/x/upload.json is missing", code="checkpoint.no_json", file="/tmp/x/upload.json")
    renamed = error.renamed(lambda s: s.replace("/tmp/x/upload.json", "mine.json"))
    assert isinstance(renamed, CheckpointError) and str(renamed) == "mine.json is missing"
    assert explain(renamed, "zh").startswith("缺少 mine.json")


def test_bad_uploads_and_a_bad_class_set_read_in_chinese_in_the_page():
    at = open_page("pages/6_Your_images.py", lang="zh")
    at.get("text_input")[-1].set_value("猫")
    next(b for b in at.get("form_submit_button")).click().run()
    upload = next(u for u in at.get("file_uploader") if u.key and u.key.startswith("your_class_0_upload_"))
    upload.set_value([("empty.png", b"", "image/png"), ("notes.png", b"text, not a picture", "image/png")]).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert "empty.png：文件是空的（0 字节）；请重新上传这张图片，或换一个文件" in errors, errors
    assert any(e.startswith("notes.png：不是图片") for e in errors), errors
    loader = next(u for u in at.get("file_uploader") if u.key and u.key.startswith("your_load_"))
    loader.set_value(("other.zip", _zip({"a.txt": b"x"}), "application/zip")).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("other.zip" in e and "没有 manifest.json" in e for e in errors), errors


def test_an_impossible_episode_reads_in_chinese_in_the_page():
    at = open_page("pages/1_Episodes.py", lang="zh", dataset="glyphs", n_shot=15, n_query=15)
    assert any("每类需要 n_shot + n_query = 30 张图片" in e.value for e in at.error), [e.value for e in at.error]
