"""Hyperparameter Explorer: the Streamlit entry point (page config and navigation only)."""

from __future__ import annotations

import streamlit as st

from pages._shared import PRESENT_KEY, PRESENT_PARAM, entered_through_app, presenting

st.set_page_config(page_title="Hyperparameter Explorer", page_icon="🔬", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/experiments.py", title="Experiments", icon="🧪"),
    st.Page("pages/design.py", title="Design a search", icon="🎛️"),
    st.Page("pages/monitor.py", title="Monitor", icon="📈"),
    st.Page("pages/analyse.py", title="Analyse", icon="🔍"),
    st.Page("pages/best_model.py", title="Best model", icon="🏆"),
]

# Presenter mode: larger text, numbers and buttons; pages hide technical controls and caption their charts.
PRESENTER_CSS = """<style>
.stApp, .stMarkdown p, .stMarkdown li { font-size: 1.25rem; }
[data-testid="stMetricValue"] { font-size: 3rem; }
.stButton button { font-size: 1.3rem; padding: 0.9rem 1.4rem; min-height: 4rem; }
[data-testid="stCaptionContainer"] { font-size: 1.1rem; }
</style>"""

page = st.navigation(PAGES)
on = st.sidebar.toggle(
    "Presenter mode", value=presenting(), key=PRESENT_KEY, help="Big text and charts, fewer controls: for demos."
)
if on:
    st.query_params[PRESENT_PARAM] = "1"
    st.markdown(PRESENTER_CSS, unsafe_allow_html=True)
elif PRESENT_PARAM in st.query_params:
    del st.query_params[PRESENT_PARAM]
entered_through_app()
page.run()
