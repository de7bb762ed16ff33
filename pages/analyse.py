"""Analyse: any Keras Tuner project (ours or anyone's), its trials, every figure and finding, downloads.

Choose a project (found under the analysis roots, a typed folder confined to them, or an uploaded zip),
read it once (incrementally, through ``pages._shared.read_project``), then draw. Trials selected in the
table are highlighted in every figure, and "Narrow and search again" opens the design page pre-filled with
the space they span. Only the chosen view is computed and sent (lazy tabs); the trial table is sent a page
at a time; figures and expensive results (importance, the HTML report) are kept per project state and
shared by reruns and browser tabs (``pages._cache``).
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from pages._analyse_open import choose_project
from pages._analyse_tabs import (
    compare_tab,
    curves_tab,
    downloads_tab,
    findings_tab,
    hyperband_tab,
    importance_tab,
    interaction_tab,
    memo,
    narrow_tab,
    progress_tab,
    slices_tab,
)
from pages._experiment_view import show_experiment
from pages._shared import read_project, use_app_navigation
from tuning.analysis.experiment import experiment_of
from tuning.analysis.importance import Importance, importance
from tuning.analysis.sampling import table_page
from tuning.analysis.text import direction_text, score_text
from tuning.errors import TuningError
from tuning.export.common import hp_values
from tuning.export.tables import display_table, trial_counts
from tuning.results import ProjectResult
from tuning.space.specs import format_value


# ----- overview and trial table ------------------------------------------------------------------------
def overview(result: ProjectResult) -> None:
    objective = result.objective
    tuner, goal, trials, best = st.columns(4)
    tuner.metric("Tuner", result.tuner)  # "(inferred)" goes below: in the tile it cut "hyperband" to "hyperband (..."
    if result.tuner_inferred:
        tuner.caption("Inferred from the files")
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


TABLE_KEY = "analyse_table"
VIEW_KEY = "analyse_view"
PAGE_KEY = "analyse_page"
PAGE_ROWS = 100  # rows sent at a time: the table pages beyond this
SEARCH_ORDER, BEST_FIRST = "search order", "best score first"


def _new_rows() -> None:
    """Another page or order shows other rows: the selection (row positions) no longer applies."""
    st.session_state.pop(TABLE_KEY, None)


def _new_order() -> None:
    """Another order starts again from its first page."""
    _new_rows()
    st.session_state.pop(PAGE_KEY, None)


def _page_of(result: ProjectResult, table: pd.DataFrame, what: str) -> pd.DataFrame:
    """The rows of ``table`` on the page chosen with the sort, order and page widgets."""
    left, middle, right = st.columns([2, 1, 3], vertical_alignment="bottom")
    sort = left.selectbox(
        "Sort by", [SEARCH_ORDER, BEST_FIRST, *table.columns], key="analyse_sort", on_change=_new_order
    )
    descending = middle.toggle("Descending", key="analyse_descending", on_change=_new_order)
    column = {SEARCH_ORDER: None, BEST_FIRST: "score"}.get(sort, sort)
    if sort == BEST_FIRST:
        descending = descending != (result.objective.direction == "max")
    with right:
        page = st.pagination(math.ceil(len(table) / PAGE_ROWS), key=PAGE_KEY, on_change=_new_rows)
    found = memo(
        result, f"{what}:{column}:{descending}:{page}",
        lambda: table_page(table, page=page, size=PAGE_ROWS, sort_by=column, descending=descending),
    )  # fmt: skip
    st.caption(found.caption() + " Selected rows are highlighted until another page or order is shown.")
    return found.rows


def trials_section(result: ProjectResult) -> list[str]:
    """The filterable, sortable trial table (a page at a time); returns the ids of the selected trials."""
    st.subheader("Trials")
    present = [str(state) for state in result.trials["status"].unique()]  # in order of first appearance
    states = st.multiselect("Show trials that are", present, default=present, key="analyse_states")
    what = "table:" + ",".join(states)
    table = memo(result, what, lambda: display_table(result, states=states))
    paged = len(table) > PAGE_ROWS
    if paged:
        table = _page_of(result, table, what)
    event = st.dataframe(table, key=TABLE_KEY, on_select="rerun", selection_mode="multi-row", placeholder="")
    rows = [r for r in event.selection.rows if r < len(table)]
    selected = [str(table.index[r]) for r in rows]
    if selected:
        st.caption(f"Highlighted in every chart below: trials {', '.join(selected)}.")
    else:
        how = "Sort with the options above" if paged else "Click to sort by a column"
        st.caption(how + "; select rows (left edge) to highlight those trials in every chart.")
    return selected


def views(result: ProjectResult, selected: list[str], labels: dict[str, str]) -> None:
    """The views as tabs; only the open one is computed and sent (another one reruns the page)."""

    def found() -> Importance:  # only two views need it
        return memo(result, "importance", lambda: importance(result))

    draw = {
        "Progress": lambda: progress_tab(result, selected),
        "Learning curves": lambda: curves_tab(result, selected),
        "Slices": lambda: slices_tab(result, selected),
        "Importance": lambda: importance_tab(result, found()),
        "Interaction": lambda: interaction_tab(result),
        "Findings": lambda: findings_tab(result, found()),
        "Hyperband": lambda: hyperband_tab(result, selected),
        "Compare": lambda: compare_tab(result, labels),
        "Downloads": lambda: downloads_tab(result),
        "Narrow and search again": lambda: narrow_tab(result, selected),
    }
    if result.tuner != "hyperband":
        del draw["Hyperband"]
    if (experiment := experiment_of(result)) is not None:  # an experiment opens on its own result view
        draw = {"Experiment": lambda: show_experiment(result, experiment, key="analyse_experiment"), **draw}
    for name, tab in zip(draw, st.tabs(list(draw), key=VIEW_KEY, on_change="rerun"), strict=True):
        if tab.open is not False:  # None: a Streamlit that does not track the open tab draws them all
            with tab:
                draw[name]()


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
    views(result, selected, labels)


use_app_navigation()
main()
