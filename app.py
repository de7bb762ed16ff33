"""Hyperparameter Explorer: the Streamlit entry point (page config and navigation only)."""

from __future__ import annotations

import streamlit as st

from pages._shared import entered_through_app

st.set_page_config(page_title="Hyperparameter Explorer", page_icon="🔬", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/design.py", title="Design a search", icon="🎛️"),
    st.Page("pages/monitor.py", title="Monitor", icon="📈"),
    st.Page("pages/analyse.py", title="Analyse", icon="🔍"),
    st.Page("pages/best_model.py", title="Best model", icon="🏆"),
]

page = st.navigation(PAGES)
entered_through_app()
page.run()
