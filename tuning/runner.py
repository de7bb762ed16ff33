"""The search process: runs (or resumes) one Keras Tuner search and keeps its files current.

Started in the foreground by ``python -m tuning run``/``resume``, or in the background by
``tuning.jobs`` as ``python -m tuning.runner PROJECT_DIR`` in a new session. It holds the search's lock
for its whole life, writes the status (with a heartbeat), and ends in one of the states "completed",
"stopped" or "failed". A process that is killed leaves "running" behind, which readers turn into
"interrupted" because the lock is gone.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tuning
from tuning import background
from tuning.errors import SearchLockedError, SearchNotFoundError, SearchStateError, TuningError
from tuning.status import SearchStatus, StatusWriter, read_status
from tuning.store import SearchPaths, read_json

if TYPE_CHECKING:
    from tuning.config import SearchConfig
    from tuning.data import Dataset
    from tuning.recorder import Recorder

log = logging.getLogger("tuning.search")
LOCK_WAIT_SECONDS = 2.0
DEFAULT_MEMORY_LIMIT_MB = 100.0


def memory_limit_from_env() -> float:
    """Growth in MB after which a runner restarts itself: $TUNING_MEMORY_LIMIT_MB.

    0 never restarts; a negative value restarts between any two trials (to exercise restarts).
    """
    try:
        return float(os.environ.get("TUNING_MEMORY_LIMIT_MB", DEFAULT_MEMORY_LIMIT_MB))
    except ValueError:
        return DEFAULT_MEMORY_LIMIT_MB


try:
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def search_lock(paths: SearchPaths, *, inherited_fd: int | None = None) -> Iterator[int]:
    """Hold the search's exclusive lock, or raise ``SearchLockedError`` naming the running pid.

    ``inherited_fd`` is the lock's descriptor kept open across ``exec`` when the runner restarts
    itself: the lock is never released in between.
    """
    paths.ours.mkdir(parents=True, exist_ok=True)
    fd = inherited_fd if inherited_fd is not None else os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            _acquire(fd, paths)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield fd
    finally:
        if fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _acquire(fd: int, paths: SearchPaths) -> None:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise SearchLockedError(str(paths.project_dir), _lock_owner(paths)) from None
            time.sleep(0.05)


def _lock_owner(paths: SearchPaths) -> int | None:
    try:
        return int(paths.lock.read_text().strip())
    except (OSError, ValueError):
        return (read_json(paths.status) or {}).get("pid")


def search_logging(paths: SearchPaths, *, console: bool) -> contextlib.AbstractContextManager[None]:
    """Send the search's log lines to ``explorer/search.log`` (and to the terminal in the foreground)."""
    return background.log_lines(log, file=paths.log, console=console)


@contextlib.contextmanager
def stop_on_signals(on_stop: Callable[[], None]) -> Iterator[None]:
    """SIGTERM and a first Ctrl-C ask for a clean stop at the next batch; a second Ctrl-C aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen: list[int] = []

    def handler(signum: int, frame: object) -> None:
        if signum == signal.SIGINT and seen:
            raise KeyboardInterrupt
        seen.append(signum)
        on_stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_search(
    project_dir: str | os.PathLike[str],
    *,
    resume: bool,
    console: bool = False,
    memory_limit_mb: float | None = None,
    lock_fd: int | None = None,
    listen: str | None = None,
) -> SearchStatus:
    """Run or resume the search in ``project_dir`` in this process until it ends; return its final status.

    A configuration with ``workers`` > 1 makes this process the leader of a group of worker processes
    (``tuning.distributed``); its oracle service listens on ``listen`` (HOST:PORT, default 127.0.0.1 and
    a free port).

    With ``memory_limit_mb``, once the process has grown by that much since its first trial (TensorFlow
    and Keras leak a few MB with every model they build), it replaces itself at a trial boundary by a
    fresh interpreter that continues the search (same pid, lock held throughout). Only a program's entry
    point should ask for that; ``lock_fd`` is how the fresh interpreter gets the lock back.
    """
    from tuning.config import SearchConfig

    paths = SearchPaths.of(project_dir)
    if not paths.is_search():
        raise SearchNotFoundError(f"{paths.project_dir} is not a search made by this app (no {paths.config.name}).")
    config = SearchConfig.load(paths.config)
    continuing = lock_fd is not None
    with search_lock(paths, inherited_fd=lock_fd) as fd:
        previous = read_status(paths.project_dir)
        if not resume and previous.state != "created":
            raise SearchStateError(
                f"The search in {paths.project_dir} has already run (state: {previous.state}). Use resume."
            )
        if not continuing:
            with contextlib.suppress(FileNotFoundError):
                paths.control.unlink()
        writer = StatusWriter(paths, _initial_status(config, previous, continuing=continuing))
        writer.update()
        writer.start_heartbeat()
        try:
            with search_logging(paths, console=console):
                if config.workers > 1:
                    from tuning.distributed import run_group

                    run_group(config, paths, writer, listen=listen, memory_limit_mb=memory_limit_mb)
                    recycle = False
                else:
                    recycle = _run(config, paths, writer, resume=resume, memory_limit_mb=memory_limit_mb)
        finally:
            writer.stop_heartbeat()
        if recycle:
            _restart_process(paths, fd, console=console, memory_limit_mb=memory_limit_mb)
    return writer.status


def _restart_process(paths: SearchPaths, fd: int, *, console: bool, memory_limit_mb: float | None) -> None:
    """Replace this process by a fresh interpreter that continues the search, keeping the lock open."""
    os.set_inheritable(fd, True)
    os.environ["PYTHONPATH"] = tuning.pythonpath_with_package(os.environ.get("PYTHONPATH"))
    args = [sys.executable, "-m", "tuning.runner", str(paths.project_dir), "--resume", "--lock-fd", str(fd)]
    args += ["--console"] if console else []
    args += ["--memory-limit-mb", str(memory_limit_mb)] if memory_limit_mb else []
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, args)


def _initial_status(config: SearchConfig, previous: SearchStatus, *, continuing: bool) -> SearchStatus:
    search_plan = config.plan()
    return SearchStatus(
        state="running" if continuing else "starting",
        pid=os.getpid(),
        session=previous.session if continuing else previous.session + 1,
        started_at=previous.started_at or time.time(),
        trials_done=previous.trials_done,
        trials_planned=search_plan.trials,
        trials_by_status=previous.trials_by_status,
        epochs_done=previous.epochs_done,
        epochs_planned=search_plan.epochs_total,
        best=previous.best,
        objective={"name": config.objective, "direction": config.direction},
        message="Continuing in a fresh process…" if continuing else "Loading data…",
        warnings=list(config.warnings()),
        seconds_training=previous.seconds_training,
        workers=config.workers if config.workers > 1 else 0,
    )


def _run(
    config: SearchConfig, paths: SearchPaths, writer: StatusWriter, *, resume: bool, memory_limit_mb: float | None
) -> bool:
    """Run the search to its end; True when the process should restart itself to release memory."""
    from tuning.recorder import RestartProcess, SearchStopped, TooManyFailures

    recorder: Recorder | None = None
    tuner = None
    log.info(
        "%s search in %s (pid %d, session %d)",
        "Resuming" if resume else "Starting",
        paths.project_dir,
        os.getpid(),
        writer.status.session,
    )
    for warning in writer.status.warnings:
        log.info("Note: %s", warning)
    try:
        with stop_on_signals(lambda: recorder.request_stop("now") if recorder else _raise_interrupt()):
            recorder, tuner, data = _prepare(config, paths, writer, memory_limit_mb=memory_limit_mb)
            writer.update(state="running", message="Searching…")
            tuner.search(
                data.x_train,
                data.y_train,
                validation_data=(data.x_val, data.y_val),
                callbacks=search_callbacks(config),
                verbose=0,
            )
        finish_status(writer, "completed", f"Search completed: {writer.status.trials_done} trials.")
    except RestartProcess as restart:
        log.info("%s", restart)
        writer.update(message="Restarting the search process to release memory…")
        return True
    except SearchStopped as stop:
        finish_status(
            writer,
            "stopped",
            "Stopped now; the interrupted trial will run again on resume."
            if stop.mode == "now"
            else "Stopped after the trial; resume to continue.",
        )
    except KeyboardInterrupt:
        finish_status(writer, "stopped", "Stopped by the user; the interrupted trial will run again on resume.")
    except TooManyFailures as exc:
        finish_status(writer, "failed", "The search stopped because trials keep failing.", error=str(exc))
    except TuningError as exc:  # a problem the user can fix (data, settings): its message says how
        finish_status(writer, "failed", "The search failed.", error=str(exc))
    except Exception as exc:
        log.error("%s", traceback.format_exc())
        finish_status(writer, "failed", "The search failed.", error=_describe(exc))
    if recorder is not None and tuner is not None:
        recorder.update_counts(tuner.oracle)
    return False


def _raise_interrupt() -> None:
    raise KeyboardInterrupt


def _prepare(
    config: SearchConfig, paths: SearchPaths, writer: StatusWriter, *, memory_limit_mb: float | None
) -> tuple[Recorder, Any, Dataset]:
    from tuning.data import load_dataset
    from tuning.recorder import Recorder
    from tuning.tuners import make_tuner

    data = load_dataset(config.data, progress=lambda msg, frac: writer.update(message=msg, force=False))
    log.info(
        "Data: %s: %d training, %d validation images (test set of %d kept aside).",
        data.label,
        len(data.y_train),
        len(data.y_val),
        len(data.y_test),
    )
    recorder = Recorder(
        paths,
        writer,
        session=writer.status.session,
        train_size=len(data.y_train),
        max_consecutive_failures=config.max_consecutive_failures,
        keep_checkpoints=config.keep_checkpoints,
        memory_limit_mb=memory_limit_mb,
    )
    tuner = make_tuner(config, paths.project_dir, recorder)
    recorder.update_counts(tuner.oracle)
    return recorder, tuner, data


def search_callbacks(config: SearchConfig) -> list[Any]:
    """The Keras callbacks every trial gets: early stopping when the configuration asks for it."""
    import keras

    patience = config.early_stopping_patience
    if not patience:
        return []
    return [keras.callbacks.EarlyStopping(monitor=config.objective, mode=config.direction, patience=patience)]


def finish_status(writer: StatusWriter, state: str, message: str, *, error: str | None = None) -> None:
    """Write the search's final state (completed, stopped, failed) and log it."""
    log.info("%s%s", message, f" Error: {error}" if error else "")
    writer.update(
        state=state, message=message, error=error, ended_at=time.time(), current_trial=None, stop_requested=None
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the background process: ``python -m tuning.runner PROJECT_DIR [--resume]``."""
    parser = argparse.ArgumentParser(prog="python -m tuning.runner", description=__doc__)
    parser.add_argument("project_dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--console", action="store_true", help="also print progress on standard output")
    parser.add_argument("--memory-limit-mb", type=float, default=memory_limit_from_env())
    parser.add_argument("--lock-fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--listen", help="HOST:PORT of the oracle service of a search with several workers")
    args = parser.parse_args(argv)
    try:
        status = run_search(
            args.project_dir,
            resume=args.resume,
            console=args.console,
            memory_limit_mb=args.memory_limit_mb or None,
            lock_fd=args.lock_fd,
            listen=args.listen,
        )
    except TuningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.console and status.error:
        print(f"error: {status.error}", file=sys.stderr)
    return 0 if status.state in ("completed", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
