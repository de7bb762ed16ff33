"""What every search process shares: its lock, signals, memory limit, log, callbacks and final status.

The single-process runner (``tuning.engine.runner``), the group leader (``tuning.engine.group``), its
workers (``tuning.engine.worker``) and the final-training process all build on these helpers; this module
imports none of them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from tuning.engine import background
from tuning.errors import SearchLockedError
from tuning.store.paths import SearchPaths, read_json
from tuning.store.status import StatusWriter, pid_exists

if TYPE_CHECKING:
    from tuning.space.config import SearchConfig

log = logging.getLogger("tuning.search")
LOCK_WAIT_SECONDS = 2.0
DEFAULT_MEMORY_LIMIT_MB = 100.0
# How a worker process ends, read by the group leader that started it.
EXIT_FINISHED, EXIT_CRASHED, EXIT_USER_ERROR, EXIT_STOPPED, EXIT_CHIEF_GONE, EXIT_RESTART = 0, 1, 2, 3, 4, 75


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


SCRATCH_PREFIX = "hpx-scratch-"
_SCRATCH_NAME = re.compile(re.escape(SCRATCH_PREFIX) + r"(\d+)-")


@contextlib.contextmanager
def scratch_dir() -> Iterator[str]:
    """A temporary folder for this search (or final-training) process and the workers it starts, removed when
    it ends.

    TensorFlow's AutoGraph writes a ``__autograph_generated_file*.py`` into the temporary folder for every
    function it converts, and removes it at interpreter exit (``atexit``). Forked workers end with
    ``os._exit`` and a recycled runner ``exec``s itself, so neither runs those handlers: every trial used to
    leave its files in /tmp. Here ``$TMPDIR`` (inherited by the workers) and ``tempfile.tempdir`` point into a
    folder named after this process, removed on the way out; folders left by processes that were killed
    are removed by the next search or final training that starts on this machine.
    """
    parent = tempfile.gettempdir()
    _sweep_scratch(parent)
    path = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=parent)
    previous_env, previous = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = tempfile.tempdir = path
    try:
        yield path
    finally:
        tempfile.tempdir = previous
        if previous_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = previous_env
        shutil.rmtree(path, ignore_errors=True)


def _sweep_scratch(parent: str) -> None:
    """Remove the scratch folders in ``parent`` of search processes that no longer run (killed ones)."""
    with contextlib.suppress(OSError), os.scandir(parent) as entries:
        for entry in entries:
            found = _SCRATCH_NAME.match(entry.name)
            if found and not pid_exists(int(found.group(1))) and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)


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


def data_progress(writer: StatusWriter) -> Callable[[str, float | None], None]:
    """Where loading the data reports its progress: the status message (the app shows it) and the log."""

    def report(message: str, fraction: float | None) -> None:
        text = message if fraction is None else f"{message} ({fraction:.0%})"
        log.info("%s", text)
        writer.update(message=text, force=False)

    return report
