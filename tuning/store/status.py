"""The status of a search: what the runner writes, and what a reader concludes from it.

The runner owns ``explorer/status.json`` and holds an exclusive ``flock`` on ``explorer/lock`` for as
long as it lives. The kernel releases that lock when the process dies, however it dies, so a reader
that finds the state "running" but the lock free knows the runner was killed: the state reads
"interrupted". Probing the lock never changes a file.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tuning.store.paths import SearchPaths, read_json, write_json_atomic

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; fall back to the heartbeat
    fcntl = None  # type: ignore[assignment]

STATES = ("created", "starting", "running", "stopping", "stopped", "completed", "failed", "interrupted")
# A trial stopped early by pruning is COMPLETED for Keras Tuner (it reached a real score) and carries this
# message in its trial.json; our events.jsonl says "PRUNED" too. Readers call it pruned.
PRUNED_PREFIX = "Pruned at epoch "


def is_pruned(status: str | None, message: str | None) -> bool:
    """Whether a trial with Keras Tuner's ``status`` and ``message`` was stopped early by pruning."""
    return status == "COMPLETED" and isinstance(message, str) and message.startswith(PRUNED_PREFIX)


ACTIVE_STATES = ("starting", "running", "stopping")
HEARTBEAT_SECONDS = 2.0
STALE_AFTER_SECONDS = 30.0


@dataclass
class SearchStatus:
    """One snapshot of a search's state, as written in ``status.json``."""

    state: str = "created"
    pid: int | None = None
    session: int = 0
    heartbeat: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    trials_done: int = 0
    trials_planned: int = 0
    trials_by_status: dict[str, int] = field(default_factory=dict)
    epochs_done: int = 0
    epochs_planned: int = 0
    current_trial: dict[str, Any] | None = None
    best: dict[str, Any] | None = None
    objective: dict[str, str] | None = None
    stop_requested: str | None = None
    message: str = ""
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds_training: float = 0.0
    workers: int = 0  # worker processes of a distributed search (0: the search runs in one process)
    chief: str | None = None  # HOST:PORT of its oracle service while a distributed search runs
    workers_in_use: int = 0  # processes training at once: 1 for one process, N for a group (0: not started)
    device: str = ""  # what trains: "CPU: <model>, N cores" or "GPU: <names>"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchStatus:
        """The status in ``data``; a value of the wrong type (a damaged or hostile file) keeps its default."""
        fields = cls.__dataclass_fields__
        status = cls(**{k: v for k, v in data.items() if k in fields and _fits(str(fields[k].type), v)})
        if status.best is not None and not _fits("float | None", status.best.get("score")):
            status.best = None  # pages and the command line print its score as a number
        return status

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    def elapsed_seconds(self, now: float | None = None) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at and not self.is_active else (now or time.time())
        return max(0.0, end - self.started_at)

    def eta_seconds(self) -> float | None:
        """Remaining time, from the average epoch time so far and the planned epochs left (shared by workers)."""
        if not self.is_active or self.epochs_done <= 0 or self.seconds_training <= 0:
            return None
        left = max(0, self.epochs_planned - self.epochs_done)
        return left * self.seconds_training / self.epochs_done / max(1, self.workers)


def format_duration(seconds: float) -> str:
    """A clock-style duration: ``1 h 02 min``, ``3 min 05 s``, ``12 s``."""
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def lock_is_held(lock_path: Path) -> bool | None:
    """Whether some process holds the search's lock; None when it cannot be told."""
    if fcntl is None:
        return None
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def read_status(project_dir: str | os.PathLike[str]) -> SearchStatus:
    """The search's status, with "running" turned into "interrupted" when its process is gone."""
    paths = SearchPaths.of(project_dir)
    return status_of(paths, read_json(paths.status))


def status_of(paths: SearchPaths, data: dict[str, Any] | None) -> SearchStatus:
    """The status ``data`` read from ``paths.status`` says (the defaults for None), "running" turned into
    "interrupted" when the search's process is gone."""
    status = SearchStatus.from_dict(data) if data else SearchStatus()
    if status.is_active and not _runner_alive(paths, status):
        status.state = "interrupted"
        status.current_trial = None
        status.message = "The search process ended without finishing (killed or crashed); it can be resumed."
    return status


def _runner_alive(paths: SearchPaths, status: SearchStatus) -> bool:
    held = lock_is_held(paths.lock)
    if held is not None:
        return held
    fresh = status.heartbeat is not None and time.time() - status.heartbeat < STALE_AFTER_SECONDS
    return fresh and status.pid is not None and pid_exists(status.pid)


def _fits(annotation: str, value: Any) -> bool:
    """Whether ``value`` has the type a field declares (``"int"``, ``"float | None"``, ``"dict[str, int]"``)."""
    kinds = [part.strip().split("[")[0] for part in annotation.split("|")]
    if value is None:
        return "None" in kinds
    if isinstance(value, bool):
        return "bool" in kinds
    if isinstance(value, (int, float)) and not (abs(value) < 2**63 and math.isfinite(value)):
        return False  # NaN, infinities and numbers no counter or clock reaches
    allowed = {"str": str, "int": int, "float": (int, float), "dict": dict, "list": list}
    checked = [allowed[kind] for kind in kinds if kind in allowed]
    return not checked or any(isinstance(value, kind) for kind in checked)  # another type: not checked


def pid_exists(pid: int) -> bool:
    """Whether a process with this pid exists (someone else's counts)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: a pid no process can have
        return False
    except PermissionError:
        return True
    return True


class StatusWriter:
    """The runner's side: keeps the status in memory and writes it atomically, with a heartbeat.

    ``path`` writes somewhere else than the search's ``status.json`` (a worker's own status file).
    """

    def __init__(self, paths: SearchPaths, status: SearchStatus, *, path: Path | None = None) -> None:
        self._path = path or paths.status
        self.status = status
        self._lock = threading.Lock()
        self._last_write = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def update(self, *, force: bool = True, min_interval: float = 0.5, **fields: Any) -> None:
        """Change fields; write now if ``force`` or if the last write is older than ``min_interval``."""
        with self._lock:
            for name, value in fields.items():
                setattr(self.status, name, value)
            if force or time.monotonic() - self._last_write >= min_interval:
                self._write_locked()

    def _write_locked(self) -> None:
        self.status.heartbeat = time.time()
        write_json_atomic(self._path, self.status.to_dict())
        self._last_write = time.monotonic()

    def start_heartbeat(self, interval: float = HEARTBEAT_SECONDS) -> None:
        def beat() -> None:
            while not self._stop.wait(interval):
                with self._lock:
                    self._write_locked()

        self._thread = threading.Thread(target=beat, name="status-heartbeat", daemon=True)
        self._thread.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
