"""Searches on several worker processes, on loopback: a real chief, real workers, real training."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from searches import cli, diverging_space, read_lines, tiny_config, tiny_space, trial_files, wait_for, wait_for_state
from tuning.engine import jobs
from tuning.engine.chief import threads_per_worker, worker_environment
from tuning.results import load_project
from tuning.space.specs import Fixed, FloatRange
from tuning.store.paths import SearchPaths
from tuning.store.status import read_status
from tuning.store.workers import WORKER_COLUMNS, read_workers, worker_file, workers_table

pytestmark = pytest.mark.timeout(400)


def _group_config(**fields: object) -> object:
    return tiny_config(max_trials=4, workers=2, **fields)


def _trial_ends(project_dir: Path) -> list[dict]:
    return [e for e in read_lines(SearchPaths.of(project_dir).events) if e["event"] == "trial_end"]


def _epochs_by_trial(project_dir: Path) -> dict[str, list[int]]:
    """Each trial's epochs as the results reader shows them (one curve per trial, reruns replacing)."""
    curves = load_project(project_dir).curves
    loss = curves[(curves["metric"] == "loss") & (curves["source"] == "engine")]
    return {str(t): sorted(group["epoch"].tolist()) for t, group in loss.groupby("trial_id")}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _check_completed(project_dir: Path, *, trials: int, epochs: int) -> None:
    status = read_status(project_dir)
    assert status.state == "completed", (status, (SearchPaths.of(project_dir).log).read_text()[-3000:])
    assert (status.trials_done, status.trials_by_status, status.error) == (trials, {"completed": trials}, None)
    files = trial_files(project_dir)
    assert len(files) == trials and all(t["status"] == "COMPLETED" for t in files.values())
    oracle = json.loads((project_dir / "oracle.json").read_text())
    assert oracle["ongoing_trials"] == {} and oracle["retry_queue"] == []
    assert sorted(oracle["end_order"]) == sorted(files)  # each trial ended once: none ran twice to the end
    ends = _trial_ends(project_dir)
    assert Counter(e["trial_id"] for e in ends) == Counter(dict.fromkeys(files, 1))
    assert _epochs_by_trial(project_dir) == {i: list(range(1, epochs + 1)) for i in files}
    assert status.chief is None and status.workers == 2


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A chief and two workers that ran a 4-trial search to its end, with ``$TMPDIR`` in ``<base>/tmp``."""
    base = tmp_path_factory.mktemp("group")
    (base / "tmp").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(base / "tmp"))
        handle = jobs.start_search(_group_config(), base, "pair")
    handle.wait(timeout=300)
    return handle.project_dir


def test_two_workers_complete_a_search_and_share_its_trials(finished: Path) -> None:
    _check_completed(finished, trials=4, epochs=1)
    ends = _trial_ends(finished)
    by_worker = Counter(e["worker"] for e in ends)
    assert set(by_worker) == {"worker1", "worker2"} and sum(by_worker.values()) == 4
    workers = read_workers(finished)
    assert [(w.worker, w.state, w.exit_code) for w in workers] == [
        ("worker1", "finished", 0),
        ("worker2", "finished", 0),
    ]
    assert {w.worker: w.trials_run for w in workers} == dict(by_worker)
    assert all(w.threads == threads_per_worker(2) for w in workers)
    metrics = read_lines(SearchPaths.of(finished).metrics)
    assert sorted(m["trial_id"] for m in metrics) == sorted(trial_files(finished))
    assert all(isinstance(m[k], float) for m in metrics for k in ("loss", "val_accuracy", "duration_s"))
    status = read_status(finished)
    assert status.epochs_done == 4 and status.seconds_training == pytest.approx(sum(m["duration_s"] for m in metrics))
    log = SearchPaths.of(finished).log.read_text()
    assert "Chief listening on 127.0.0.1:" in log and "[worker1] Worker worker1" in log and "[worker2]" in log
    # On Linux the workers are forks of the leader's zygote (tuning.engine.forking), whose parent is the leader;
    # each line a worker logs is written once, by the worker's own handler, not also by one it inherited.
    assert "Started worker1 (pid " in log and ("forked)" in log) == sys.platform.startswith("linux")
    assert log.count("[worker1] Worker worker1 (pid") == 1 and log.count("Worker worker1 (pid") == 1
    # once both workers train, the leader (which never does) hands back the library pages only it maps
    if sys.platform.startswith("linux"):
        assert log.count("The leader handed back ") == 1 and " MB of library pages it does not use." in log


def test_a_finished_search_leaves_nothing_in_the_temporary_folder(finished: Path) -> None:
    # Forked workers end with os._exit, so AutoGraph's atexit clean-up of the files it writes never ran.
    assert sorted(p.name for p in (finished.parent / "tmp").iterdir()) == []
    log = SearchPaths.of(finished).log.read_text()
    assert "Started worker1" in log and "forked" in log


def test_the_best_model_of_a_distributed_search_is_rebuilt_and_evaluated(finished: Path) -> None:
    from tuning.bestmodel import best_trial, evaluate_saved

    result = load_project(finished)
    best = best_trial(result)
    assert best.has_weights and best.weights == finished / f"trial_{best.trial_id}" / "checkpoint.weights.h5"
    evaluation, test_set = evaluate_saved(result, "best")
    assert evaluation.total == len(test_set.y) == 100
    assert evaluation.accuracy == (evaluation.y_pred == evaluation.y_true).mean()


def test_the_workers_table_and_the_command_line_status(finished: Path) -> None:
    table = workers_table(finished, now=time.time() + 5)
    assert list(table.columns) == list(WORKER_COLUMNS)
    assert table["worker"].tolist() == ["worker1", "worker2"] and table["state"].tolist() == ["finished"] * 2
    assert table["trial"].isna().all() and (table["heartbeat_age_s"] >= 5).all()
    text = cli("status", str(finished), timeout=60).stdout
    assert "workers:  2" in text and "worker1" in text and "worker2" in text and "finished" in text
    data = json.loads(cli("status", str(finished), "--json", timeout=60).stdout)
    assert [w["worker"] for w in data["worker_processes"]] == ["worker1", "worker2"]


def test_a_killed_worker_has_its_trial_run_again(tmp_path: Path) -> None:
    config = _group_config(train_size=600, space=tiny_space(epochs=Fixed(2)))
    handle = jobs.start_search(config, tmp_path, "kill")
    paths = SearchPaths.of(handle.project_dir)

    def training() -> tuple[int, str] | None:
        for worker in read_workers(handle.project_dir):
            if worker.current_trial and worker.state == "running":
                return worker.pid, worker.current_trial["trial_id"]
        return None

    pid, trial_id = wait_for(training, timeout=180, what="a worker training a trial")
    os.kill(pid, signal.SIGKILL)
    status = handle.wait(timeout=300)
    _check_completed(handle.project_dir, trials=4, epochs=2)
    assert status.session >= 2  # raised when the lost trial went back to the queue
    begins = Counter(e["trial_id"] for e in read_lines(paths.events) if e["event"] == "trial_begin")
    assert begins[trial_id] == 2 and sum(begins.values()) == 5
    log = paths.log.read_text()
    assert f"(pid {pid}) died (killed by signal 9); trial {trial_id} will run again" in log
    assert not _alive(pid)


def test_stop_now_and_resume_a_distributed_search(tmp_path: Path) -> None:
    config = _group_config(train_size=600, space=tiny_space(epochs=Fixed(2)))
    handle = jobs.start_search(config, tmp_path, "pause")
    project_dir = handle.project_dir
    wait_for(
        lambda: sum(bool(w.current_trial) for w in read_workers(project_dir)) == 2,
        timeout=180,
        what="both workers training",
    )
    jobs.stop_search(project_dir, now=True)
    stopped = handle.wait(timeout=120)
    assert stopped.state == "stopped" and "interrupted trials will run again" in stopped.message
    assert stopped.trials_done < 4
    workers = read_workers(project_dir)
    assert [w.state for w in workers] == ["stopped", "stopped"] and not any(_alive(w.pid) for w in workers)
    oracle = json.loads((project_dir / "oracle.json").read_text())
    events = read_lines(SearchPaths.of(project_dir).events)
    unfinished = {e["trial_id"] for e in events if e["event"] == "trial_begin"} - {
        e["trial_id"] for e in _trial_ends(project_dir)
    }
    assert oracle["ongoing_trials"] == {} and sorted(oracle["retry_queue"]) == sorted(unfinished) and unfinished

    resumed = jobs.resume_search(project_dir, workers=2)
    wait_for_state(project_dir, ("completed", "failed"), timeout=300)
    resumed.wait(timeout=60)
    _check_completed(project_dir, trials=4, epochs=2)
    assert read_status(project_dir).session > stopped.session


def test_failure_messages_reach_the_trial_files_and_repeated_failures_end_the_search(tmp_path: Path) -> None:
    space = diverging_space(learning_rate=Fixed(1.0), dropout=FloatRange(0.0, 0.5))
    config = tiny_config(max_trials=6, workers=2, space=space, max_consecutive_failures=2)
    handle = jobs.start_search(config, tmp_path, "diverge")
    status = handle.wait(timeout=300)
    assert status.state == "failed" and "trials in a row failed" in status.error
    files = trial_files(handle.project_dir)
    failed = [t for t in files.values() if t["status"] == "FAILED"]
    assert len(failed) >= 2 and all("diverged" in (t["message"] or "") for t in failed)
    ends = [e for e in _trial_ends(handle.project_dir) if e["status"] == "FAILED"]
    assert ends and all("diverged" in e["message"] and "Traceback" in e["details"] for e in ends)
    assert all(not _alive(w.pid) for w in read_workers(handle.project_dir))


def test_each_worker_gets_its_share_of_threads_and_its_own_gpu() -> None:
    base = {"PATH": "/bin", "KERASTUNER_TUNER_ID": "chief", "PYTHONPATH": "/x"}
    env = [worker_environment(i, threads=3, gpus=["0", "1"], base=base) for i in range(3)]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in env] == ["0", "1", "0"]
    assert all(e["TF_NUM_INTRAOP_THREADS"] == e["OMP_NUM_THREADS"] == "3" for e in env)
    assert all("KERASTUNER_TUNER_ID" not in e and e["PYTHONPATH"].endswith(os.pathsep + "/x") for e in env)
    assert "CUDA_VISIBLE_DEVICES" not in worker_environment(0, threads=1, gpus=[], base=base)


def test_threads_per_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUNING_WORKER_THREADS", raising=False)
    assert threads_per_worker(1) == os.cpu_count()
    assert threads_per_worker(10**6) == 1
    monkeypatch.setenv("TUNING_WORKER_THREADS", "3")
    assert threads_per_worker(2) == 3


def test_a_dead_worker_file_is_read_as_lost(tmp_path: Path) -> None:
    project_dir = jobs.create_search(tiny_config(workers=2), tmp_path, "files")
    path = worker_file(SearchPaths.of(project_dir), "worker1")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"state": "running", "worker": "worker1", "pid": 1, "heartbeat": time.time()}))
    (worker,) = read_workers(project_dir)  # the search itself is not running
    assert (worker.worker, worker.state) == ("worker1", "lost")
    assert path.read_text().count('"running"') == 1  # readers change nothing


def test_workers_end_when_their_leader_is_killed_and_one_process_resumes_the_search(tmp_path: Path) -> None:
    config = _group_config(train_size=600, space=tiny_space(epochs=Fixed(2)))
    handle = jobs.start_search(config, tmp_path, "orphans")
    project_dir = handle.project_dir
    workers = wait_for(
        lambda: (ws := read_workers(project_dir)) and all(w.current_trial for w in ws) and len(ws) == 2 and ws,
        timeout=180,
        what="both workers training",
    )
    os.kill(handle.pid, signal.SIGKILL)
    handle.process.wait(timeout=30)
    wait_for(lambda: not any(_alive(w.pid) for w in workers), timeout=30, what="the workers to end")
    assert read_status(project_dir).state == "interrupted"
    assert {w.state for w in read_workers(project_dir)} <= {"stopped", "lost"}

    jobs.resume_search(project_dir, workers=1).wait(timeout=300)  # the same search, now in one process
    status = read_status(project_dir)
    assert (status.state, status.trials_done, status.workers) == ("completed", 4, 0)
    assert _epochs_by_trial(project_dir) == {i: [1, 2] for i in trial_files(project_dir)}
    assert all(t["status"] == "COMPLETED" for t in trial_files(project_dir).values())


def test_a_worker_started_by_hand_joins_a_running_search(tmp_path: Path) -> None:
    config = tiny_config(max_trials=6, workers=2, train_size=1000, space=tiny_space(epochs=Fixed(2)))
    handle = jobs.start_search(config, tmp_path, "joined")
    project_dir = handle.project_dir
    wait_for(lambda: read_status(project_dir).chief, timeout=120, what="the chief's address")
    extra = cli("worker", str(project_dir), "--id", "extra", "--threads", "1", timeout=300)
    assert extra.returncode == 0, extra.stderr[-3000:]
    assert "[extra] Worker extra" in extra.stdout and "[extra] Worker extra: no trial left." in extra.stdout
    handle.wait(timeout=300)
    _check_completed(project_dir, trials=6, epochs=2)
    by_worker = Counter(e["worker"] for e in _trial_ends(project_dir))
    assert by_worker["extra"] >= 1 and sum(by_worker.values()) == 6
    states = {w.worker: (w.state, w.trials_run) for w in read_workers(project_dir)}
    assert states["extra"] == ("finished", by_worker["extra"])
