"""Fixtures for the page tests: a runs folder holding real searches in every state the pages show."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from searches import tiny_config
from tuning.engine import jobs, launch
from tuning.store.paths import SearchPaths, write_json_atomic
from tuning.store.status import read_status

FAILURE = "Training diverged: the loss became nan at batch 3."


def _copy_with_state(done: Path, name: str, **status: object) -> Path:
    """A copy of a finished search whose status says ``status`` (stopped, failed, interrupted...)."""
    copy = done.parent / name
    shutil.copytree(done, copy)
    data = read_status(done).to_dict() | {"ended_at": None, "current_trial": None} | status
    write_json_atomic(SearchPaths.of(copy).status, data)
    return copy


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder: ``done`` (completed, two trials), ``halted``, ``broken`` (failed), ``crashed``."""
    folder = tmp_path_factory.mktemp("runs")
    done = jobs.create_search(tiny_config(), folder, "done")
    launch.run_search(done, resume=False)
    _copy_with_state(done, "halted", state="stopped", message="Stopped by request.")
    _copy_with_state(done, "broken", state="failed", error=FAILURE, message="The search failed.")
    _copy_with_state(done, "crashed", state="running", pid=None)  # no process holds the lock
    return folder


@pytest.fixture
def runs_env(runs: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HPX_RUNS_DIR", str(runs))
    return runs


@pytest.fixture
def page_switches(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record ``st.switch_page`` calls instead of switching (a page run alone has no navigation)."""
    calls: list[str] = []
    monkeypatch.setattr(st, "switch_page", calls.append)
    yield calls
