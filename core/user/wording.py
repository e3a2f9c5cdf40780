"""How the page names things a person reads: counts with their plural, short file names, class numbers from 1."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``counted(1, "image")`` -> "1 image"; ``counted(2, "image")`` -> "2 images"; `plural` for irregular nouns."""
    return f"{count} {noun if count == 1 else (plural or noun + 's')}"


def short_name(name: str, limit: int = 16) -> str:
    """`name` if it has at most `limit` characters, else its first `limit` - 1 and an ellipsis."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def class_label(index: int, name: str) -> str:
    """A class as a person reads it, numbered from 1: ``class_label(0, "star")`` -> "Class 1 (star)"."""
    return f"Class {index + 1} ({name.strip()})" if name.strip() else f"Class {index + 1}"


def distinct_labels(names: list[str], limit: int = 16) -> list[str]:
    """Shortened names, a " (2)", " (3)"... after repeats, so a chart keeps one row per name."""
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        label = short_name(name, limit)
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return labels
