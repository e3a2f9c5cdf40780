"""The long texts: one markdown file per section under ``app/learn/``, one file per language.

``app/learn/<name>.md`` is English; ``app/learn/<name>.zh.md`` beside it is the Chinese, and a
section without one is shown in English.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from app.i18n import DEFAULT, LANGUAGES, current_language

LEARN_DIR = Path(__file__).with_name("learn")


def section_names() -> list[str]:
    """The names of every section there is, sorted (the English file names without ``.md``)."""
    suffixes = tuple(f".{language}" for language in LANGUAGES)
    return sorted(path.stem for path in LEARN_DIR.glob("*.md") if not path.stem.endswith(suffixes))


def translated_names(language: str) -> list[str]:
    """The sections that have their own ``<name>.<language>.md``."""
    return sorted(path.name.removesuffix(f".{language}.md") for path in LEARN_DIR.glob(f"*.{language}.md"))


@cache
def _read(name: str, language: str) -> str:
    english = LEARN_DIR / f"{name}.md"
    if not english.is_file():
        raise ValueError(f"no Learn section named {name!r}; there are: {', '.join(section_names())}")
    translated = LEARN_DIR / f"{name}.{language}.md"
    path = translated if language != DEFAULT and translated.is_file() else english
    return path.read_text(encoding="utf-8").strip()


def section(name: str, language: str | None = None) -> str:
    """The markdown of section ``name`` in ``language`` (default: the visitor's), read once per process."""
    return _read(name, language or current_language())
