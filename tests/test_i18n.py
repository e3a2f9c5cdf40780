"""Two languages kept in step: the catalogs, the long texts, no English left inline, every page in Chinese."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import open_page

from app.glossary import glossary_table, glossary_terms
from app.i18n import catalog, language_from_locale, placeholders, text
from app.learn_text import section, section_names, translated_names

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
# Strings that read the same in both languages (a name, or notation).
SAME_IN_BOTH = {"nav.maml"}


# --- the catalogs -------------------------------------------------------------------------------


def test_both_catalogs_have_the_same_keys():
    english, chinese = set(catalog("en")), set(catalog("zh"))
    assert not english - chinese, f"missing in zh.toml: {sorted(english - chinese)}"
    assert not chinese - english, f"missing in en.toml: {sorted(chinese - english)}"


@pytest.mark.parametrize("key", sorted(catalog("en")))
def test_each_key_has_the_same_placeholders_in_both_languages(key):
    assert placeholders(catalog("en")[key]) == placeholders(catalog("zh")[key])


def test_the_chinese_catalog_is_written_in_chinese():
    untranslated = [key for key, value in catalog("zh").items() if not CHINESE.search(value)]
    assert set(untranslated) == SAME_IN_BOTH


def test_a_lookup_fills_placeholders_and_falls_back_to_english():
    assert text("en", "home.right", label=2, confidence="97%") == "Right: class 2, with 97%."
    assert text("zh", "home.right", label=2, confidence="97%") == "答对了：类别 2，置信度 97%。"
    assert text("fr", "nav.home") == "Home"  # no French catalog: English
    with pytest.raises(KeyError, match="no string 'nav.nowhere' in app/locales/en.toml"):
        text("zh", "nav.nowhere")
    with pytest.raises(KeyError, match="n_way"):
        text("zh", "home.support")  # a placeholder left unfilled is an error, not a "{n_way}" on screen


def test_catalogs_are_read_once_per_process():
    assert catalog("zh") is catalog("zh")


@pytest.mark.parametrize(("locale", "language"), [("zh-CN", "zh"), ("zh-TW", "zh"), ("en-GB", "en"), ("de", "en"),
                                                  (None, "en"), ("", "en")])  # fmt: skip
def test_a_first_visit_follows_the_browsers_language(locale, language):
    assert language_from_locale(locale) == language


def test_the_glossary_lists_the_tutorials_terms_side_by_side():
    pairs = {term["en"]: term["zh"] for term in glossary_terms()}
    for english, chinese in [("meta-learning", "元学习"), ("base learner", "基学习器"), ("meta-learner", "元学习器"),
                             ("support set", "支持集"), ("query set", "查询集"), ("prototype", "原型"),
                             ("inner loop", "内循环"), ("outer loop", "外循环"), ("relation score", "关系得分"),
                             ("N-way K-shot", "N 类 K 样本")]:  # fmt: skip
        assert pairs[english] == chinese
    assert "训练集" in next(t["note_zh"] for t in glossary_terms() if t["en"] == "support set")
    assert "测试集" in next(t["note_zh"] for t in glossary_terms() if t["en"] == "query set")
    table = glossary_table("zh")
    assert table.startswith("| English | 中文 | 含义 |") and table.count("\n") == len(glossary_terms()) + 1


# --- the long texts -----------------------------------------------------------------------------


def test_every_learn_section_has_a_chinese_version():
    assert translated_names("zh") == section_names()


@pytest.mark.parametrize("name", section_names())
def test_each_chinese_section_keeps_the_english_structure(name):
    english, chinese = section(name, "en"), section(name, "zh")
    assert chinese != english and CHINESE.search(chinese)
    assert english.count("$") == chinese.count("$"), "the formulas are the same in both languages"
    assert len(re.findall(r"^\|", english, re.M)) == len(re.findall(r"^\|", chinese, re.M)), "table rows"
    rows = [line for line in chinese.splitlines() if line.startswith("|")]
    cells = [len(re.findall(r"(?<!\\)\|", row)) for row in rows]
    assert len(set(cells)) <= 1, [row for row, n in zip(rows, cells, strict=True) if n != cells[0]]


def test_a_missing_translation_falls_back_to_english():
    assert section("what_is", "fr") == section("what_is", "en")


# --- no English left inline ---------------------------------------------------------------------

# Streamlit calls whose first argument or these keywords are words a visitor reads.
DISPLAY_CALLS = {
    "title", "header", "subheader", "markdown", "caption", "text", "write", "info", "warning", "error", "success",
    "toast", "button", "download_button", "link_button", "form_submit_button", "checkbox", "toggle", "radio",
    "selectbox", "multiselect", "slider", "select_slider", "number_input", "text_input", "text_area",
    "file_uploader", "camera_input", "color_picker", "segmented_control", "pills", "expander", "spinner",
    "status", "metric", "tabs", "popover", "update",
}  # fmt: skip
TEXT_KEYWORDS = {"label", "help", "caption", "placeholder", "body", "value_label"}


def _literal_words(node: ast.AST, constants: dict[str, list[str]]) -> list[str]:
    """English words in string literals of ``node`` (through f-strings, lists, conditionals, +), or in the
    module-level constant it names (``STEPS``, ``HELP["x"]``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return ENGLISH_WORD.findall(node.value)
    if isinstance(node, ast.JoinedStr):
        return [w for part in node.values if isinstance(part, ast.Constant) for w in ENGLISH_WORD.findall(part.value)]
    if isinstance(node, ast.List | ast.Tuple):
        return [w for element in node.elts for w in _literal_words(element, constants)]
    if isinstance(node, ast.IfExp):
        return _literal_words(node.body, constants) + _literal_words(node.orelse, constants)
    if isinstance(node, ast.BinOp):
        return _literal_words(node.left, constants) + _literal_words(node.right, constants)
    if isinstance(node, ast.Subscript):
        return _literal_words(node.value, constants)
    if isinstance(node, ast.Name):
        return constants.get(node.id, [])
    return []


def _module_constants(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level names bound to strings, or to dicts, lists and tuples of them, and their English words."""
    constants: dict[str, list[str]] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            value = statement.value
            parts = [*value.values] if isinstance(value, ast.Dict) else [value]
            words = [w for part in parts for w in _literal_words(part, {})]
            for target in targets:
                if isinstance(target, ast.Name) and words:
                    constants[target.id] = words
    return constants


def inline_strings(path: Path) -> list[str]:
    """``line: words`` for each Streamlit call (st.*, st.sidebar.*, a column's or container's) given a literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = _module_constants(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        arguments = [keyword.value for keyword in node.keywords if keyword.arg in TEXT_KEYWORDS]
        if name in DISPLAY_CALLS and node.args:
            arguments.append(node.args[0])
        elif name == "tabs" or (name == "page_link" and len(node.args) > 1):
            arguments.extend(node.args[1:] if name == "page_link" else node.args)
        words = [w for argument in arguments for w in _literal_words(argument, constants)]
        if words:
            found.append(f"{node.lineno}: {' '.join(words[:8])}")
    return found


APP_FILES = sorted(
    p.relative_to(ROOT).as_posix() for p in [ROOT / "streamlit_app.py", *(ROOT / "pages").glob("*.py"),
                                             *(ROOT / "app").glob("*.py")]
)  # fmt: skip


@pytest.mark.parametrize("path", APP_FILES)
def test_no_english_is_left_inline(path):
    found = inline_strings(ROOT / path)
    assert not found, f"{path} passes literals to Streamlit; put them in app/locales: {found}"


def test_the_scanner_finds_literals_in_streamlit_calls_and_not_in_lookups(tmp_path):
    script = tmp_path / "page.py"
    script.write_text(
        'import streamlit as st\nst.title("Hello there")\nst.title(t("nav.home"))\n'
        'left.markdown(f"**class {k}**")\nst.sidebar.number_input("n_way (classes)", key="n_way")\n'
        'st.page_link("pages/1_Episodes.py", label=t("nav.episodes"), icon=":material/home:")\n'
        'st.image(x, caption=[f"class {k}" for k in y])\nst.latex(r"\\text{first order}")\n'
        'HELP = {"a": "Pick one"}\nSTEPS = "1. Embed"\nst.info(HELP["a"])\nst.markdown(STEPS)\n'
    )
    assert inline_strings(script) == ["2: Hello there", "4: class", "5: way classes", "11: Pick one", "12: Embed"]


# --- every page in Chinese ----------------------------------------------------------------------


def visible_text(at) -> str:
    elements = [*at.title, *at.header, *at.subheader, *at.markdown, *at.caption, *at.info, *at.success, *at.error,
                *at.warning]  # fmt: skip
    return "\n".join(element.value for element in elements)


@pytest.mark.parametrize("page", [None, *PAGES])
def test_every_page_renders_and_reads_in_chinese(page):
    at = open_page(page, lang="zh")
    labels = [link.proto.label for link in at.sidebar.get("page_link")]
    assert labels[:2] == ["首页", "任务采样"] and "术语表" in labels
    assert all(link.proto.query_string == "lang=zh" for link in at.sidebar.get("page_link"))
    shown = visible_text(at)
    chinese, english = len(CHINESE.findall(shown)), len(ENGLISH_WORD.findall(shown))
    assert chinese > english, f"{chinese} Chinese characters, {english} English words"


def test_the_sidebar_switch_changes_the_language_and_writes_it_to_the_url():
    at = open_page()
    assert at.title[0].value == "Meta-Learning Playground" and "lang" not in at.query_params
    at.segmented_control(key="language_switch").set_value("zh").run()
    assert not at.exception
    assert at.title[0].value == "元学习游乐场" and at.query_params["lang"] == "zh"
    at.segmented_control(key="language_switch").set_value("en").run()
    assert at.title[0].value == "Meta-Learning Playground" and at.query_params["lang"] == "en"


def test_episode_settings_and_messages_read_chinese():
    at = open_page("pages/1_Episodes.py", lang="zh", n_way=3, n_shot=0)
    assert at.number_input(key="n_way").label == "n_way（类别数）" and at.number_input(key="n_way").value == 3
    assert any("n_shot=0" in w.value and "链接要求" in w.value for w in at.warning)
    assert "随机种子 0 的第 0 个任务" in at.caption[0].value
    assert at.subheader[0].value == "支持集：3 个类别 × 每类 1 个样本"


def test_an_unknown_language_in_the_link_is_said_and_english_shown():
    at = open_page(lang="fr")
    assert any("lang=fr" in w.value for w in at.sidebar.warning)
    assert at.title[0].value == "Meta-Learning Playground" and at.query_params["lang"] == "en"
