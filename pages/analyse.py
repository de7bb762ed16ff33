"""Analyse: any Keras Tuner project (ours or anyone's), its trials, every figure and finding, downloads.

Choose a project (found under the analysis roots, a typed folder confined to them, or an uploaded zip),
read it once (incrementally, through ``pages._shared.read_project``), then draw. Trials selected in the
table are highlighted in every figure, and "Narrow and search again" opens the design page pre-filled with
the space they span. Expensive results (importance, the HTML report) are kept per project until it changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from pages._shared import read_project, state_look, use_app_navigation
from tuning.analysis.compare import ComparisonError
from tuning.analysis.findings import findings
from tuning.analysis.importance import Importance, importance
from tuning.analysis.text import direction_text, score_text
from tuning.errors import ExportError, TuningError
from tuning.export import to_csv, to_html, to_json, to_python
from tuning.export.common import clean, hp_values
from tuning.export.tables import display_table, trial_counts
from tuning.narrow import Narrowed, best_trials, narrow_config
from tuning.plots.comparison import plot_comparison
from tuning.plots.curves import plot_curves
from tuning.plots.history import plot_history
from tuning.plots.hyperband import plot_hyperband
from tuning.plots.importance import plot_importance
from tuning.plots.interaction import plot_interaction
from tuning.plots.parallel import plot_parallel
from tuning.plots.slices import plot_slices
from tuning.results import ProjectResult, discover
from tuning.settings import analysis_roots, confine_path
from tuning.specs import format_value
from tuning.status import read_status
from tuning.store import SearchPaths
from tuning.uploads import extract_project_zip

PROJECT_KEY = "analyse_project"
EXTRA_KEY = "analyse_extra_projects"  # folders opened by path or upload, shown in the selectbox too
UPLOADS_KEY = "analyse_uploads"  # upload file id -> extracted projects, so reruns never extract again
FLASH_KEY = "analyse_flash"  # (kind, message) from a callback, shown once
MEMO_KEY = "analyse_memo"
SHOWN_KEY = "analyse_shown"  # the project drawn last
PER_PROJECT_KEYS = (
    "analyse_states",
    "analyse_table",
    "analyse_metric",
    "analyse_interaction_x",
    "analyse_interaction_y",
    "analyse_compare",
    "analyse_top_k",
)
PREFILL_KEY = "design_prefill"
PREFILL_NOTE_KEY = "design_prefill_note"
DESIGN_PAGE = "pages/design.py"
T = TypeVar("T")


# ----- choosing a project ------------------------------------------------------------------------------
@st.cache_data(ttl=5, show_spinner=False)
def _found(roots: tuple[str, ...]) -> dict[str, str]:
    """Every project under ``roots``: path -> readable label (``root name/relative path``)."""
    options: dict[str, str] = {}
    for root in map(Path, roots):
        try:
            projects = discover(root)
        except TuningError:
            continue  # a root that does not exist yet (the runs or uploads folder before first use)
        for project in projects:
            options.setdefault(str(project), f"{root.name}/{project.relative_to(root)}")
    return options


def _label(path: str, labels: dict[str, str]) -> str:
    label = labels.get(path, path)
    if SearchPaths.of(path).is_search():
        look = state_look(read_status(path).state)
        return f"{label} · {look.emoji} {look.label}"
    return label


def _flash(kind: str, message: str) -> None:
    st.session_state[FLASH_KEY] = (kind, message)


def _add_projects(projects: Sequence[Path], where: str) -> None:
    """Offer ``projects`` in the selectbox and select the first one."""
    extra: list[str] = st.session_state.setdefault(EXTRA_KEY, [])
    extra += [str(p) for p in projects if str(p) not in extra]
    st.session_state[PROJECT_KEY] = str(projects[0])
    more = f" ({len(projects)} projects found; the first is shown)" if len(projects) > 1 else ""
    _flash("success", f"Opened {where}{more}.")


def _open_typed_path() -> None:
    """Callback of the folder input: confine the path to the analysis roots, find its projects."""
    text = st.session_state.get("analyse_path", "")
    if not text.strip():
        return
    try:
        projects = discover(confine_path(text))
    except TuningError as error:
        _flash("error", str(error))
        return
    if not projects:
        _flash("error", f"No Keras Tuner project in {text.strip()}: expected a folder holding oracle.json.")
        return
    _add_projects(projects, text.strip())


def _open_upload() -> None:
    """Callback of the zip uploader: extract it once (kept by file id), then select its first project."""
    upload = st.session_state.get("analyse_upload")
    if upload is None:
        return
    uploads: dict[str, list[str]] = st.session_state.setdefault(UPLOADS_KEY, {})
    if upload.file_id not in uploads:
        try:
            uploads[upload.file_id] = [str(p) for p in extract_project_zip(upload, name=upload.name).projects]
        except TuningError as error:
            _flash("error", str(error))
            return
    _add_projects([Path(p) for p in uploads[upload.file_id]], upload.name)


def _wanted(options: list[str], labels: dict[str, str]) -> str | None:
    """The project named by the ``project`` query parameter (path, label or folder name), if any."""
    wanted = st.query_params.get("project")
    if not wanted:
        return None
    for path in options:
        if wanted in (path, labels.get(path), Path(path).name):
            return path
    return None


def choose_project() -> tuple[Path | None, dict[str, str]]:
    """The three ways to choose a project; returns the chosen folder and every option's label."""
    labels = _found(tuple(str(r) for r in analysis_roots()))
    options = list(dict.fromkeys([*labels, *st.session_state.get(EXTRA_KEY, [])]))
    with st.expander("Open another folder, or upload a zip of a tuner directory"):
        st.text_input("Folder path (inside the analysis folders)", key="analyse_path", on_change=_open_typed_path)
        st.file_uploader("Zip of a Keras Tuner directory", type=["zip"], key="analyse_upload", on_change=_open_upload)
        st.caption("Folders that may be analysed: " + ", ".join(f"`{r}`" for r in analysis_roots()))
    if flash := st.session_state.pop(FLASH_KEY, None):
        getattr(st, flash[0])(flash[1])
    if not options:
        return None, labels
    if st.session_state.get(PROJECT_KEY) not in options:
        st.session_state[PROJECT_KEY] = _wanted(options, labels) or options[0]
    chosen = st.selectbox("Project", options, key=PROJECT_KEY, format_func=lambda p: _label(p, labels))
    st.query_params["project"] = labels.get(chosen, chosen)
    if st.session_state.get(SHOWN_KEY, chosen) != chosen:  # another project: its own filters and selection
        for key in PER_PROJECT_KEYS:
            st.session_state.pop(key, None)
    st.session_state[SHOWN_KEY] = chosen
    return Path(chosen), labels


# ----- per-project memo ----------------------------------------------------------------------------------
def memo(result: ProjectResult, what: str, compute: Callable[[], T]) -> T:
    """``compute()``, kept for this project until its trials change (so reruns do not recompute it)."""
    trials = result.trials
    ended = trials["ended_at"].max() if len(trials) else None
    ended = None if ended is None or pd.isna(ended) else float(ended)  # NaN never equals itself
    fingerprint = (len(trials), tuple(trials["status"].value_counts().sort_index().items()), ended)
    store: dict[tuple[str, str], tuple[Any, Any]] = st.session_state.setdefault(MEMO_KEY, {})
    key = (str(result.project_dir), what)
    if key not in store or store[key][0] != fingerprint:
        store[key] = (fingerprint, compute())
    return store[key][1]


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


# ----- figures and findings ----------------------------------------------------------------------------
def chart(figure: Any, key: str, how: str) -> None:
    st.plotly_chart(figure, key=key)
    st.caption("How to read it: " + how)


def progress_tab(result: ProjectResult, selected: list[str]) -> None:
    how = "each dot is a trial's score; the black step line is the best score reached so far. "
    chart(plot_history(result, highlight=selected), "analyse_history", how + "A flat line means no progress.")
    if result.completed.empty:
        st.info("No completed trial yet: parallel coordinates need at least one.")
        return
    how = "each line is a completed trial crossing every hyperparameter's axis; colour is the score (yellow is "
    how += "best). Drag along an axis to keep only the lines through that range; selected trials stay in colour."
    chart(plot_parallel(result, highlight=selected), "analyse_parallel", how)


def curves_tab(result: ProjectResult, selected: list[str]) -> None:
    found = {str(m).removeprefix("val_") for m in result.curves["metric"].unique()}
    metrics = sorted(found, key=lambda m: (m != "loss", m)) or ["loss"]
    metric = st.selectbox("Metric", metrics, key="analyse_metric")
    how = "thin lines are every trial, thick ones the best (or selected) trials; a widening gap between "
    chart(
        plot_curves(result, metric, highlight=selected),
        "analyse_curves",
        how + "training and validation is overfitting.",
    )


def slices_tab(result: ProjectResult, selected: list[str]) -> None:
    figures = plot_slices(result, highlight=selected)
    if not figures:
        st.info("No hyperparameter varied in this search: nothing to slice.")
    how = "each point is a completed trial; the red line (ranges) or the boxes (choices) show the typical score."
    for i, figure in enumerate(figures):
        chart(figure, f"analyse_slice_{i}", how)


def importance_tab(result: ProjectResult, found: Importance) -> None:
    if found.notice:
        st.info(found.notice)
    how = "the longer the bar, the more the score depended on that hyperparameter (error bars: uncertainty)."
    chart(plot_importance(result, importances=found), "analyse_importance", how)


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
    chart(plot_interaction(result, x, y), "analyse_interaction", how)


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
