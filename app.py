"""Hyperparameter Explorer: the Streamlit entry point (page config and navigation only)."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Hyperparameter Explorer", page_icon="🔬", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/design.py", title="Design a search", icon="🎛️"),
    st.Page("pages/monitor.py", title="Monitor", icon="📈"),
]

st.navigation(PAGES).run()
