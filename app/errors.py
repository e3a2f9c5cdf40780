"""Errors and notes from ``core`` in the visitor's language.

``core`` raises errors (and writes notes) with a ``code`` and ``params`` beside its English
sentence (``core.errors``); ``explain`` words them from the catalogs' ``errors.<code>`` key.
Anything without a code, or with a code the catalogs lack, is shown as its English ``str()``.
"""

from __future__ import annotations

from app.i18n import DEFAULT, catalog, current_language, text


def explain(error: BaseException | str, language: str | None = None) -> str:
    """``error`` (a ``CodedError``, a ``Message`` or anything else) as a sentence in ``language``
    (default: this session's); params that are coded themselves are worded the same way."""
    code = getattr(error, "code", None)
    if not code or f"errors.{code}" not in catalog(DEFAULT):
        return str(error)
    language = language or current_language()
    params = {name: explain(value, language) if getattr(value, "code", None) else value
              for name, value in error.params.items()}  # fmt: skip
    try:
        return text(language, f"errors.{code}", **params)
    except (KeyError, ValueError, TypeError, IndexError):  # a wording that does not fit: the English, not a traceback
        return str(error)
