"""Background searches as real OS processes: stop, stop now, resume, kill -9, and the lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from searches import read_lines, tiny_config, tiny_space, trial_files, wait_for, wait_for_state
from tuning.engine import jobs
from tuning.errors import ConfigError, SearchLockedError, SearchStateError
from tuning.results import load_project
from tuning.space.specs import Fixed
from tuning.store.paths import SearchPaths
from tuning.store.status import read_status

pytestmark = pytest.mark.timeout(400)


def _slow_config(*, epochs: int = 2, **fields: object) -> object:
    """Trials of a few seconds (epochs of 800 images, two 32-filter blocks): time to act during one."""
    space = tiny_space(epochs=Fixed(epochs), batch_size=Fixed(16), conv_blocks=Fixed(2), filters=Fixed(32))
    return tiny_config(train_size=1000, space=space, **fields)


def _running_trial(project_dir: Path, *, number: int, batch: int = 1) -> bool:
    current = read_status(project_dir).current_trial
    return bool(current and current["number"] == number and current["batch"] >= batch)


def _snapshot(project_dir: Path, trial_ids: list[str]) -> dict[str, bytes]:
    return {
        str(p): p.read_bytes() for i in trial_ids for p in sorted((project_dir / f"trial_{i}").iterdir()) if p.is_file()
    }


def _trial_begins(project_dir: Path) -> list[str]:
    return [e["trial_id"] for e in read_lines(SearchPaths.of(project_dir).events) if e["event"] == "trial_begin"]


def test_stop_after_trial_then_resume_completes_the_grid(tmp_path: Path) -> None:
    handle = jobs.start_search(_slow_config(tuner="grid", max_trials=3, epochs=3), tmp_path, "grid")
    wait_for(lambda: _running_trial(handle.project_dir, number=1), timeout=120, what="trial 1 to train")
    jobs.stop_search(handle.project_dir)
    assert wait_for_state(handle.project_dir, ("stopping",), timeout=10).stop_requested == "after_trial"
    stopped = handle.wait(timeout=120)
    assert stopped.state == "stopped" and handle.process.returncode == 0
    assert stopped.trials_done == 1
    assert [t["status"] for t in trial_files(handle.project_dir).values()] == ["COMPLETED"]

    resumed = jobs.resume_search(handle.project_dir)
    final = resumed.wait(timeout=240)
    assert final.state == "completed", final
    files = trial_files(handle.project_dir)
    assert len(files) == 3 and all(t["status"] == "COMPLETED" for t in files.values())
    # Grid search resumed where it was: three different configurations, no repeat.
    values = [json.dumps(t["hyperparameters"]["values"], sort_keys=True) for t in files.values()]
    assert len(set(values)) == 3
    assert final.session == 2


def test_stop_now_interrupts_the_trial_which_reruns_on_resume(tmp_path: Path) -> None:
    handle = jobs.start_search(_slow_config(max_trials=2), tmp_path, "now")
    wait_for(lambda: _running_trial(handle.project_dir, number=1, batch=3), timeout=120, what="trial 1 to train")
    jobs.stop_search(handle.project_dir, now=True)
    stopped = handle.wait(timeout=30)
    assert stopped.state == "stopped"
    files = trial_files(handle.project_dir)
    assert [t["status"] for t in files.values()] == ["RUNNING"]

    final = jobs.resume_search(handle.project_dir).wait(timeout=240)
    assert final.state == "completed"
    files = trial_files(handle.project_dir)
    assert len(files) == 2 and all(t["status"] == "COMPLETED" for t in files.values())
    first = next(iter(files))
    assert _trial_begins(handle.project_dir).count(first) == 2  # interrupted, then run again


def test_kill_9_mid_trial_then_resume_keeps_finished_trials_byte_for_byte(tmp_path: Path) -> None:
    handle = jobs.start_search(_slow_config(max_trials=3), tmp_path, "kill")
    project_dir = handle.project_dir
    wait_for(lambda: _running_trial(project_dir, number=2, batch=2), timeout=180, what="trial 2 to train")
    finished = [i for i, t in trial_files(project_dir).items() if t["status"] == "COMPLETED"]
    assert len(finished) == 1
    before = _snapshot(project_dir, finished)
    os.kill(handle.pid, signal.SIGKILL)
    handle.process.wait(timeout=30)

    interrupted = read_status(project_dir)
    assert interrupted.state == "interrupted"
    assert "resumed" in interrupted.message
    # The analysis side reads the killed search as it is: one finished trial, one still marked running.
    result = load_project(project_dir)
    assert result.status["state"] == "interrupted" and not result.tuner_inferred
    assert sorted(result.trials["status"]) == ["COMPLETED", "RUNNING"]
    assert result.best_trial_id == finished[0]
    finished_curve = result.curves[(result.curves["trial_id"] == finished[0]) & (result.curves["metric"] == "loss")]
    assert sorted(finished_curve["epoch"]) == [1, 2]

    final = jobs.resume_search(project_dir).wait(timeout=300)
    assert final.state == "completed"
    files = trial_files(project_dir)
    assert len(files) == 3 and all(t["status"] == "COMPLETED" for t in files.values())
    after = _snapshot(project_dir, finished)
    assert {k: v for k, v in after.items() if not k.endswith(".h5")} == {
        k: v for k, v in before.items() if not k.endswith(".h5")
    }
    second = sorted(files)[1]
    assert _trial_begins(project_dir).count(second) == 2


def test_kill_9_during_the_first_trial_then_resume(tmp_path: Path) -> None:
    handle = jobs.start_search(_slow_config(tuner="bayesian", max_trials=2), tmp_path, "first")
    project_dir = handle.project_dir
    wait_for(lambda: _running_trial(project_dir, number=1, batch=2), timeout=120, what="trial 1 to train")
    assert (project_dir / "tuner0.json").is_file()  # saved when the search began, not after trial 0
    os.kill(handle.pid, signal.SIGKILL)
    handle.process.wait(timeout=30)
    assert read_status(project_dir).state == "interrupted"

    final = jobs.resume_search(project_dir).wait(timeout=240)
    assert final.state == "completed"
    files = trial_files(project_dir)
    assert len(files) == 2 and all(t["status"] == "COMPLETED" for t in files.values())
    begins = _trial_begins(project_dir)
    assert begins[0] == begins[1] == sorted(files)[0]  # the first trial ran again, not a new search


def test_a_running_search_cannot_be_started_twice(tmp_path: Path) -> None:
    handle = jobs.start_search(_slow_config(max_trials=2), tmp_path, "locked")
    wait_for(lambda: read_status(handle.project_dir).state == "running", timeout=120, what="the search to run")
    with pytest.raises(SearchLockedError, match=f"already running \\(process {handle.pid}\\)"):
        jobs.resume_search(handle.project_dir)
    cli = subprocess.run(
        [sys.executable, "-m", "tuning", "resume", str(handle.project_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 2
    assert cli.stderr.strip().splitlines()[-1].startswith("error: ")
    assert f"process {handle.pid}" in cli.stderr and "Traceback" not in cli.stderr
    jobs.stop_search(handle.project_dir, now=True)
    assert handle.wait(timeout=60).state == "stopped"


def test_resume_rules(tmp_path: Path) -> None:
    project_dir = jobs.create_search(tiny_config(max_trials=1), tmp_path, "rules")
    with pytest.raises(SearchStateError, match="not running"):
        jobs.stop_search(project_dir)
    with pytest.raises(SearchStateError, match=r"already exists .* with the same settings"):
        jobs.create_search(tiny_config(max_trials=1), tmp_path, "rules")
    with pytest.raises(SearchStateError, match="max_trials: 1 -> 3"):
        jobs.create_search(tiny_config(max_trials=3), tmp_path, "rules")
    with pytest.raises(ConfigError, match="project"):
        jobs.create_search(tiny_config(), tmp_path, "../escape")
    status_file = SearchPaths.of(project_dir).status
    status_file.write_text(json.dumps({"state": "completed", "trials_done": 1}))
    with pytest.raises(SearchStateError, match=r"completed .*larger max_trials"):
        jobs.prepare_resume(project_dir)
    assert jobs.prepare_resume(project_dir, max_trials=2).max_trials == 2
    with pytest.raises(ConfigError, match="already done"):
        jobs.prepare_resume(project_dir, max_trials=0)


def test_the_runner_restarts_itself_to_release_memory_and_carries_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNING_MEMORY_LIMIT_MB", "-1")  # restart between any two trials
    handle = jobs.start_search(tiny_config(max_trials=3), tmp_path, "restarts")
    final = handle.wait(timeout=240)
    assert final.state == "completed" and final.trials_done == 3
    assert final.pid == handle.pid and final.session == 1  # the same process, replaced in place
    log = SearchPaths.of(handle.project_dir).log.read_text()
    assert log.count("continuing in a fresh process") == 2
    begins = _trial_begins(handle.project_dir)
    assert len(begins) == len(set(begins)) == 3  # no trial lost or repeated across restarts
