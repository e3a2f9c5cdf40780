"""The few app-side helpers pages share; the only Streamlit code outside the pages."""
