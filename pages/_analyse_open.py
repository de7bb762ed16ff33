"""Analyse page, part 1: choosing a project (found under the roots, a typed folder, an uploaded zip)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from pages._shared import state_look
from tuning.errors import TuningError
from tuning.results import discover
from tuning.results.uploads import extract_project_zip
from tuning.settings import analysis_roots, confine_path
from tuning.store.paths import SearchPaths
from tuning.store.status import read_status

PROJECT_KEY = "analyse_project"
EXTRA_KEY = "analyse_extra_projects"  # folders opened by path or upload, shown in the selectbox too
UPLOADS_KEY = "analyse_uploads"  # upload file id -> extracted projects, so reruns never extract again
FLASH_KEY = "analyse_flash"  # (kind, message) from a callback, shown once
SHOWN_KEY = "analyse_shown"  # the project drawn last
PER_PROJECT_KEYS = (
    "analyse_states",
    "analyse_table",
    "analyse_sort",
    "analyse_descending",
    "analyse_page",
    "analyse_metric",
    "analyse_interaction_x",
    "analyse_interaction_y",
    "analyse_compare",
    "analyse_top_k",
)


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
