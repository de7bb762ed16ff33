"""Small helpers the pages share: the runs folder, cached project readers, state badges, the quick demo.

This is the one module through which pages read searches repeatedly: a ``ProjectReader`` per project
folder is kept in ``st.session_state`` so each poll of the monitor re-reads only what changed on disk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from tuning import jobs
from tuning.forms import PRESETS
from tuning.results import ProjectReader, ProjectResult
from tuning.settings import runs_dir
from tuning.status import SearchStatus, format_duration
from tuning.store import SearchPaths

__all__ = [
    "MONITOR_KEY",
    "QUICK_DEMO",
    "StateLook",
    "badge_markdown",
    "format_seconds",
    "is_live",
    "open_monitor",
    "read_project",
    "runs_dir",
    "runs_dir_caption",
    "score_text",
    "show_badge",
    "start_quick_demo",
    "state_look",
]

MONITOR_KEY = "monitor_search"
MONITOR_PAGE = "pages/monitor.py"
_READERS_KEY = "_shared_project_readers"
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
    """Whether a view of the search should keep polling: it runs, or it was just created and is starting."""
    if status.is_active:
        return True
    if status.state != "created":
        return False
    try:
        age = time.time() - SearchPaths.of(project_dir).status.stat().st_mtime
    except OSError:
        return False
    return age < STARTUP_GRACE_S


def read_project(project_dir: str | Path) -> ProjectResult:
    """The project as it is on disk now, re-reading only what changed since this session's last read."""
    readers: dict[str, ProjectReader] = st.session_state.setdefault(_READERS_KEY, {})
    key = str(Path(project_dir).absolute())
    if key not in readers:
        readers[key] = ProjectReader(key)
    return readers[key].refresh()


def open_monitor(project_name: str) -> None:
    """Show the search named ``project_name`` on the monitor page."""
    st.session_state[MONITOR_KEY] = project_name
    st.switch_page(MONITOR_PAGE)


QUICK_DEMO = PRESETS["quick demo"]  # the same search as the design page's "quick demo" preset


def start_quick_demo() -> jobs.SearchHandle:
    """Start the quick demo in the background, in the runs folder under a fresh name; returns at once."""
    return jobs.start_search(QUICK_DEMO, runs_dir(), None)
