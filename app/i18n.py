"""The visitor's language: English or Simplified Chinese, chosen per session and kept in the URL.

Short strings live in one catalog per language (``app/locales/<language>.toml``), looked up by
key with named placeholders: ``t("episodes.title")``, ``t("home.right", label=2, confidence="97%")``.
A key missing from a catalog falls back to English; a key missing from English is a bug and
raises at once. The catalogs are read once per process and never written, so every browser
session shares them safely; the language itself is read from this session's URL on every call
(nothing process-wide such as ``gettext.install``).
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from string import Formatter

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = ("en", "zh")
DEFAULT = "en"
PARAM = "lang"
# The names of the languages in their own words: the switch reads the same in either language.
NATIVE_NAMES = {"en": "English", "zh": "中文"}


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{key}."))
        else:
            flat[key] = value
    return flat


@cache
def catalog(language: str) -> dict[str, str]:
    """Every key of ``app/locales/<language>.toml`` (nested tables as dotted keys), read once per process."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for language {language!r}; there are: {', '.join(LANGUAGES)}")
    with (LOCALES / f"{language}.toml").open("rb") as file:
        return _flatten(tomllib.load(file))


def placeholders(template: str) -> set[str]:
    """The named placeholders of a catalog string: ``"{n_way} classes"`` -> ``{"n_way"}``."""
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def text(language: str, key: str, /, **params: object) -> str:
    """The string ``key`` in ``language`` (English when that catalog lacks it), placeholders filled."""
    template = catalog(language).get(key) if language in LANGUAGES else None
    if template is None:
        template = catalog(DEFAULT).get(key)
    if template is None:
        raise KeyError(f"no string {key!r} in app/locales/{DEFAULT}.toml")
    return template.format(**params)


def language_from_locale(locale: str | None) -> str:
    """The catalog language for a browser locale such as ``zh-CN`` or ``en-GB``."""
    return "zh" if locale and locale.lower().startswith("zh") else DEFAULT


def _browser_language() -> str:
    try:
        return language_from_locale(st.context.locale)
    except Exception:  # st.context is unavailable outside a browser session (AppTest, bare scripts)
        return DEFAULT


def current_language() -> str:
    """This session's language: the URL's ``?lang=``, else the browser's (first visit), else English."""
    if get_script_run_ctx(suppress_warning=True) is None:  # a plain import or a unit test
        return DEFAULT
    chosen = st.query_params.get(PARAM)
    if chosen in LANGUAGES:
        return chosen
    return _browser_language()


def t(key: str, /, **params: object) -> str:
    """The string ``key`` in the visitor's language, placeholders filled from ``params``."""
    return text(current_language(), key, **params)


def is_chinese() -> bool:
    return current_language() == "zh"
