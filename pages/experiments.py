"""Experiments: change one hyperparameter (or two), hold every other one fixed, and watch what it does.

Ready-made experiments start with one click; your own vary one or two hyperparameters from the defaults,
a preset or the best trial of a search. The result view follows the chosen experiment live: coloured
learning curves, the final score per value (a heatmap for two), and a conclusion computed from the runs.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages._experiment_view import show_experiment
from pages._shared import (
    EXPERIMENT_KEY,
    badge_markdown,
    is_live,
    open_monitor,
    presenting,
    read_project,
    runs_dir,
    start_experiment,
    use_app_navigation,
)
from tuning.analysis.experiment import experiment_of
from tuning.design.experiments import DEFAULTS, PRESET_PREFIX, experiment_from_form, suggested_values
from tuning.design.forms import PRESETS
from tuning.engine import jobs
from tuning.errors import TuningError
from tuning.space.experiment import READY
from tuning.space.hyperparameters import HYPERPARAMETERS
from tuning.store.status import read_status

POLL_SECONDS = 2
use_app_navigation()
st.title("Experiments")
st.markdown("Change **one** thing, keep everything else fixed, and see what it does.")


def ready_buttons() -> None:
    """One big button per ready-made experiment; a click starts it and shows it below."""
    st.subheader("Ready-made experiments")
    columns = st.columns(3)
    for index, ready in enumerate(READY.values()):
        if columns[index % 3].button(ready.question, key=f"experiments_ready_{ready.key}", use_container_width=True):
            launch(ready.config())
        if not presenting():
            columns[index % 3].caption(ready.shows)


def launch(config: object) -> None:
    try:
        start_experiment(config)
    except TuningError as error:
        st.error(str(error))
        return
    st.rerun()


def own_form() -> None:
    """Vary one or two hyperparameters of your choice from a baseline."""
    with st.expander("Your own experiment", expanded=False):
        names = [info.name for info in HYPERPARAMETERS]
        label = {info.name: info.label for info in HYPERPARAMETERS}
        left, right = st.columns(2)
        first = left.selectbox("Vary", names, index=names.index("learning_rate"), format_func=label.get,
                               key="experiments_first")  # fmt: skip
        first_values = left.text_input("Values", suggested_values(first), key=f"experiments_values_{first}")
        second = right.selectbox("And (optional)", [None, *names], format_func=lambda n: label.get(n, "nothing else"),
                                 key="experiments_second")  # fmt: skip
        second_values = ""
        if second:
            second_values = right.text_input("Values", suggested_values(second), key=f"experiments_values2_{second}")
        base = baseline_choice()
        dataset = st.radio("Dataset", ("synthetic", "digits", "cifar10"), horizontal=True, key="experiments_dataset")
        epochs = st.number_input("Epochs of every run", 1, 100, 5, key="experiments_epochs")
        if st.button("Start the experiment", key="experiments_start", type="primary"):
            vary = {first: first_values, **({second: second_values} if second else {})}
            form = {"vary": vary, "base": base, "dataset": dataset, "epochs": int(epochs)}
            try:
                config = experiment_from_form(form, load=read_project)
            except TuningError as error:
                st.error(str(error))
                return
            launch(config)


def baseline_choice() -> str:
    """``defaults``, ``preset:NAME`` or a search folder whose best trial is the baseline."""
    kind = st.radio("Everything else stays at", ("the defaults", "a preset", "the best trial of a search"),
                    horizontal=True, key="experiments_base_kind")  # fmt: skip
    if kind == "a preset":
        return PRESET_PREFIX + st.selectbox("Preset", list(PRESETS), key="experiments_preset")
    if kind == "the best trial of a search":
        searches = [info for info in jobs.list_searches(runs_dir()) if info.status.trials_done]
        if not searches:
            st.caption("No search with finished trials yet: the defaults are used.")
            return DEFAULTS
        chosen = st.selectbox("Search", [info.name for info in searches], key="experiments_base_search")
        return str(Path(runs_dir()) / chosen)
    return DEFAULTS


def result_view(project_dir: Path, polling: bool) -> None:
    """The chosen experiment as it is now: state, conclusion, coloured curves, final scores."""
    status = read_status(project_dir)
    if is_live(project_dir, status) != polling:
        st.rerun()
    badge, monitor = st.columns([4, 1], vertical_alignment="center")
    badge.markdown(f"{badge_markdown(status.state)} {status.message}")
    if not presenting() and monitor.button("Open in the monitor", key="experiments_monitor", icon="📈"):
        open_monitor(project_dir.name)
    try:
        result = read_project(project_dir)
    except TuningError as error:
        st.error(str(error))
        return
    summary = experiment_of(result)
    if summary is None:
        st.warning(f"{project_dir.name} is not an experiment.")
        return
    show_experiment(result, summary, key="experiments")


ready_buttons()
if not presenting():
    own_form()

experiments = [info for info in jobs.list_searches(runs_dir()) if info.experiment]
if not experiments:
    st.info("No experiment yet: click one of the questions above.")
    st.stop()
names = [info.name for info in experiments]
wanted = st.session_state.get(EXPERIMENT_KEY) or st.query_params.get("experiment")
st.subheader("Result")
chosen = st.selectbox("Experiment", names, index=names.index(wanted) if wanted in names else 0,
                      key="experiments_select")  # fmt: skip
st.session_state[EXPERIMENT_KEY] = chosen
st.query_params["experiment"] = chosen
info = experiments[names.index(chosen)]
polling = is_live(info.project_dir, info.status)
st.fragment(result_view, run_every=POLL_SECONDS if polling else None)(info.project_dir, polling)
