"""One worker of a distributed search: asks the chief's oracle for trials, trains them, writes our files.

Started by the group leader (``tuning.engine.group``) on this machine, or by hand on another machine with
``python -m tuning worker PROJECT_DIR --chief HOST:PORT`` (the project folder on a shared filesystem).
It talks to the chief through Keras Tuner's own gRPC client, and writes what that client drops itself:
every epoch's metrics go to ``explorer/metrics.jsonl`` and every trial's end, failure message included,
to ``explorer/events.jsonl`` (append-only lines: safe across processes and machines). Its own status,
with a heartbeat, is ``explorer/workers/<id>.json``.

Exit codes tell the leader what happened: 0 no trial left, 2 a user error (not worth a restart),
3 stopped on request, 4 the chief is gone, 75 restart me (memory), anything else a crash.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import socket
import sys
import threading
import time
import traceback
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import grpc
import keras_tuner
import psutil
from keras_tuner.src.distribute import oracle_client

from tuning.engine import background
from tuning.engine.lifecycle import (
    EXIT_CHIEF_GONE,
    EXIT_CRASHED,
    EXIT_FINISHED,
    EXIT_RESTART,
    EXIT_STOPPED,
    EXIT_USER_ERROR,
    data_progress,
    memory_limit_from_env,
    search_callbacks,
    stop_on_signals,
)
from tuning.engine.machine import set_precision, this_machine
from tuning.engine.recorder import Recorder, RestartProcess, SearchStopped
from tuning.errors import ConfigError, SearchNotFoundError, SearchStateError, TuningError
from tuning.space.config import SearchConfig
from tuning.store.paths import SearchPaths, append_jsonl, read_json
from tuning.store.status import STALE_AFTER_SECONDS, StatusWriter
from tuning.store.workers import (
    WorkerStatus,
    check_worker_id,
    default_worker_id,
    format_address,
    parse_address,
    read_worker,
    worker_file,
)

log = logging.getLogger("tuning.search")
CONNECT_SECONDS = 30.0
CHIEF_TIMEOUT_SECONDS = 120  # Keras Tuner waits an hour for an unreachable chief; a worker gives up sooner
IDLE_WAIT_SECONDS = 0.5
PARENT_GRACE_SECONDS = 10.0


class GroupOracleClient(oracle_client.OracleClient):
    """Keras Tuner's gRPC client, plus what our recorder asks of an oracle that a worker can know."""

    def __init__(self, oracle: keras_tuner.Oracle, project_dir: Path) -> None:
        super().__init__(oracle)
        self.start_order: list[str] = []
        self._oracle_file = project_dir / "oracle.json"

    def create_trial(self, tuner_id: str) -> Any:
        trial = super().create_trial(tuner_id)
        if trial.status == keras_tuner.engine.trial.TrialStatus.IDLE:
            time.sleep(IDLE_WAIT_SECONDS)  # Hyperband waits for a round to finish: ask again, gently
        elif trial.status == keras_tuner.engine.trial.TrialStatus.RUNNING:
            self.start_order = self._read_start_order(trial.trial_id)
        return trial

    def remaining_trials(self) -> None:
        """Unknown on a worker (only the chief knows); the recorder then never skips its memory check."""
        return None

    def _read_start_order(self, trial_id: str) -> list[str]:
        """The chief saves its oracle before answering; trial ids count up in start order otherwise."""
        order = [str(i) for i in (read_json(self._oracle_file) or {}).get("start_order") or []]
        if trial_id in order:
            return order
        return [f"{i:0{len(trial_id)}d}" for i in range(int(trial_id) + 1)] if trial_id.isdigit() else [trial_id]


class WorkerRecorder(Recorder):
    """The recorder of a worker: the chief keeps the counts; the worker records its trials' outcomes."""

    def __init__(self, paths: SearchPaths, writer: StatusWriter, *, worker_id: str, **options: Any) -> None:
        super().__init__(paths, writer, **options)
        self.worker_id = worker_id

    def trial_begin(self, tuner: keras_tuner.Tuner, trial: Any) -> None:
        # The leader raises the session when it requeues a dead worker's trial: the rerun's epochs then
        # replace the lost attempt's in every reader, as after a resume.
        self.session = int((read_json(self.paths.status) or {}).get("session") or self.session)
        self.writer.update(state="running", session=self.session, force=False)
        super().trial_begin(tuner, trial)

    def trial_end(self, tuner: keras_tuner.Tuner, trial: Any) -> None:
        saved = tuner.oracle.get_trial(trial.trial_id)  # the chief's verdict (score; INVALID -> FAILED)
        duration = time.time() - self._trial_started
        fields = self.end_fields(saved)
        details = trial.message if saved.status != "COMPLETED" or "pruned" in fields else None
        message = details.strip().splitlines()[-1].strip() if details and details.strip() else None
        event = {
            "event": "trial_end",
            "trial_id": trial.trial_id,
            "session": self.session,
            "time": time.time(),
            **fields,
            "score": saved.score,
            "best_step": saved.best_step,
            "duration_s": round(duration, 3),
            "message": message,
            "details": details,
            "worker": self.worker_id,
        }
        append_jsonl(self.paths.events, event)
        self.writer.update(current_trial=None, trials_run=self.writer.status.trials_run + 1)
        outcome = f"{tuner.oracle.objective.name} {saved.score:.4f}" if saved.score is not None else message
        log.info("Trial %s %s in %.1f s: %s", saved.trial_id, fields["status"].lower(), duration, outcome)
        if self._baseline_mb is None:  # after the first trial: TensorFlow's one-off warm-up excluded
            self._baseline_mb = psutil.Process().memory_info().rss / 2**20
        self.poll_stop(force=True)
        if self.stop_mode == "after_trial":
            raise SearchStopped("after_trial")


def connect(tuner: keras_tuner.Tuner, chief: str, worker_id: str, project_dir: Path) -> None:
    """Turn ``tuner`` into a worker of the chief at ``chief`` (HOST:PORT), as Keras Tuner's variables do."""
    host, port = parse_address(chief)
    ip = f"[{host}]" if ":" in host else host  # Keras Tuner dials f"{ip}:{port}"
    os.environ.update(KERASTUNER_ORACLE_IP=ip, KERASTUNER_ORACLE_PORT=str(port), KERASTUNER_TUNER_ID=worker_id)
    oracle_client.TIMEOUT = CHIEF_TIMEOUT_SECONDS
    tuner.tuner_id = worker_id
    tuner.oracle = GroupOracleClient(tuner.oracle, project_dir)


def check_chief(chief: str, *, timeout: float = CONNECT_SECONDS) -> None:
    """Raise ``SearchStateError`` unless the oracle service at ``chief`` answers within ``timeout``."""
    channel = grpc.insecure_channel(format_address(*parse_address(chief)))
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        raise SearchStateError(
            f"No chief answers at {chief} (waited {timeout:.0f} s). Start or resume the search with --workers N "
            "(and --listen on an address this machine can reach), then give the address that "
            "`python -m tuning status` shows."
        ) from None
    finally:
        channel.close()


def check_name_free(paths: SearchPaths, worker_id: str) -> None:
    """Refuse a name the leader gives its own workers, or one a live worker uses: they would share trials."""
    if re.fullmatch(r"worker\d+", worker_id):
        raise ConfigError("worker id", f"{worker_id!r} is reserved for the chief's own workers; choose another --id.")
    saved = read_worker(worker_file(paths, worker_id))
    if saved is not None and saved.is_active and time.time() - (saved.heartbeat or 0.0) < STALE_AFTER_SECONDS:
        raise SearchStateError(
            f"A worker named {worker_id!r} is already running (pid {saved.pid} on {saved.host}); choose another --id."
        )


def set_threads(threads: int | None) -> None:
    """Limit TensorFlow to ``threads`` CPU threads in this process (before it runs anything)."""
    if threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def worker_logging(paths: SearchPaths, worker_id: str, *, console: bool) -> AbstractContextManager[None]:
    """The worker's log lines go to the search log, prefixed by its name (and to the terminal)."""
    return background.log_lines(log, file=paths.log, console=console, prefix=f"[{worker_id}] ")


def watch_parent(parent_pid: int, on_gone: Any) -> None:
    """Call ``on_gone`` when the leader that started this worker has died; end the process soon after."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        on_gone()
        time.sleep(PARENT_GRACE_SECONDS)
        os._exit(EXIT_CHIEF_GONE)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run_worker(
    project_dir: str | os.PathLike[str],
    *,
    chief: str,
    worker_id: str | None = None,
    threads: int | None = None,
    parent_pid: int | None = None,
    memory_limit_mb: float | None = None,
    console: bool = False,
) -> int:
    """Work on the search in ``project_dir`` for the chief at ``chief`` until no trial is left; the exit code."""
    paths = SearchPaths.of(project_dir)
    if not paths.is_search():
        raise SearchNotFoundError(f"{paths.project_dir} is not a search made by this app (no {paths.config.name}).")
    worker_id = check_worker_id(worker_id or default_worker_id())
    config = SearchConfig.load(paths.config)
    if parent_pid is None:  # started by hand, maybe on another machine
        check_name_free(paths, worker_id)
        check_chief(chief)
    search_plan = config.plan()
    writer = StatusWriter(
        paths,
        WorkerStatus(
            state="starting",
            pid=os.getpid(),
            worker=worker_id,
            host=socket.gethostname(),
            threads=threads,
            gpu=os.environ.get("CUDA_VISIBLE_DEVICES"),
            started_at=time.time(),
            session=int((read_json(paths.status) or {}).get("session") or 0),
            trials_planned=search_plan.trials,
            message="Loading data…",
        ),
        path=worker_file(paths, worker_id),
    )
    writer.update()
    writer.start_heartbeat()
    try:
        with worker_logging(paths, worker_id, console=console):
            code, state, error = _work(config, paths, writer, chief, worker_id, threads, parent_pid, memory_limit_mb)
    finally:
        writer.stop_heartbeat()
    writer.update(state=state, exit_code=code, error=error, current_trial=None, ended_at=time.time(), message="")
    return code


def _work(
    config: SearchConfig,
    paths: SearchPaths,
    writer: StatusWriter,
    chief: str,
    worker_id: str,
    threads: int | None,
    parent_pid: int | None,
    memory_limit_mb: float | None,
) -> tuple[int, str, str | None]:
    """Train trials until the chief has none left; (exit code, final state, error)."""
    from tuning.data import load_dataset
    from tuning.engine.tuners import make_tuner

    recorder: WorkerRecorder | None = None
    if parent_pid is not None:
        watch_parent(parent_pid, lambda: recorder.request_stop("now") if recorder else None)
    log.info("Worker %s (pid %d, %s CPU threads) for the chief at %s", worker_id, os.getpid(), threads or "all", chief)
    try:
        with stop_on_signals(lambda: recorder.request_stop("now") if recorder else _interrupt()):
            set_threads(threads)
            data = load_dataset(config.data, progress=data_progress(writer))
            if note := set_precision(config.mixed_precision, this_machine()):
                log.info("%s", note)
            recorder = WorkerRecorder.for_search(
                config,
                paths,
                writer,
                train_size=len(data.y_train),
                memory_limit_mb=memory_limit_mb,
                worker_id=worker_id,
            )
            tuner = make_tuner(config, paths.project_dir, recorder)
            connect(tuner, chief, worker_id, paths.project_dir)
            writer.update(state="running", message="Waiting for a trial…")
            callbacks = search_callbacks(config)
            validation = (data.x_val, data.y_val)
            tuner.search(data.x_train, data.y_train, validation_data=validation, callbacks=callbacks, verbose=0)
    except SearchStopped as stop:
        log.info("Worker %s stopped (%s).", worker_id, stop.mode.replace("_", " "))
        return EXIT_STOPPED, "stopped", None
    except KeyboardInterrupt:
        return EXIT_STOPPED, "stopped", None
    except RestartProcess as restart:
        log.info("%s", restart)
        return EXIT_RESTART, "restarting", None
    except grpc.RpcError as exc:
        return EXIT_CHIEF_GONE, "failed", f"Lost the chief at {chief}: {exc.code().name if exc.code() else exc}."
    except TuningError as exc:
        log.info("Worker %s failed: %s", worker_id, exc)
        return EXIT_USER_ERROR, "failed", str(exc)
    except Exception as exc:
        log.error("Worker %s crashed:\n%s", worker_id, traceback.format_exc())
        return EXIT_CRASHED, "failed", f"{type(exc).__name__}: {exc}"
    log.info("Worker %s: no trial left.", worker_id)
    return EXIT_FINISHED, "finished", None


def _interrupt() -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """``python -m tuning.engine.worker PROJECT_DIR --chief HOST:PORT [--id NAME] [--threads N]``."""
    parser = argparse.ArgumentParser(prog="python -m tuning.engine.worker", description=__doc__)
    parser.add_argument("project_dir", type=Path)
    parser.add_argument("--chief", required=True, help="HOST:PORT of the search's oracle service")
    parser.add_argument("--id", dest="worker_id", help="this worker's name (default: host-pid)")
    parser.add_argument("--threads", type=int, help="CPU threads TensorFlow may use (default: all)")
    parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--console", action="store_true", help="also print progress on standard output")
    parser.add_argument("--memory-limit-mb", type=float, default=memory_limit_from_env())
    args = parser.parse_args(argv)
    try:
        return run_worker(
            args.project_dir,
            chief=args.chief,
            worker_id=args.worker_id,
            threads=args.threads,
            parent_pid=args.parent_pid,
            memory_limit_mb=args.memory_limit_mb or None,
            console=args.console,
        )
    except TuningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
