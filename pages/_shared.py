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
from tuning.config import SearchConfig
from tuning.data import DataSpec
from tuning.results import ProjectReader, ProjectResult
from tuning.settings import runs_dir
from tuning.space import SearchSpace
from tuning.specs import Choice, Fixed, FloatRange
from tuning.status import SearchStatus
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
    if seconds is None:
        return "–"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


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


def quick_demo_config() -> SearchConfig:
    """A small random search on the synthetic images: six trials of two epochs, about two minutes on a CPU."""
    space = SearchSpace().with_values(
        conv_blocks=Fixed(2),
        filters=Choice((16, 32)),
        batch_norm=Fixed(False),
        dense_layers=Fixed(0),
        dropout=FloatRange(0.0, 0.4, step=0.2),
        optimizer=Fixed("adam"),
        learning_rate=FloatRange(1e-4, 1e-2, sampling="log"),
        batch_size=Fixed(64),
        epochs=Fixed(2),
    )
    data = DataSpec(name="synthetic", train_size=1500, validation_split=0.2, test_size=300, seed=0)
    return SearchConfig(space=space, data=data, tuner="random", max_trials=6, seed=0)


QUICK_DEMO = quick_demo_config()


def start_quick_demo() -> jobs.SearchHandle:
    """Start the quick demo in the background, in the runs folder under a fresh name; returns at once."""
    return jobs.start_search(QUICK_DEMO, runs_dir(), None)
