"""Best model: the best trial of a search, evaluated on the held-out test set, and trained again for longer.

Choose a search; see its best score and hyperparameters (downloadable as JSON); evaluate the best trial's
model (rebuilt with the weights the search saved) or the final model on the test set the search kept aside:
metrics, per-class scores, the confusion matrix and a gallery of test images. Final training runs in its own
process; its progress is polled every two seconds while it runs. Evaluation is inference only and runs here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from pages._shared import (
    BEST_MODEL_KEY,
    MONITOR_KEY,
    badge_markdown,
    presenting,
    read_project,
    runs_dir,
    runs_dir_caption,
    show_chart,
    use_app_navigation,
)
from tuning.bestmodel import (
    Evaluation,
    FinalStatus,
    HeldOutSet,
    ModelChoice,
    best_hyperparameters_json,
    best_trial,
    default_epochs,
    evaluate_saved,
    final_model_path,
    gallery,
    model_choices,
    read_final_metrics,
    read_final_status,
    rebuild_reason,
    search_config,
    start_final_training,
    stop_final_training,
    trial_table,
)
from tuning.engine.jobs import list_searches
from tuning.errors import TuningError
from tuning.plots.confusion import plot_confusion
from tuning.results import ProjectResult, discover
from tuning.settings import confine_path
from tuning.store.paths import SearchPaths

EVALUATIONS_KEY = "best_model_evaluations"  # ModelChoice.signature() -> (Evaluation, HeldOutSet)
FLASH_KEY = "best_model_flash"
POLL_SECONDS = 2
GALLERY_WIDTH = 96
HOW_CONFUSION = "Rows are the true classes, columns what the model said; the diagonal is right, the rest mistakes."


# ----- choosing a project --------------------------------------------------------------------------------
def project_options() -> dict[str, str]:
    """Project folder -> label: this app's searches in the runs folder, then other projects found there."""
    root = runs_dir()
    options = {str(info.project_dir): info.name for info in list_searches(root)}
    try:
        found = discover(root)
    except TuningError:
        found = []  # no runs folder yet
    for path in found:
        ours = SearchPaths.of(path).is_search()
        options.setdefault(str(path), f"{path.relative_to(root)}{'' if ours else ' (made elsewhere)'}")
    asked = st.session_state.get(BEST_MODEL_KEY)
    if asked and asked not in options:
        try:
            path = confine_path(str(asked))
        except TuningError as error:
            st.warning(str(error))
        else:
            options.setdefault(str(path), str(path))
    return options


def preselected(options: dict[str, str]) -> int:
    """The index of the project asked for: by folder (``open_best_model``) or by a search's name (the monitor's
    choice, or ``?search=NAME``); the monitor's choice wins when it is newer than this page's own."""
    paths = list(options)
    asked = st.session_state.get(BEST_MODEL_KEY)
    name = st.session_state.get(MONITOR_KEY) or st.query_params.get("search")
    by_name = str(runs_dir() / name) if name else None
    in_runs = asked is not None and Path(asked).parent == runs_dir()
    candidates = [by_name, asked] if in_runs else [asked, by_name]
    return next((paths.index(c) for c in candidates if c in paths), 0)


def remember(project_dir: Path) -> None:
    """Keep the choice for the other pages (the monitor's key and the URL name searches of the runs folder)."""
    st.session_state[BEST_MODEL_KEY] = str(project_dir)
    if project_dir.parent == runs_dir() and SearchPaths.of(project_dir).is_search():
        st.session_state[MONITOR_KEY] = project_dir.name
        st.query_params["search"] = project_dir.name


# ----- best trial ----------------------------------------------------------------------------------------
def best_summary(result: ProjectResult) -> None:
    """Best score, trial and hyperparameters, with the hyperparameters as a JSON download."""
    best = best_trial(result)
    score = "–" if best.score is None else f"{best.score:.4g}"
    trial = f"{best.number}" if best.number is not None else "?"
    left, middle, right = st.columns(3)
    left.metric(f"Best {best.objective}", score)
    middle.metric("Trial", f"{trial} (id {best.trial_id})")
    right.metric("Trials completed", len(result.completed))
    st.dataframe(trial_table(best), hide_index=True, key="best_model_hps")
    if presenting():
        return
    st.download_button(
        "Best hyperparameters (JSON)",
        best_hyperparameters_json(result),
        f"{result.name}-best-hyperparameters.json",
        "application/json",
        key="best_model_hps_json",
        icon="⬇️",
    )


# ----- evaluation ----------------------------------------------------------------------------------------
def choose_model(result: ProjectResult) -> ModelChoice:
    """The model to evaluate: the best trial's, or the final model once it exists."""
    choices = [c for c in model_choices(result) if c.which == "best" or c.available]
    labels = [c.label for c in choices]
    label = st.radio("Model", labels, key="best_model_which", horizontal=True) if len(choices) > 1 else labels[0]
    return choices[labels.index(label or labels[0])]


def evaluation_section(result: ProjectResult) -> None:
    """The evaluate button and, once evaluated, the metrics, per-class table, confusion matrix and gallery."""
    st.subheader("On the held-out test set")
    st.caption("Images the search kept aside: never used for training or to choose hyperparameters.")
    choice = choose_model(result)
    if not choice.available:
        st.warning(
            f"The best trial's weights are missing (expected {choice.path}), so its model cannot be evaluated. "
            "Train the best configuration again below to get a model to evaluate."
        )
        return
    cache: dict = st.session_state.setdefault(EVALUATIONS_KEY, {})
    key = choice.signature()
    if st.button("Evaluate on the test set", key="best_model_evaluate", type="primary", icon="🧪"):
        try:
            with st.spinner("Loading the model and predicting the test images…"):
                cache[key] = evaluate_saved(result, choice.which)
        except TuningError as error:
            st.error(str(error))
            return
    if key in cache:
        show_evaluation(*cache[key])


def show_evaluation(evaluation: Evaluation, test_set: HeldOutSet) -> None:
    accuracy, loss, images = st.columns(3)
    accuracy.metric("Test accuracy", f"{evaluation.accuracy:.1%}")
    loss.metric("Test loss", f"{evaluation.loss:.4f}")
    images.metric("Test images", f"{evaluation.total} ({evaluation.mistakes} wrong)")
    st.caption(test_set.label)
    st.dataframe(
        evaluation.per_class_table(),
        hide_index=True,
        key="best_model_per_class",
        column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("precision", "recall", "f1")},
    )
    show_chart(
        plot_confusion(evaluation.y_true, evaluation.y_pred, evaluation.class_names),
        "best_model_confusion",
        HOW_CONFUSION,
    )
    show_gallery(evaluation, test_set)


def show_gallery(evaluation: Evaluation, test_set: HeldOutSet) -> None:
    st.subheader("Test images")
    left, right = st.columns([1, 2])
    mistakes = left.toggle("Show only mistakes", key="best_model_mistakes")
    every = "every class"
    shown = right.selectbox("True class", [every, *evaluation.class_names], key="best_model_gallery_class")
    items = gallery(evaluation, test_set, mistakes_only=mistakes, true_class=None if shown == every else shown)
    if not items:
        st.info("No test image matches: no mistakes there." if mistakes else "No test image of this class.")
        return
    st.image([i.image for i in items], caption=[i.caption for i in items], width=GALLERY_WIDTH, output_format="PNG")


# ----- final training ------------------------------------------------------------------------------------
def final_progress(status: FinalStatus, project_dir: Path) -> None:
    """State, progress and the last metrics of the final training, and its per-epoch history."""
    st.markdown(f"{badge_markdown(status.state)} {status.message}")
    if status.error:
        st.error(status.error)
    if status.is_active or status.state in ("completed", "stopped"):
        text = f"epoch {status.epoch} of {status.epochs}, batch {status.batch} of {status.batches or '?'}"
        st.progress(status.fraction, text=text)
    if status.test:
        st.caption(f"Held-out test set: accuracy {status.test['accuracy']:.1%}, loss {status.test['loss']:.4f}")
    if epochs := read_final_metrics(project_dir):
        table = pd.DataFrame(epochs).reindex(columns=["epoch", "loss", "accuracy", "duration_s"])
        st.dataframe(table, hide_index=True, key="best_model_final_epochs")


def final_controls(result: ProjectResult, status: FinalStatus) -> None:
    """Epochs and training images, Start (or Train again) and Stop."""
    project_dir = result.project_dir
    if status.is_active:
        if st.button("Stop", key="best_model_final_stop", icon="⏹️", disabled=status.state == "stopping"):
            act(lambda: stop_final_training(project_dir), "Stop requested: training stops at the next batch.")
        return
    config = search_config(result)
    left, right = st.columns(2)
    epochs = left.number_input("Epochs", 1, 1000, default_epochs(result), key="best_model_final_epochs_input")
    search_images = config.data.train_size or 0
    sizes = {"search": f"the search's {search_images or 'all'} images (training + validation)", "all": "all"}
    size = right.radio("Training images", list(sizes), format_func=sizes.get, key="best_model_final_size")
    again = final_model_path(project_dir) is not None
    label = "Train again (replaces the final model when done)" if again else "Start final training"
    if st.button(label, key="best_model_final_start", icon="🏋️"):
        act(
            lambda: start_final_training(project_dir, epochs=int(epochs), train_size=size, replace=again),
            "Final training started in the background.",
        )


def act(action: Callable[[], object], message: str) -> None:
    """Run a start/stop action; confirm and rerun the whole page (so polling follows), or show its error."""
    try:
        action()
    except TuningError as error:
        st.error(str(error))
        return
    st.session_state[FLASH_KEY] = message
    st.rerun()


def final_training(result: ProjectResult, polling: bool) -> None:
    """The live part: read the status afresh on every run; rerun the page when polling should start or stop."""
    status = read_final_status(result.project_dir)
    if status.is_active != polling:
        st.rerun()
    if flash := st.session_state.pop(FLASH_KEY, None):
        st.success(flash)
    if status.state != "none":
        final_progress(status, result.project_dir)
    final_controls(result, status)
    if (path := final_model_path(result.project_dir)) and not status.is_active and not presenting():
        st.download_button(
            "Final model (.keras)",
            path.read_bytes,
            f"{result.name}-final.keras",
            "application/octet-stream",
            key="best_model_final_download",
            icon="⬇️",
        )


# ----- the page ------------------------------------------------------------------------------------------
use_app_navigation()
st.title("Best model")
options = project_options()
if not options:
    st.info("No searches yet: start the quick demo on the home page, or design a search. " + runs_dir_caption())
    st.stop()
chosen = st.selectbox(
    "Search", list(options), index=preselected(options), format_func=options.get, key="best_model_select"
)
project_dir = Path(chosen)
remember(project_dir)
try:
    result = read_project(project_dir)
except TuningError as error:
    st.error(str(error))
    st.stop()
if result.best_trial_id is None:
    st.info(rebuild_reason(result) or "No trial has completed yet.")
    st.stop()
best_summary(result)
if reason := rebuild_reason(result):
    st.info(reason)
    st.stop()
evaluation_section(result)
st.subheader("Final training")
st.caption("The best configuration trained from scratch on the whole training set, in the background.")
live = read_final_status(project_dir).is_active
st.fragment(final_training, run_every=POLL_SECONDS if live else None)(result, live)
