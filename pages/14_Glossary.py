"""Glossary: the words the app uses, in English and Chinese side by side."""

import streamlit as st

from app.glossary import glossary_table
from app.i18n import current_language, t
from app.page import page_setup

page_setup(t("nav.glossary"))
st.title(t("glossary.title"))
st.markdown(t("glossary.intro"))
st.markdown(glossary_table(current_language()))
st.caption(t("glossary.notation"))
