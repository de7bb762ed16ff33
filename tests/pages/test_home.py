"""The home page: recent searches with their states, the way into the monitor, and the quick demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from searches import wait_for, wait_for_state
from tuning.design.forms import PRESETS
from tuning.engine import jobs
from tuning.store.paths import SearchPaths
from tuning.store.status import read_status

ROOT = Path(__file__).resolve().parents[2]
HOME = str(ROOT / "pages" / "home.py")


def run_home() -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=60)
    return at.run()


def test_lists_searches_with_their_states(runs_env: Path) -> None:
    at = run_home()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    for name in ("done", "halted", "broken", "crashed"):
        assert f"**{name}**" in text
    for badge in ("✅ completed", "⏹️ stopped", "❌ failed", "⚠️ interrupted"):
        assert badge in text
    assert "2 / 2 trials" in text
    assert "val_accuracy" in text
    assert {b.key for b in at.button} >= {"home_quick_demo", "home_open_done", "home_open_broken"}


def test_open_button_goes_to_the_monitor(runs_env: Path, page_switches: list[str]) -> None:
    at = run_home()
    at.button(key="home_open_broken").click().run()
    assert page_switches == ["pages/monitor.py"]
    assert at.session_state["monitor_search"] == "broken"


def test_empty_runs_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path / "nothing"))
    at = run_home()
    assert not at.exception
    assert "No searches yet" in at.info[0].value


def test_quick_demo_starts_a_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page_switches: list[str]) -> None:
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path))
    at = run_home()
    at.button(key="home_quick_demo").click().run()
    assert not at.exception and not at.error
    [project] = [p for p in tmp_path.iterdir() if SearchPaths.of(p).is_search()]
    assert page_switches == ["pages/monitor.py"]
    assert at.session_state["monitor_search"] == project.name
    try:
        status = wait_for_state(project, ("starting", "running"), timeout=60)
        assert status.pid is not None and status.trials_planned in (0, PRESETS["quick demo"].max_trials)
    finally:
        wait_for(lambda: read_status(project).state != "created", timeout=60, what="the runner to start")
        if read_status(project).is_active:
            jobs.stop_search(project, now=True)
        wait_for_state(project, ("stopped", "completed", "failed", "interrupted"), timeout=60)
