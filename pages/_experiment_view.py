"""The result view of an experiment, shared by the experiments page and the analyse page."""

from __future__ import annotations

import streamlit as st

from pages._shared import show_chart
from tuning.analysis.experiment import ExperimentSummary
from tuning.plots.experiment import (
    draw_experiment_curves,
    draw_heatmap,
    experiment_curves_data,
    final_scores_figure,
    heatmap_data,
)
from tuning.results import ProjectResult
from tuning.space.hyperparameters import BY_NAME
from tuning.space.specs import format_value

HOW_CURVES = "Each colour is one value; solid lines are validation, dotted ones training. Higher is better."
HOW_FINAL = "The score each value reached at its last epoch; red bars failed."
HOW_HEATMAP = "Each cell is one combination of the two values; brighter is better."


def show_experiment(result: ProjectResult, summary: ExperimentSummary, *, key: str) -> None:
    """What varied, the conclusion, the coloured learning curves, the final scores (and a heatmap for two)."""
    varied = "; ".join(
        f"**{BY_NAME[name].label.lower() if name in BY_NAME else name}** = {', '.join(format_value(v) for v in values)}"
        for name, values in zip(summary.varied, summary.values, strict=True)
    )
    st.markdown(f"Varied {varied}; everything else as in: {summary.base}.")
    st.info(summary.conclusion or "Waiting for the first run to finish.", icon="💡")
    if not len(result.curves):
        return
    curves = experiment_curves_data(summary, result.curves)
    show_chart(draw_experiment_curves(curves), f"{key}_curves", HOW_CURVES)
    if len(summary.varied) == 2:
        show_chart(draw_heatmap(heatmap_data(summary), objective=summary.objective), f"{key}_heatmap", HOW_HEATMAP)
    show_chart(final_scores_figure(summary), f"{key}_final", HOW_FINAL)
