"""The result view of an experiment, shared by the experiments page and the analyse page."""

from __future__ import annotations

import streamlit as st

from pages._shared import show_chart
from tuning.analysis.experiment import ExperimentSummary, varied_parts
from tuning.plots.experiment import experiment_figures
from tuning.results import ProjectResult


def show_experiment(result: ProjectResult, summary: ExperimentSummary, *, key: str) -> None:
    """What varied, the conclusion, the coloured learning curves, the final scores (and a heatmap for two)."""
    varied = "; ".join(f"**{label}** = {values}" for label, values in varied_parts(summary))
    st.markdown(f"Varied {varied}; everything else as in: {summary.base}.")
    st.info(summary.conclusion or "Waiting for the first run to finish.", icon="💡")
    for name, _title, how, figure in experiment_figures(summary, result.curves):
        show_chart(figure, f"{key}_{name}", how)
