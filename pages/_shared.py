"""Small helpers the pages share: the runs folder, cached project readers, state badges, the quick demo.

This is the one module through which pages read searches repeatedly: a ``ProjectReader`` per project
folder is kept for the whole server (shared by sessions and browser tabs, at most ``READERS`` of them, each
used by one session at a time), so each poll of the monitor re-reads only what changed on disk and a second
tab on the same project does not read it again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from tuning.design.experiments import experiment_project_name
from tuning.design.forms import PRESETS
from tuning.engine import jobs
from tuning.results import ProjectReader, ProjectResult
from tuning.settings import runs_dir
from tuning.space.config import SearchConfig
from tuning.store.paths import SearchPaths
from tuning.store.status import SearchStatus, format_duration

__all__ = [
    "BEST_MODEL_KEY",
    "EXPERIMENT_KEY",
    "MONITOR_KEY",
    "PRESENT_KEY",
    "PRESENT_PARAM",
    "QUICK_DEMO",
    "StateLook",
    "badge_markdown",
    "entered_through_app",
    "format_seconds",
    "is_live",
    "note_started",
    "open_best_model",
    "open_experiment",
    "open_monitor",
    "presenting",
    "read_project",
    "runs_dir",
    "runs_dir_caption",
    "score_text",
    "show_badge",
    "show_chart",
    "start_experiment",
    "start_quick_demo",
    "state_look",
    "use_app_navigation",
]

EXPERIMENT_KEY = "experiments_search"
EXPERIMENTS_PAGE = "pages/experiments.py"
PRESENT_KEY = "presenter_mode"
PRESENT_PARAM = "present"
PRESENTER_FONT = 18
PRESENTER_HEIGHT = 560
MONITOR_KEY = "monitor_search"
MONITOR_PAGE = "pages/monitor.py"
BEST_MODEL_KEY = "best_model_project"  # the project folder the best-model page shows
BEST_MODEL_PAGE = "pages/best_model.py"
READERS = 8  # project readers kept (each holds its project's tables); the least recently used goes first
READER_TTL_S = 3600
_STARTS_KEY = "_shared_started_searches"
_ENTRY_RERUNS_KEY = "_shared_entry_reruns"
ENTRY_POINT = "app.py"
_ENTRY = threading.local()  # per script-runner thread: did app.py choose the page of this run?
STARTUP_GRACE_S = 60.0


@dataclass(frozen=True)
class StateLook:
    """How a search state is shown: a plain label, a badge colour and an emoji."""

    label: str
    color: str
    emoji: str


STATE_LOOKS = {
    "created": StateLook("created", "gray", "🆕"),
    "starting": StateLook("starting", "blue", "⏳"),
    "running": StateLook("running", "blue", "🏃"),
    "stopping": StateLook("stopping", "orange", "✋"),
    "stopped": StateLook("stopped", "gray", "⏹️"),
    "completed": StateLook("completed", "green", "✅"),
    "failed": StateLook("failed", "red", "❌"),
    "interrupted": StateLook("interrupted", "orange", "⚠️"),
}


def entered_through_app() -> None:
    """Note that ``app.py``'s navigation chose the page about to run (``app.py`` calls this every run)."""
    _ENTRY.through_app = True


def use_app_navigation() -> None:
    """Make sure this page runs inside ``app.py``'s navigation; call it first thing on every page.

    Streamlit decides per server process whether the app uses ``st.navigation`` only once the entry
    point has run. Until then (a fresh server whose first visitors open deep links such as
    ``/monitor?search=demo``, e.g. tabs reloaded after the server restarted) it runs page files on
    their own with the legacy ``pages/`` folder navigation: wrong menu, no page config. A page run
    that way notices that ``app.py`` did not choose it, leaves legacy mode and reruns through ``app.py``.
    A page run alone as the main script (``AppTest.from_file("pages/x.py")``) is left alone.
    """
    through_app, _ENTRY.through_app = getattr(_ENTRY, "through_app", False), False
    if through_app:
        return
    try:
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:  # a Streamlit without these internals: nothing to correct
        return
    ctx = get_script_run_ctx()
    if ctx is None or Path(ctx.main_script_path).name != ENTRY_POINT:
        return
    reruns = st.session_state.get(_ENTRY_RERUNS_KEY, 0)
    if reruns >= 3:  # never loop, whatever a future Streamlit does
        return
    st.session_state[_ENTRY_RERUNS_KEY] = reruns + 1
    PagesManager.uses_pages_directory = False
    st.rerun()


def state_look(state: str) -> StateLook:
    """The label, colour and emoji of a search state (unknown states read grey)."""
    return STATE_LOOKS.get(state, StateLook(state, "gray", "❔"))


def badge_markdown(state: str) -> str:
    """A coloured Markdown badge for ``state``, for use inside ``st.markdown`` text."""
    look = state_look(state)
    return f":{look.color}-badge[{look.emoji} {look.label}]"


def show_badge(state: str) -> None:
    """Draw the state badge on its own."""
    look = state_look(state)
    st.badge(look.label, icon=look.emoji, color=look.color)


def runs_dir_caption() -> str:
    """A one-line note saying where searches are kept."""
    return f"Searches are kept in `{runs_dir()}` (set `HPX_RUNS_DIR` to use another folder)."


def format_seconds(seconds: float | None) -> str:
    """``1 h 02 min``, ``3 min 05 s``, ``12 s``; an en dash when unknown."""
    return "–" if seconds is None else format_duration(seconds)


def score_text(status: SearchStatus, objective: str) -> str:
    """The best score so far with its objective (``0.812 val_accuracy``), or an en dash."""
    score = (status.best or {}).get("score")
    return "–" if score is None else f"{float(score):.4g} {objective}"


def is_live(project_dir: str | Path, status: SearchStatus) -> bool:
    """Whether a view of the search should keep polling: it runs, or it is about to (just created, resumed)."""
    if status.is_active:
        return True
    try:
        written = SearchPaths.of(project_dir).status.stat().st_mtime
    except OSError:
        return False
    if status.state == "created":
        return time.time() - written < STARTUP_GRACE_S
    # Resumed from this session: the old status stays until the new runner process writes its own.
    requested = st.session_state.get(_STARTS_KEY, {}).get(str(Path(project_dir).absolute()))
    return requested is not None and written < requested and time.time() - requested < STARTUP_GRACE_S


def note_started(project_dir: str | Path) -> None:
    """Remember that this session just (re)started the search, so its views poll until the runner reports."""
    st.session_state.setdefault(_STARTS_KEY, {})[str(Path(project_dir).absolute())] = time.time()


@st.cache_resource(max_entries=READERS, ttl=READER_TTL_S, show_spinner=False)
def _reader(folder: str) -> tuple[ProjectReader, threading.Lock]:
    return ProjectReader(folder), threading.Lock()


def read_project(project_dir: str | Path) -> ProjectResult:
    """The project as it is on disk now, re-reading only what changed since the server's last read of it."""
    reader, lock = _reader(str(Path(project_dir).absolute()))
    with lock:
        return reader.refresh()


def open_monitor(project_name: str) -> None:
    """Show the search named ``project_name`` on the monitor page."""
    st.session_state[MONITOR_KEY] = project_name
    st.switch_page(MONITOR_PAGE)


def open_best_model(project_dir: str | Path) -> None:
    """Show the project in ``project_dir`` (a search of the runs folder, or any project) on the best-model page."""
    st.session_state[BEST_MODEL_KEY] = str(Path(project_dir).absolute())
    st.switch_page(BEST_MODEL_PAGE)


QUICK_DEMO = PRESETS["quick demo"]  # the same search as the design page's "quick demo" preset


def start_quick_demo() -> jobs.SearchHandle:
    """Start the quick demo in the background, in the runs folder under a fresh name; returns at once."""
    return jobs.start_search(QUICK_DEMO, runs_dir(), None)


def start_experiment(config: SearchConfig) -> jobs.SearchHandle:
    """Start an experiment in the background in the runs folder; the experiments page then shows it."""
    handle = jobs.start_search(config, runs_dir(), experiment_project_name(config))
    note_started(handle.project_dir)
    st.session_state[EXPERIMENT_KEY] = handle.project_dir.name
    return handle


def open_experiment(config: SearchConfig) -> None:
    """Start an experiment and switch to the experiments page, which follows it."""
    start_experiment(config)
    st.switch_page(EXPERIMENTS_PAGE)


def presenting() -> bool:
    """Whether presenter mode is on (the sidebar toggle, or ``?present=1`` in the address)."""
    if PRESENT_KEY not in st.session_state:
        return st.query_params.get(PRESENT_PARAM) in ("1", "true", "yes")
    return bool(st.session_state[PRESENT_KEY])


def show_chart(figure: go.Figure, key: str, how: str | None = None) -> None:
    """A Plotly chart; in presenter mode with larger text and height, and its "how to read it" as a caption."""
    if presenting():  # a copy: the figure may be cached and shared with views not presenting
        figure = go.Figure(figure).update_layout(font={"size": PRESENTER_FONT}, height=PRESENTER_HEIGHT)
    st.plotly_chart(figure, key=key)
    if how and presenting():
        st.caption(f"**How to read it:** {how}")
