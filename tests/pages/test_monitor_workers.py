"""The monitor page shows the workers of a search that runs on several processes, and only then."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tuning.store.paths import SearchPaths, write_json_atomic
from tuning.store.status import read_status
from tuning.store.workers import WorkerStatus, worker_file

MONITOR = str(Path(__file__).resolve().parents[2] / "pages" / "monitor.py")


def _worker_tables(at: AppTest) -> list[object]:
    return [frame.value for frame in at.dataframe if "heartbeat_age_s" in frame.value.columns]


@pytest.fixture
def grouped(runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of a finished search, marked as having run on two workers, with their status files."""
    copy = tmp_path / "grouped"
    shutil.copytree(runs / "done", copy)
    shutil.copytree(runs / "done", tmp_path / "single")
    paths = SearchPaths.of(copy)
    write_json_atomic(paths.status, read_status(copy).to_dict() | {"workers": 2})
    now = time.time()
    for name, state, pid in (("worker1", "finished", 101), ("worker2", "died", 102)):
        worker = WorkerStatus(state=state, worker=name, pid=pid, host="box", heartbeat=now - 30, trials_run=1)
        write_json_atomic(worker_file(paths, name), worker.to_dict())
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path))
    return copy


def test_workers_table_for_a_search_on_workers(grouped: Path) -> None:
    at = AppTest.from_file(MONITOR, default_timeout=60)
    at.session_state["monitor_search"] = "grouped"
    at.run()
    assert not at.exception and not at.error
    (table,) = _worker_tables(at)
    assert table["worker"].tolist() == ["worker1", "worker2"]
    assert table["state"].tolist() == ["finished", "died"] and table["pid"].tolist() == [101, 102]
    assert (table["heartbeat_age_s"] >= 30).all()
    assert any("Workers: 2 processes" in c.value for c in at.caption)


def test_no_workers_table_for_a_single_process_search(grouped: Path) -> None:
    at = AppTest.from_file(MONITOR, default_timeout=60)
    at.session_state["monitor_search"] = "single"
    at.run()
    assert not at.exception and _worker_tables(at) == []
