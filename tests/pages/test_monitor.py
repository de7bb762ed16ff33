"""The monitor page: each state shown at a glance, controls per state, trials, charts and live stop."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from searches import tiny_config, wait_for, wait_for_state
from tuning.engine import jobs
from tuning.store.status import read_status

ROOT = Path(__file__).resolve().parents[2]
MONITOR = str(ROOT / "pages" / "monitor.py")
CONTROLS = ("monitor_stop", "monitor_stop_now", "monitor_resume")


def run_monitor(search: str | None = None, *, query: bool = False) -> AppTest:
    at = AppTest.from_file(MONITOR, default_timeout=60)
    if search and query:
        at.query_params["search"] = search
    elif search:
        at.session_state["monitor_search"] = search
    return at.run()


def enabled(at: AppTest) -> dict[str, bool]:
    return {key: not at.button(key=key).disabled for key in CONTROLS}


def page_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_completed_search_shows_trials_and_charts(runs_env: Path) -> None:
    at = run_monitor("done")
    assert not at.exception and not at.error
    assert at.selectbox(key="monitor_select").value == "done"
    assert "✅ completed" in page_text(at)
    assert enabled(at) == {"monitor_stop": False, "monitor_stop_now": False, "monitor_resume": False}
    table = at.dataframe[0].value
    trials = jobs.list_searches(runs_env)
    assert len(table) == 2 == next(s for s in trials if s.name == "done").status.trials_done
    assert {"#", "state", "score", "duration (s)", "filters", "learning_rate"} <= set(table.columns)
    assert set(table["state"]) == {"COMPLETED"}
    assert len(at.get("plotly_chart")) == 3
    assert "2 of 2 trials done" in at.get("progress")[0].proto.text
    assert any(c.value.startswith("Trains on CPU: ") for c in at.caption)  # what trained it


@pytest.mark.parametrize(
    ("name", "badge"),
    [("halted", "⏹️ stopped"), ("broken", "❌ failed"), ("crashed", "⚠️ interrupted")],
)
def test_resumable_states(runs_env: Path, name: str, badge: str) -> None:
    at = run_monitor(name, query=True)
    assert not at.exception
    assert at.selectbox(key="monitor_select").value == name
    assert badge in page_text(at)
    assert enabled(at) == {"monitor_stop": False, "monitor_stop_now": False, "monitor_resume": True}
    assert len(at.dataframe[0].value) == 2


def test_failed_search_shows_its_error(runs_env: Path) -> None:
    at = run_monitor("broken")
    assert [e.value for e in at.error] == ["Training diverged: the loss became nan at batch 3."]


def test_switching_search_in_the_selectbox(runs_env: Path) -> None:
    at = run_monitor("done")
    at.selectbox(key="monitor_select").set_value("crashed").run()
    assert "⚠️ interrupted" in page_text(at)
    assert at.session_state["monitor_search"] == "crashed"
    assert at.query_params["search"] == "crashed"


def test_empty_runs_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path))
    at = run_monitor()
    assert not at.exception
    assert "No searches yet" in at.info[0].value


def test_running_search_can_be_stopped_and_resumed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path))
    handle = jobs.start_search(tiny_config(max_trials=40), tmp_path, "live")
    try:
        wait_for(lambda: read_status(handle.project_dir).trials_done >= 1, timeout=90, what="a first trial")
        at = run_monitor("live")
        assert not at.exception
        assert "🏃 running" in page_text(at)
        assert enabled(at) == {"monitor_stop": True, "monitor_stop_now": True, "monitor_resume": False}
        assert len(at.dataframe[0].value) >= 1
        at.button(key="monitor_stop_now").click().run()
        assert "stops at the next batch" in at.success[0].value
        at.run()  # the page reruns when a trial ends: the confirmation must outlive that
        assert "stops at the next batch" in at.success[0].value
        at.session_state["monitor_flash"] = ("live", "success", "an old confirmation", time.monotonic() - 60)
        assert not at.run().success  # ... for ten seconds, not for ever
        at.session_state["monitor_flash"] = ("another search", "success", "its confirmation", time.monotonic())
        assert not at.run().success and "monitor_flash" not in at.session_state
        wait_for_state(handle.project_dir, ("stopped",), timeout=60)

        at = run_monitor("live")
        assert "⏹️ stopped" in page_text(at)
        assert enabled(at)["monitor_resume"]
        at.button(key="monitor_resume").click().run()
        assert "resumed" in at.success[0].value
    finally:
        wait_for(lambda: read_status(handle.project_dir).state != "stopped", timeout=60, what="the resumed runner")
        if read_status(handle.project_dir).is_active:
            jobs.stop_search(handle.project_dir, now=True)
        wait_for_state(handle.project_dir, ("stopped", "completed", "failed", "interrupted"), timeout=60)


def test_search_not_started_yet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path))
    jobs.create_search(tiny_config(), tmp_path, "fresh")
    at = run_monitor("fresh")
    assert not at.exception and not at.error
    assert "🆕 created" in page_text(at)
    assert not any(enabled(at).values())
    assert "No trial has started yet." in at.info[0].value


def test_presenter_mode_hides_the_log_and_captions_the_charts(runs_env: Path) -> None:
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "pages" / "monitor.py"), default_timeout=60)
    at.query_params["search"] = "done"
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception
    assert not [e for e in at.expander if e.label == "Search log"]
    captions = [c.value for c in at.caption if c.value.startswith("**How to read it:**")]
    assert len(captions) == 3
