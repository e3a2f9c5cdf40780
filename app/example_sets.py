"""Example class sets the Your images page loads with one click (made by ``scripts/make_example_sets.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from app.i18n import t
from app.your_images import NOTES_KEY, SET_KEY, counted
from core.figures.montage import png_data_url
from core.user import load_class_set

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"
SYMBOLS = EXAMPLES / "symbols.zip"


def _load(path: Path) -> None:
    loaded = load_class_set(path.read_bytes())
    st.session_state[SET_KEY] = loaded
    st.session_state.setdefault(NOTES_KEY, []).append(("success", t(
        "your.example_loaded", classes=counted(len(loaded.classes), "class"),
        names=", ".join(c.name for c in loaded.classes), queries=counted(len(loaded.queries), "query"),
    )))  # fmt: skip


@st.cache_resource
def _symbols_preview() -> tuple[list, list[str]]:
    """One drawing of each example class, as data URLs, and the class names (made once per server)."""
    classes = load_class_set(SYMBOLS.read_bytes()).classes
    return ([png_data_url(np.asarray(user_class.images[0].image)) for user_class in classes],
            [user_class.name for user_class in classes])  # fmt: skip


def example_button(empty: bool) -> None:
    """A "Load an example" button that replaces the class set with the shipped symbols (no file: no button).

    While the visitor has no classes (``empty``), one drawing of each example class shows what it holds.
    """
    if SYMBOLS.exists():
        if empty:
            images, names = _symbols_preview()
            st.image(images, width=96, caption=names)
        st.button(t("your.example"), icon=":material/draw:", key="your_example", on_click=_load, args=(SYMBOLS,),
                  help=t("your.example_help"))  # fmt: skip
