"""Analyse page, part 2: the views (figures, findings, comparison, downloads, narrow and search again).

Only the open view is drawn (``pages/analyse.py``). A view with widgets of its own is a fragment: changing
its metric, axes or comparison reruns that view alone. Figures and results are kept per project state
(``pages._cache.kept``), shared by reruns and browser tabs, and every chart draws a bounded sample of the
trials beyond its cap (``tuning.plots.bounded``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from pages._analyse_open import EXTRA_KEY
from pages._cache import kept
from pages._shared import presenting, read_project, show_chart
from tuning.analysis.anova import MEASURES as ANOVA_MEASURES
from tuning.analysis.anova import optuna_importance
from tuning.analysis.compare import ComparisonError
from tuning.analysis.findings import findings
from tuning.analysis.importance import MEASURES as PERMUTATION_MEASURES
from tuning.analysis.importance import Importance
from tuning.design.narrow import Narrowed, best_trials, narrow_config
from tuning.errors import ExportError, TuningError
from tuning.export import to_csv, to_html, to_json, to_python
from tuning.export.common import clean
from tuning.plots.bounded import bounded_curves, bounded_history, bounded_hyperband, bounded_parallel, bounded_slices
from tuning.plots.comparison import plot_comparison
from tuning.plots.importance import plot_importance
from tuning.plots.interaction import plot_interaction
from tuning.results import ProjectResult

PREFILL_KEY = "design_prefill"
PREFILL_NOTE_KEY = "design_prefill_note"
DESIGN_PAGE = "pages/design.py"
T = TypeVar("T")


# ----- per-project memo ----------------------------------------------------------------------------------
def memo(result: ProjectResult, what: str, compute: Callable[[], T]) -> T:
    """``compute()``, kept for this project until its trials change (shared by reruns and browser tabs)."""
    return kept(result, what, compute)


def _ids(selected: Sequence[str]) -> str:
    return ",".join(selected)


# ----- figures and findings ----------------------------------------------------------------------------
def chart(figure: Any, key: str, how: str) -> None:
    show_chart(figure, key)  # larger in presenter mode
    st.caption(("**How to read it:** " if presenting() else "How to read it: ") + how)


def progress_tab(result: ProjectResult, selected: list[str]) -> None:
    how = "each dot is a trial's score; the black step line is the best score reached so far. "
    figure = memo(result, f"history:{_ids(selected)}", lambda: bounded_history(result, highlight=selected))
    chart(figure, "analyse_history", how + "A flat line means no progress.")
    if result.completed.empty:
        st.info("No completed trial yet: parallel coordinates need at least one.")
        return
    how = "each line is a completed trial crossing every hyperparameter's axis; colour is the score (yellow is "
    how += "best). Drag along an axis to keep only the lines through that range; selected trials stay in colour."
    chart(memo(result, f"parallel:{_ids(selected)}", lambda: bounded_parallel(result, highlight=selected)),
          "analyse_parallel", how)  # fmt: skip


@st.fragment
def curves_tab(result: ProjectResult, selected: list[str]) -> None:
    found = {str(m).removeprefix("val_") for m in result.curves["metric"].unique()}
    metrics = sorted(found, key=lambda m: (m != "loss", m)) or ["loss"]
    metric = st.selectbox("Metric", metrics, key="analyse_metric")
    how = "thin lines are every trial, thick ones the best (or selected) trials; a widening gap between "
    figure = memo(
        result, f"curves:{metric}:{_ids(selected)}", lambda: bounded_curves(result, metric, highlight=selected)
    )
    chart(figure, "analyse_curves", how + "training and validation is overfitting.")


def slices_tab(result: ProjectResult, selected: list[str]) -> None:
    figures = memo(result, f"slices:{_ids(selected)}", lambda: bounded_slices(result, highlight=selected))
    if not figures:
        st.info("No hyperparameter varied in this search: nothing to slice.")
    how = "each point is a completed trial; the red line (ranges) or the boxes (choices) show the typical score."
    for i, figure in enumerate(figures):
        chart(figure, f"analyse_slice_{i}", how)


def importance_tab(result: ProjectResult, found: Importance) -> None:
    if found.notice:
        st.info(found.notice)
    anova = memo(result, "importance_ped_anova", lambda: optuna_importance(result))
    how = "the longer the bar, the more the score depended on that hyperparameter"
    left, right = st.columns(2)
    with left:
        st.caption(PERMUTATION_MEASURES)
        chart(plot_importance(result, importances=found), "analyse_importance", how + " (error bars: uncertainty).")
    with right:
        st.caption(ANOVA_MEASURES["ped-anova"])
        chart(plot_importance(result, importances=anova), "analyse_importance_ped_anova", how + ".")


@st.fragment
def interaction_tab(result: ProjectResult) -> None:
    names = [hp.name for hp in result.space if hp.varies and hp.column in result.trials]
    if len(names) < 2:
        st.info("Fewer than two hyperparameters varied: there is no pair to look at.")
        return
    left, right = st.columns(2)
    x = left.selectbox("Across", names, index=0, key="analyse_interaction_x")
    y = right.selectbox("Up", names, index=1, key="analyse_interaction_y")
    if x == y:
        st.warning("Choose two different hyperparameters.")
        return
    how = "each cell is the mean score of the trials in it (hover for how many); blank cells had no trial."
    chart(memo(result, f"interaction:{x}:{y}", lambda: plot_interaction(result, x, y)), "analyse_interaction", how)


def findings_tab(result: ProjectResult, found: Importance) -> None:
    st.caption("How to read it: plain-language observations, each with the numbers it was drawn from.")
    items = memo(result, "findings", lambda: findings(result, importances=found))
    if not items:
        st.info("Nothing stands out in this search.")
    for i, item in enumerate(items):
        {"warning": st.warning, "suggestion": st.success}.get(item.severity, st.info)(item.text)
        with st.expander("Evidence", expanded=False):
            st.json(clean(item.evidence), expanded=True)
            st.caption(f"kind: {item.kind}" + (f", about {item.hyperparameter}" if item.hyperparameter else ""))
        if i >= 50:
            st.caption(f"... and {len(items) - i - 1} more.")
            break


@st.fragment
def compare_tab(result: ProjectResult, labels: dict[str, str]) -> None:
    others = [p for p in [*labels, *st.session_state.get(EXTRA_KEY, [])] if p != str(result.project_dir)]
    chosen = st.multiselect("Compare with", others, key="analyse_compare", format_func=lambda p: labels.get(p, p))
    if not chosen:
        st.caption("Choose other searches on the same objective to compare their progress and scores.")
        return
    try:
        figure = plot_comparison([result, *(read_project(p) for p in chosen)])
    except (ComparisonError, TuningError) as error:
        st.warning(str(error))
        return
    how = "left: the best score each search had reached after so many trials; right: the share of its trials "
    chart(figure, "analyse_comparison", how + "scoring at most a value (curves further to the good side are better).")


@st.fragment
def downloads_tab(result: ProjectResult) -> None:
    name = result.name
    st.download_button(
        "Trials (CSV)", memo(result, "csv", lambda: to_csv(result)), f"{name}.csv", "text/csv", key="analyse_csv"
    )
    st.download_button(
        "Everything (JSON)", memo(result, "json", lambda: to_json(result)), f"{name}.json", "application/json",
        key="analyse_json",
    )  # fmt: skip
    st.download_button(
        "Report (HTML, opens offline)", memo(result, "html", lambda: to_html(result)), f"{name}.html", "text/html",
        key="analyse_html",
    )  # fmt: skip
    try:
        script = memo(result, "py", lambda: to_python(result))
    except ExportError as error:
        st.info(f"No Python script for this project: {error}")
        return
    st.download_button(
        "Best configuration as a Python script", script, "best_model.py", "text/x-python", key="analyse_py"
    )
    st.caption("Run the script from this repository's folder: `python best_model.py` retrains and saves the model.")


# ----- narrow and search again -------------------------------------------------------------------------
@st.fragment
def narrow_tab(result: ProjectResult, selected: list[str]) -> None:
    if selected:
        trial_ids: Sequence[str] = selected
        st.caption(f"The space spanned by the {len(selected)} selected trials.")
    else:
        done = len(result.completed)
        if not done:
            st.info("No completed trial yet: nothing to narrow to.")
            return
        k = st.number_input("Best trials to keep", 1, done, min(5, done), key="analyse_top_k")
        trial_ids = best_trials(result, int(k))
        st.caption(f"The space spanned by the {len(trial_ids)} best completed trials (or select trials above).")
    try:
        narrowed = narrow_config(result, trial_ids)
    except TuningError as error:
        st.error(str(error))
        return
    if narrowed.changed:
        rows = [(name, *change) for name, change in narrowed.changed.items()]
        changes = pd.DataFrame(rows, columns=["hyperparameter", "was", "becomes"])
        st.dataframe(changes, hide_index=True, key="analyse_narrow_changes")
    else:
        st.info("These trials span the whole space already: nothing would change.")
    for note in narrowed.notes:
        st.caption(note)
    if st.button("Narrow and search again", key="analyse_narrow", type="primary", icon="🔎"):
        open_design(narrowed)


def open_design(narrowed: Narrowed) -> None:
    """Open the design page showing ``narrowed.config``."""
    st.session_state[PREFILL_KEY] = narrowed.config
    st.session_state[PREFILL_NOTE_KEY] = (
        f"The search space was narrowed from project {narrowed.project} "
        f"(trials {', '.join(narrowed.trial_ids)}). Check it, then start the search."
    )
    st.switch_page(DESIGN_PAGE)


def hyperband_tab(result: ProjectResult, selected: list[str]) -> None:
    how = "each row is a bracket; trials move right as they get more epochs, lines join a trial to its promotion."
    figure = memo(result, f"hyperband:{_ids(selected)}", lambda: bounded_hyperband(result, highlight=selected))
    chart(figure, "analyse_hyperband", how)
