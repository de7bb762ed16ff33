"""Monitor: one search's state, progress and controls, and its results, live while it runs.

The live part is a fragment that re-reads the status and (incrementally) the project every two seconds
while the search is active, and stops polling once it is not. It sends only what changes while a trial
trains: the state, progress, the running trial's learning curve and the log's tail, so a poll's size does
not grow with the finished trials. The finished trials' table and charts are drawn by the whole page, once
per finished trial (the fragment reruns the page when the count of finished trials changes), from figures
kept per project state (``pages._cache``) and bounded whatever the number of trials
(``tuning.plots.bounded``). Nothing here trains or waits on training.
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from pages._cache import kept
from pages._shared import (
    MONITOR_KEY,
    badge_markdown,
    format_seconds,
    is_live,
    note_started,
    presenting,
    read_project,
    runs_dir,
    runs_dir_caption,
    score_text,
    show_chart,
    use_app_navigation,
)
from tuning.engine import jobs
from tuning.errors import TuningError
from tuning.export.tables import display_table
from tuning.plots.bounded import bounded_curves, bounded_history, bounded_parallel, trial_curves
from tuning.results import ProjectResult
from tuning.store.paths import SearchPaths, tail_text
from tuning.store.status import SearchStatus, read_status
from tuning.store.workers import workers_table

POLL_SECONDS = 2
HOW_HISTORY = "Each dot is a trial's score; the step line is the best reached so far. A flat line: no progress."
HOW_PARALLEL = "Each line is a trial crossing every hyperparameter's axis; colour is the score (yellow is best)."
HOW_CURVES = "Thin lines are every trial, thick ones the best; a widening training-validation gap is over-fitting."
RESUMABLE = ("stopped", "interrupted", "failed")
FLASH_KEY = "monitor_flash"  # (search, "success" or "error", message, when): what a control did
RERUN_KEY = "monitor_acted"  # a control acted: the fragment reruns the page
# The page reruns whenever a trial ends (every second or two in a quick search): a confirmation shown only
# until the next rerun could vanish before it is read, so it stays this long on the search it was for.
FLASH_SECONDS = 10
SEEN_KEY = "monitor_seen"  # (search, finished trials) the page drew last
METRIC_KEY = "monitor_metric"
LISTED = 10
LAZY_ROWS = 1_000  # failed or pruned trials named one by one; the others are counted

use_app_navigation()
st.title("Monitor a search")
searches = jobs.list_searches(runs_dir())
if not searches:
    st.info("No searches yet: start the quick demo on the home page, or design a search. " + runs_dir_caption())
    st.stop()

names = [info.name for info in searches]
wanted = st.session_state.get(MONITOR_KEY) or st.query_params.get("search")
chosen = st.selectbox("Search", names, index=names.index(wanted) if wanted in names else 0, key="monitor_select")
st.session_state[MONITOR_KEY] = chosen
st.query_params["search"] = chosen
info = searches[names.index(chosen)]

if flash := st.session_state.get(FLASH_KEY):
    search, kind, message, when = flash
    if search == chosen and time.monotonic() - when < FLASH_SECONDS:
        (st.error if kind == "error" else st.success)(message)
    else:
        del st.session_state[FLASH_KEY]


def act(action: str, project_dir: Path, search: str) -> None:
    """A control button's callback: run its action and keep the confirmation (or the error) to show.

    A callback runs before the next script run, so a click is never lost to the fragment's own rerun of
    the page (which happens whenever a trial ends); the fragment then reruns the whole page to show it.
    """
    try:
        if action == "stop":
            jobs.stop_search(project_dir, now=False)
            message = "Stop requested: the search stops when the current trial ends."
        elif action == "stop_now":
            jobs.stop_search(project_dir, now=True)
            message = "Stop requested: the search stops at the next batch; that trial runs again on resume."
        else:
            jobs.resume_search(project_dir)
            note_started(project_dir)
            message = "Search resumed in the background."
    except TuningError as error:
        st.session_state[FLASH_KEY] = (search, "error", str(error), time.monotonic())
    else:
        st.session_state[FLASH_KEY] = (search, "success", message, time.monotonic())
    st.session_state[RERUN_KEY] = True


def controls(status: SearchStatus, project_dir: Path) -> None:
    """The three control buttons, each enabled only where it makes sense."""
    running = status.state in ("starting", "running")
    left, middle, right = st.columns(3)
    args = (project_dir, chosen)
    left.button(
        "Stop after this trial", key="monitor_stop", disabled=not running, icon="⏸️", on_click=act, args=("stop", *args)
    )
    middle.button(
        "Stop now",
        key="monitor_stop_now",
        disabled=not status.is_active,
        icon="⏹️",
        on_click=act,
        args=("stop_now", *args),
    )
    right.button(
        "Resume",
        key="monitor_resume",
        disabled=status.state not in RESUMABLE,
        icon="▶️",
        on_click=act,
        args=("resume", *args),
    )


def progress(status: SearchStatus, objective: str) -> None:
    """State badge and message, trials done of planned, the current trial, elapsed time and ETA."""
    st.markdown(f"{badge_markdown(status.state)} {status.message}")
    if status.error:
        st.error(status.error)
    planned = max(status.trials_planned, status.trials_done, 1)
    st.progress(min(status.trials_done / planned, 1.0), text=f"{status.trials_done} of {planned} trials done")
    if current := status.current_trial:
        st.caption(
            f"Trial {current.get('number', '?')}: epoch {current.get('epoch') or 0} of {current.get('epochs', '?')}, "
            f"batch {current.get('batch') or 0} of {current.get('batches', '?')}"
        )
    if status.device:
        processes = f" on {status.workers_in_use} worker processes" if status.workers_in_use > 1 else ""
        st.caption(f"Trains on {status.device}{processes}.")
    elapsed, eta, best = st.columns(3)
    elapsed.metric("Elapsed", format_seconds(status.elapsed_seconds()))
    eta.metric("Time left (estimate)", format_seconds(status.eta_seconds()))
    best.metric("Best so far", score_text(status, objective))


def problems(result: ProjectResult) -> None:
    """Failed trials (with their messages) and pruned ones, the first few by name."""
    trials = result.trials
    failed = trials[trials["status"].isin(["FAILED", "INVALID"])]
    for trial_id, row in failed.head(LISTED).iterrows():
        st.warning(f"Trial {row['number']} (id {trial_id}) failed: {row['message'] or 'no message recorded'}")
    if len(failed) > LISTED:
        st.caption(f"... and {len(failed) - LISTED:,} more failed trials (see the table).")
    pruned = result.pruned
    if not pruned.empty:
        lines = [
            f"- Trial {row['number']} (id {trial_id}): {row['message']}"
            for trial_id, row in pruned.head(LISTED).iterrows()
        ]
        lines += [f"- ... and {len(pruned) - LISTED:,} more (see the table)."] * (len(pruned) > LISTED)
        st.info(f"{len(pruned)} trial(s) stopped early (pruned), saving their remaining epochs:\n" + "\n".join(lines))


def results(result: ProjectResult) -> None:
    """The trial table, best-so-far, parallel coordinates, learning curves and failed trials (drawn once
    per finished trial, not at every poll)."""
    if result.trials.empty:
        st.info("No trial has started yet.")
        return
    st.subheader("Trials")
    table = kept(result, "table", lambda: display_table(result))
    st.dataframe(table, key="monitor_trials", lazy=len(table) > LAZY_ROWS, placeholder="")  # lazy: rows as scrolled
    problems(result)
    show_chart(kept(result, "history", lambda: bounded_history(result)), "monitor_history", HOW_HISTORY)
    if not result.completed.empty:  # full width: one axis per hyperparameter needs the room
        show_chart(kept(result, "parallel", lambda: bounded_parallel(result)), "monitor_parallel", HOW_PARALLEL)
    st.subheader("Learning curves")
    metric = st.segmented_control("Metric", ["loss", "accuracy"], default="loss", key=METRIC_KEY) or "loss"
    figure = kept(result, f"curves:{metric}", lambda: bounded_curves(result, metric))
    show_chart(figure, "monitor_curves", HOW_CURVES)


def running_trial(result: ProjectResult, status: SearchStatus) -> None:
    """The learning curve of the trial training now, epoch by epoch."""
    running = str((status.current_trial or {}).get("trial_id", ""))
    if running not in result.trials.index:
        return
    metric = st.session_state.get(METRIC_KEY) or "loss"
    st.plotly_chart(trial_curves(result, running, metric), key="monitor_running_curves")


def finished(project_dir: Path, status: SearchStatus) -> tuple[str, int, str]:
    """What the page's finished-trial charts depend on: the search, its finished trials, its state."""
    return (str(project_dir), status.trials_done, status.state)


def live(project_dir: Path, objective: str, polling: bool) -> None:
    """Everything that changes while a trial trains, read afresh on each run of the fragment; reruns the
    whole page (its finished-trial charts) when polling starts or stops or another trial has finished."""
    status = read_status(project_dir)
    acted = st.session_state.pop(RERUN_KEY, False)
    if (
        acted
        or is_live(project_dir, status) != polling
        or st.session_state.get(SEEN_KEY) != finished(project_dir, status)
    ):
        st.rerun()
    progress(status, objective)
    controls(status, project_dir)
    if status.workers and not presenting():
        chief = f", chief at {status.chief}" if status.chief else ""
        st.caption(f"Workers: {status.workers} processes{chief}")
        st.dataframe(workers_table(project_dir), key="monitor_workers", hide_index=True)
    if status.is_active:
        try:
            running_trial(read_project(project_dir), status)
        except TuningError as error:
            st.error(str(error))
    if not presenting():
        with st.expander("Search log"):
            st.code(tail_text(SearchPaths.of(project_dir).log) or "(empty)", language="text")


polling = is_live(info.project_dir, info.status)
st.session_state[SEEN_KEY] = finished(info.project_dir, read_status(info.project_dir))
st.fragment(live, run_every=POLL_SECONDS if polling else None)(info.project_dir, info.objective, polling)
try:
    project = read_project(info.project_dir)
except TuningError as error:
    st.error(str(error))
    st.stop()
results(project)
