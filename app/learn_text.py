"""The long text of the Learn pages: one markdown file per section under ``app/learn/``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

LEARN_DIR = Path(__file__).with_name("learn")


def section_names() -> list[str]:
    """The names of every section there is, sorted (the file names without ``.md``)."""
    return sorted(path.stem for path in LEARN_DIR.glob("*.md"))


@cache
def section(name: str) -> str:
    """The markdown of section ``name`` (the file ``app/learn/<name>.md``), read once per process."""
    path = LEARN_DIR / f"{name}.md"
    if not path.is_file():
        raise ValueError(f"no Learn section named {name!r}; there are: {', '.join(section_names())}")
    return path.read_text(encoding="utf-8").strip()
