"""The glossary's terms, read once per process from ``app/locales/glossary.toml``."""

from __future__ import annotations

import tomllib
from functools import cache

from app.i18n import LOCALES, text


@cache
def glossary_terms() -> tuple[dict[str, str], ...]:
    """Each term as ``{"en", "zh", "note_en", "note_zh"}``, in the file's order."""
    with (LOCALES / "glossary.toml").open("rb") as file:
        return tuple(tomllib.load(file)["term"])


def glossary_table(language: str) -> str:
    """A markdown table: English, Chinese, and the note in ``language``."""
    header = f"| English | 中文 | {text(language, 'glossary.meaning')} |\n|---|---|---|"
    note = "note_zh" if language == "zh" else "note_en"
    rows = [f"| {term['en']} | {term['zh']} | {term[note]} |" for term in glossary_terms()]
    return "\n".join([header, *rows])
