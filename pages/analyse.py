"""Analyse: any Keras Tuner project (ours or anyone's), its trials, every figure and finding, downloads.

Choose a project (found under the analysis roots, a typed folder confined to them, or an uploaded zip),
read it once (incrementally, through ``pages._shared.read_project``), then draw. Trials selected in the
table are highlighted in every figure, and "Narrow and search again" opens the design page pre-filled with
the space they span. Expensive results (importance, the HTML report) are kept per project until it changes.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._analyse_open import choose_project
from pages._analyse_tabs import (
    chart,
    compare_tab,
    curves_tab,
    downloads_tab,
    findings_tab,
    importance_tab,
    interaction_tab,
    memo,
    narrow_tab,
    progress_tab,
    slices_tab,
)
from pages._shared import read_project, use_app_navigation
from tuning.analysis.importance import importance
from tuning.analysis.text import direction_text, score_text
from tuning.errors import TuningError
from tuning.export.common import hp_values
from tuning.export.tables import display_table, trial_counts
from tuning.plots.hyperband import plot_hyperband
from tuning.results import ProjectResult
from tuning.space.specs import format_value


# ----- overview and trial table ------------------------------------------------------------------------
def overview(result: ProjectResult) -> None:
    objective = result.objective
    tuner, goal, trials, best = st.columns(4)
    tuner.metric("Tuner", result.tuner + (" (inferred)" if result.tuner_inferred else ""))
    goal.metric("Objective" + (" (inferred)" if objective.inferred else ""), objective.name)
    goal.caption(direction_text(objective.direction).capitalize())
    counts = trial_counts(result)
    trials.metric("Trials", counts.pop("total"))
    trials.caption(", ".join(f"{n} {status}" for status, n in counts.items() if n) or "none yet")
    best_id = result.best_trial_id
    best.metric("Best score", score_text(result.trials.at[best_id, "score"], objective.name) if best_id else "–")
    if best_id:
        values = {name: format_value(v) for name, v in hp_values(result, best_id).items()}
        with st.expander(f"Best trial: {best_id} (#{result.trials.at[best_id, 'number']}), its hyperparameters"):
            st.dataframe(pd.Series(values, name="value").rename_axis("hyperparameter"), key="analyse_best")
    if result.notices:
        st.warning("What reading this project noticed:\n" + "\n".join(f"- {n}" for n in result.notices))
    if result.curves_note:
        st.caption(result.curves_note)


def trials_section(result: ProjectResult) -> list[str]:
    """The filterable, sortable trial table; returns the ids of the selected trials."""
    st.subheader("Trials")
    present = list(dict.fromkeys(result.trials["status"]))
    states = st.multiselect("Show trials that are", present, default=present, key="analyse_states")
    table = display_table(result, states=states)
    event = st.dataframe(table, key="analyse_table", on_select="rerun", selection_mode="multi-row")
    rows = [r for r in event.selection.rows if r < len(table)]
    selected = [str(table.index[r]) for r in rows]
    if selected:
        st.caption(f"Highlighted in every chart below: trials {', '.join(selected)}.")
    else:
        st.caption("Click to sort by a column; select rows (left edge) to highlight those trials in every chart.")
    return selected


# ----- the page ----------------------------------------------------------------------------------------
def main() -> None:
    st.title("Analyse a search")
    st.caption("Any Keras Tuner project: made by this app, by a colleague, or on a server.")
    project_dir, labels = choose_project()
    if project_dir is None:
        st.info("No Keras Tuner project found in the analysis folders: type a folder's path, or upload a zip.")
        st.stop()
    try:
        result = read_project(project_dir)
    except TuningError as error:
        st.error(str(error))
        st.stop()
    overview(result)
    if result.trials.empty:
        st.info("This project has no trial yet.")
        st.stop()
    selected = trials_section(result)
    found = memo(result, "importance", lambda: importance(result))
    names = ["Progress", "Learning curves", "Slices", "Importance", "Interaction", "Findings"]
    names += ["Hyperband"] * (result.tuner == "hyperband") + ["Compare", "Downloads", "Narrow and search again"]
    tabs = dict(zip(names, st.tabs(names), strict=True))
    draw = {
        "Progress": lambda: progress_tab(result, selected),
        "Learning curves": lambda: curves_tab(result, selected),
        "Slices": lambda: slices_tab(result, selected),
        "Importance": lambda: importance_tab(result, found),
        "Interaction": lambda: interaction_tab(result),
        "Findings": lambda: findings_tab(result, found),
        "Hyperband": lambda: chart(
            plot_hyperband(result, highlight=selected), "analyse_hyperband",
            "each row is a bracket; trials move right as they get more epochs, lines join a trial to its promotion.",
        ),
        "Compare": lambda: compare_tab(result, labels),
        "Downloads": lambda: downloads_tab(result),
        "Narrow and search again": lambda: narrow_tab(result, selected),
    }  # fmt: skip
    for name, tab in tabs.items():
        with tab:
            draw[name]()


use_app_navigation()
main()
