"""A search on several worker processes: the runner becomes the leader of a group (Keras Tuner's chief).

With ``workers`` > 1 the runner process does not train. It reloads the search's oracle, serves it with
Keras Tuner's own gRPC oracle service (on 127.0.0.1 and a free port unless told otherwise: the service
has no authentication), and starts N ``tuning.engine.worker`` processes, each with its share of the CPU threads
or its own GPU. Then it supervises them until the search ends:

* a worker that dies has its trial put back in the oracle's retry queue (run again by the next worker
  that asks) and is replaced, up to a limit; the search's session goes up first, so every reader keeps
  the rerun's epochs rather than the lost attempt's;
* it follows the workers' lines in ``metrics.jsonl`` and ``events.jsonl`` for the status (epochs, ETA)
  and puts each failed trial's message back into Keras Tuner's ``trial.json`` (the gRPC record drops it);
* stop requests reach the workers through the control file (they read it themselves, as a single
  runner does); the leader ends when all of its workers have ended, never waiting on a dead one.

Workers on other machines (``python -m tuning worker``) are watched through their heartbeat files.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import grpc

from tuning.data import prepare_source
from tuning.engine.chief import (
    KERASTUNER_VARIABLES,
    OracleView,
    attach_message,
    prune,
    requeue_trial,
    start_oracle_service,
    threads_per_worker,
    view_oracle,
    worker_environment,
)
from tuning.engine.forking import Spawner, WorkerProcess, Zygote, release_library_pages, starter
from tuning.engine.lifecycle import (
    EXIT_FINISHED,
    EXIT_RESTART,
    EXIT_STOPPED,
    EXIT_USER_ERROR,
    finish_status,
    stop_on_signals,
)
from tuning.engine.machine import visible_gpus
from tuning.engine.recorder import TooManyFailures, read_stop_request
from tuning.errors import TuningError
from tuning.space.config import SearchConfig
from tuning.store.paths import SearchPaths, file_size, read_jsonl, write_json_atomic
from tuning.store.status import StatusWriter
from tuning.store.workers import (
    DEFAULT_LISTEN,
    format_address,
    parse_address,
    read_worker,
    worker_file,
    worker_log,
    workers_dir,
)

log = logging.getLogger("tuning.search")
POLL_SECONDS = 0.5
STOP_GRACE_SECONDS = 60.0  # after "stop now", workers that have not stopped are terminated
REMOTE_STALE_SECONDS = 60.0  # a worker on another machine whose heartbeat stands still this long is gone


@dataclass
class LocalWorker:
    index: int
    worker_id: str
    process: WorkerProcess


class Group:
    """The leader's side of a distributed search: one chief, N local workers, any remote ones."""

    def __init__(
        self,
        config: SearchConfig,
        paths: SearchPaths,
        writer: StatusWriter,
        *,
        listen: str,
        memory_limit_mb: float | None,
    ) -> None:
        self.config, self.paths, self.writer = config, paths, writer
        self.host, self.port = parse_address(listen, field="listen", default_port=0)
        self.memory_limit_mb = memory_limit_mb
        self.threads = threads_per_worker(config.workers)
        self.gpus = visible_gpus()
        self.local: list[LocalWorker] = []
        self.starter: Spawner | Zygote | None = None
        self.oracle: Any = None
        self.server: grpc.Server | None = None
        self.view: OracleView | None = None
        self.stop_mode: str | None = None
        self.stop_since = 0.0
        self.error: str | None = None
        self.finished = 0
        self.respawns_left = 2 * config.workers
        self._offsets = {"metrics": file_size(paths.metrics), "events": file_size(paths.events)}
        self._remote: dict[str, tuple[float | None, float]] = {}
        self.released = False  # the leader's unused library pages (see release_pages)

    # ----- start ---------------------------------------------------------------------------------
    def start(self) -> None:
        from tuning.engine.recorder import Recorder
        from tuning.engine.tuners import make_tuner

        self.writer.update(message="Loading the search's oracle…")
        self.starter = starter(self.gpus)  # before TensorFlow runs anything here (see tuning.engine.forking)
        prepare_source(self.config.data)  # download CIFAR-10 once, not in every worker
        for stale in workers_dir(self.paths).glob("*.json"):  # status files of processes long gone
            stale.unlink(missing_ok=True)
        recorder = Recorder(  # never called: the leader runs no trial
            self.paths,
            self.writer,
            session=self.writer.status.session,
            train_size=0,
            max_consecutive_failures=self.config.max_consecutive_failures,
            keep_checkpoints=self.config.keep_checkpoints,
        )
        tuner = make_tuner(self.config, self.paths.project_dir, recorder, trains=False)
        tuner.save()  # oracle.json and tuner0.json: what workers and a later resume reload
        self.oracle = tuner.oracle
        self.oracle.verbose = 0  # Keras Tuner's console display: the search log says it better
        threads = max(8, 2 * self.config.workers)
        self.server, self.port = start_oracle_service(self.oracle, self.host, self.port, threads=threads)
        if not self.host.startswith("127.") and self.host not in ("localhost", "::1"):
            log.info(
                "Warning: the chief listens on %s with no authentication: anyone who can reach this port "
                "can take trials and report results. Use a trusted network only (see docs/workers.md).",
                format_address(self.host, self.port),
            )
        self.writer.update(chief=format_address(self.host, self.port), state="running", message="Starting the workers…")
        log.info(
            "Chief listening on %s; %d workers, %d CPU threads each%s.",
            format_address(self.host, self.port),
            self.config.workers,
            self.threads,
            f", GPUs {', '.join(self.gpus)}" if self.gpus else "",
        )
        for index in range(self.config.workers):
            self.spawn(index)

    def spawn(self, index: int) -> None:
        worker_id = f"worker{index + 1}"
        connect = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        chief = format_address(connect, self.port)
        args = [str(self.paths.project_dir), "--chief", chief, "--id", worker_id, "--threads", str(self.threads)]
        args += ["--memory-limit-mb", str(self.memory_limit_mb or 0)]
        env = worker_environment(index, threads=self.threads, gpus=self.gpus, base=dict(os.environ))
        workers_dir(self.paths).mkdir(parents=True, exist_ok=True)
        assert self.starter is not None, "start() chooses how workers start"
        process = self.starter.start(args, env=env, log_path=worker_log(self.paths, worker_id))
        self.local.append(LocalWorker(index, worker_id, process))
        how = "forked" if self.starter.method == "fork" else "a fresh process"
        log.info("Started %s (pid %d, %s).", worker_id, process.pid, how)

    # ----- supervise -----------------------------------------------------------------------------
    def supervise(self) -> tuple[str, str, str | None]:
        """Watch the group until the search ends; (final state, message, error)."""
        while True:
            self.poll_stop()
            self.follow_files()
            self.reap()
            self.update_status()
            self.check_remote()
            self.release_pages()
            outcome = self.outcome()
            if outcome is not None:
                return outcome
            time.sleep(POLL_SECONDS)

    def request_stop(self, mode: str) -> None:
        """Ask every worker, here or elsewhere, to stop ("now" or "after_trial"), through the control file."""
        if read_stop_request(self.paths) != "now":
            write_json_atomic(self.paths.control, {"stop": mode, "requested_at": time.time()})
        self.poll_stop()

    def poll_stop(self) -> None:
        mode = read_stop_request(self.paths)
        if mode and mode != self.stop_mode and self.stop_mode != "now":
            self.stop_mode, self.stop_since = mode, time.monotonic()
            text = "Stopping now…" if mode == "now" else "Stopping after the current trials…"
            self.writer.update(state="stopping", stop_requested=mode, message=text)
        if self.stop_mode == "now" and time.monotonic() - self.stop_since > STOP_GRACE_SECONDS:
            for worker in self.local:
                with contextlib.suppress(ProcessLookupError):
                    worker.process.send_signal(signal.SIGKILL)

    def follow_files(self) -> None:
        """Epochs (for the status and ETA) and trial ends (messages, log lines) the workers appended."""
        metrics, self._offsets["metrics"] = read_jsonl(self.paths.metrics, offset=self._offsets["metrics"])
        events, self._offsets["events"] = read_jsonl(self.paths.events, offset=self._offsets["events"])
        if metrics:
            self.release_pages(trained=True)
            status = self.writer.status
            seconds = sum(float(m.get("duration_s") or 0.0) for m in metrics)
            self.writer.update(
                epochs_done=status.epochs_done + len(metrics),
                seconds_training=status.seconds_training + seconds,
                force=False,
            )
        for event in events:
            if event.get("event") != "trial_end":
                continue
            trial_id, text = str(event.get("trial_id")), event.get("details") or event.get("message")
            if text:
                attach_message(self.oracle, trial_id, str(text))
            score = event.get("score")
            outcome = f"{self.config.objective} {score:.4f}" if isinstance(score, float) else event.get("message")
            number = (self.view.numbers.get(trial_id) if self.view else None) or "?"
            status = str(event.get("status", "?")).lower()
            log.info("Trial %s (id %s) %s on %s: %s", number, trial_id, status, event.get("worker"), outcome)

    def release_pages(self, *, trained: bool = False) -> None:
        """Once, when every local worker has trained a batch (or any an epoch): hand back the library pages
        only this process maps. The leader never trains; the pages training needs are then mapped by a
        worker too, and stay (``tuning.engine.forking.release_library_pages``)."""
        if self.released or not self.local:
            return
        if not trained:
            saved = [read_worker(worker_file(self.paths, w.worker_id)) for w in self.local]
            trained = all(s is not None and int((s.current_trial or {}).get("batch") or 0) > 0 for s in saved)
        if trained:
            self.released = True
            released = release_library_pages()
            if released is not None:
                log.info("The leader handed back %d MB of library pages it does not use.", released >> 20)

    def reap(self) -> None:
        """Deal with local workers that have ended: done, stopped, restarting, or dead."""
        for worker in [w for w in self.local if w.process.poll() is not None]:
            self.local.remove(worker)
            code = worker.process.returncode
            requeued = self.requeue(worker.worker_id)
            if code == EXIT_FINISHED:
                self.finished += 1
            elif code == EXIT_RESTART:
                log.info("%s restarts in a fresh process to release memory.", worker.worker_id)
                self.spawn(worker.index)
            elif code == EXIT_USER_ERROR:
                saved = read_worker(worker_file(self.paths, worker.worker_id))
                error = saved.error if saved and saved.error else f"see {worker_log(self.paths, worker.worker_id)}"
                self.fail(f"{worker.worker_id}: {error}")
            elif code != EXIT_STOPPED:
                self.worker_died(worker, code, requeued)

    def worker_died(self, worker: LocalWorker, code: int, requeued: str | None) -> None:
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        rerun = f"; trial {requeued} will run again" if requeued else ""
        log.info(
            "%s (pid %d) died (%s)%s. Its output: %s",
            worker.worker_id,
            worker.process.pid,
            how,
            rerun,
            worker_log(self.paths, worker.worker_id),
        )
        path = worker_file(self.paths, worker.worker_id)
        saved = read_worker(path)
        if saved is not None and saved.pid == worker.process.pid:
            saved.state, saved.exit_code, saved.current_trial = "died", code, None
            saved.message = f"Died ({how}){rerun}."
            write_json_atomic(path, saved.to_dict())
        if self.stop_mode or self.error:
            return
        if self.respawns_left > 0:
            self.respawns_left -= 1
            self.spawn(worker.index)
        elif not self.local:
            output = worker_log(self.paths, worker.worker_id)
            self.fail(f"Worker processes keep dying (last: {worker.worker_id}, {how}); see {output}.")

    def requeue(self, worker_id: str) -> str | None:
        """Put a gone worker's trial back for another worker; the session goes up first (see module doc)."""
        view = view_oracle(self.oracle)
        if worker_id not in view.ongoing:
            return None
        self.writer.update(session=self.writer.status.session + 1)
        return requeue_trial(self.oracle, worker_id)

    def fail(self, error: str) -> None:
        if self.error is None:
            self.error = error
            log.info("Stopping the workers: %s", error)
            self.request_stop("now")

    def update_status(self) -> None:
        previous, view = self.view, view_oracle(self.oracle)
        self.view = view
        if previous is None or view.ended != previous.ended:
            prune(self.oracle, self.paths, self.config.keep_checkpoints)
        if view.failure_streak >= self.config.max_consecutive_failures:
            last = view.last_failure or "see the trials' messages"
            self.fail(str(TooManyFailures(f"{view.failure_streak} trials in a row failed; the last one said: {last}")))
        running = sorted(view.numbers.get(t, 0) for t in view.ongoing.values())
        text = self.writer.status.message
        if self.stop_mode is None and self.error is None:
            text = _training_message(running) if running else "Waiting for the workers…"
        changed = previous is None or (view.ended, view.ongoing) != (previous.ended, previous.ongoing)
        self.writer.update(
            trials_done=view.ended, trials_by_status=view.by_status, best=view.best, message=text, force=changed
        )

    def check_remote(self) -> None:
        """Requeue the trial of a worker on another machine whose heartbeat has stood still too long."""
        local = {w.worker_id for w in self.local}
        for worker_id in set(self.view.ongoing if self.view else {}) - local:
            saved = read_worker(worker_file(self.paths, worker_id))
            beat = saved.heartbeat if saved else None
            last, since = self._remote.get(worker_id, (None, time.monotonic()))
            if beat != last or worker_id not in self._remote:
                self._remote[worker_id] = (beat, time.monotonic())
            elif time.monotonic() - since > REMOTE_STALE_SECONDS:
                trial = self.requeue(worker_id)
                log.info(
                    "%s has not been heard of for %.0f s; trial %s will run again.",
                    worker_id,
                    REMOTE_STALE_SECONDS,
                    trial,
                )
                self._remote.pop(worker_id, None)

    def outcome(self) -> tuple[str, str, str | None] | None:
        if self.local:
            return None
        view = view_oracle(self.oracle)
        if self.error:
            return "failed", "The search failed.", self.error
        if self.stop_mode:
            return "stopped", _stopped_message(self.stop_mode), None
        if view.ongoing:
            return None  # workers on other machines are still training
        if not view.retry and self.finished:
            return "completed", f"Search completed: {view.ended} trials.", None
        if self.respawns_left > 0:
            self.respawns_left -= 1
            self.spawn(0)
            return None
        return "failed", "The search failed.", "Every worker ended before the search was done; see explorer/workers/."

    # ----- end -------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """End what is left: local workers, ongoing trials (back to the queue), the oracle service."""
        for worker in self.local:
            with contextlib.suppress(ProcessLookupError):
                worker.process.terminate()
        for worker in self.local:
            try:
                worker.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
        self.local.clear()
        if self.starter is not None:
            self.starter.close()
        if self.oracle is not None:
            self.follow_files()  # the last lines the workers wrote before they ended
            for worker_id in view_oracle(self.oracle).ongoing:
                requeue_trial(self.oracle, worker_id)
            self.oracle.save()
            self.view = view_oracle(self.oracle)
        if self.server is not None:
            self.server.stop(grace=2).wait()
        self.writer.update(chief=None)


def _training_message(numbers: list[int]) -> str:
    trials = "trial " + str(numbers[0]) if len(numbers) == 1 else "trials " + ", ".join(map(str, numbers))
    return f"Training {trials} on {len(numbers)} worker{'s' * (len(numbers) != 1)}"


def _stopped_message(mode: str) -> str:
    if mode == "now":
        return "Stopped now; the interrupted trials will run again on resume."
    return "Stopped after the current trials; resume to continue."


def run_group(
    config: SearchConfig,
    paths: SearchPaths,
    writer: StatusWriter,
    *,
    listen: str | None = None,
    memory_limit_mb: float | None = None,
) -> None:
    """Run the search in ``paths`` on ``config.workers`` worker processes until it ends (see module doc)."""
    for name in KERASTUNER_VARIABLES:  # this process is the chief: it must not act as a Keras Tuner worker
        os.environ.pop(name, None)
    group = Group(config, paths, writer, listen=listen or DEFAULT_LISTEN, memory_limit_mb=memory_limit_mb)
    verb = "Resuming" if writer.status.session > 1 else "Starting"
    where = f"{paths.project_dir} (pid {os.getpid()}, session {writer.status.session})"
    log.info("%s the search on %d workers in %s", verb, config.workers, where)
    try:
        with stop_on_signals(lambda: group.request_stop("now")):
            group.start()
            state, message, error = group.supervise()
    except KeyboardInterrupt:
        state, message, error = "stopped", "Stopped by the user; the interrupted trials will run again on resume.", None
    except TuningError as exc:
        state, message, error = "failed", "The search failed.", str(exc)
    except Exception as exc:
        log.exception("The group leader failed")
        state, message, error = "failed", "The search failed.", f"{type(exc).__name__}: {exc}"
    finally:
        group.shutdown()
    view = group.view
    if view is not None:
        writer.update(trials_done=view.ended, trials_by_status=view.by_status, best=view.best)
    finish_status(writer, state, message, error=error)
