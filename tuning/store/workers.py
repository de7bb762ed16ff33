"""The files of a distributed search's workers, and how readers see them (no TensorFlow import).

Each worker process keeps its own status in ``explorer/workers/<id>.json`` (written atomically, with a
heartbeat, like the search's ``status.json``) and its output in ``explorer/workers/<id>.log``. The
group leader writes the search's ``status.json`` and marks a worker it saw die. Readers here never
change a file.
"""

from __future__ import annotations

import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tuning.errors import ConfigError, SearchStateError
from tuning.store.paths import SearchPaths, read_json
from tuning.store.status import STALE_AFTER_SECONDS, SearchStatus, read_status

WORKERS = "workers"
WORKER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
WORKER_COLUMNS = ("worker", "pid", "host", "state", "trial", "epoch", "heartbeat_age_s")
DEFAULT_LISTEN = "127.0.0.1:0"


@dataclass
class WorkerStatus(SearchStatus):
    """One worker's status: the search status fields it uses, plus who and where it is."""

    worker: str = ""
    host: str = ""
    threads: int | None = None
    gpu: str | None = None
    trials_run: int = 0
    exit_code: int | None = None

    def eta_seconds(self) -> float | None:
        """Only the whole search has an ETA; a worker sees its own share of the epochs."""
        return None


def workers_dir(paths: SearchPaths) -> Path:
    return paths.ours / WORKERS


def worker_file(paths: SearchPaths, worker_id: str) -> Path:
    return workers_dir(paths) / f"{worker_id}.json"


def worker_log(paths: SearchPaths, worker_id: str) -> Path:
    return workers_dir(paths) / f"{worker_id}.log"


def check_worker_id(worker_id: str) -> str:
    """A worker name that is a safe file name and that Keras Tuner will not take for its chief."""
    if not WORKER_ID.match(worker_id) or "chief" in worker_id.lower():
        raise ConfigError(
            "worker id",
            f"expected letters, digits, '.', '_' or '-' (at most 64, not containing 'chief'), found {worker_id!r}.",
        )
    return worker_id


def default_worker_id() -> str:
    """``<host>-<pid>``: unique among the workers of a search, readable in the monitor."""
    host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname().split(".")[0]) or "host"
    return f"{host[:40].lstrip('._-') or 'host'}-{os.getpid()}"


def parse_address(text: str, *, field: str = "chief", default_port: int | None = None) -> tuple[str, int]:
    """``HOST:PORT`` (``[IPv6]:PORT``) as (host, port); ``default_port`` allows a bare HOST."""
    text = text.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or (host.count(":") and not host.startswith("[")):
        host, port_text = text, ""
    host = host.removeprefix("[").removesuffix("]")
    if not port_text and default_port is not None:
        port_text = str(default_port)
    if not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        example = "127.0.0.1:0 (a free port)" if default_port is not None else "gpu-box.lan:50051"
        raise ConfigError(field, f"expected HOST:PORT with a port from 0 to 65535, e.g. {example}; found {text!r}.")
    return host, int(port_text)


def format_address(host: str, port: int) -> str:
    """``HOST:PORT``, with an IPv6 host in brackets: what ``parse_address`` and gRPC read back."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def chief_address(project_dir: str | os.PathLike[str], given: str | None = None) -> str:
    """The chief a worker started by hand should join: the search's own, or ``given`` if it can be that one."""
    paths = SearchPaths.of(project_dir)
    status = read_status(paths.project_dir)
    if not status.is_active or not status.workers:
        raise SearchStateError(
            f"The search in {paths.project_dir} is not running on workers (state: {status.state}, "
            f"{status.workers or 'no'} workers). Start or resume it with --workers N first."
        )
    if not status.chief:
        raise SearchStateError(f"The search in {paths.project_dir} has not started its chief yet; retry in a moment.")
    if given is None:
        return status.chief
    port, expected = parse_address(given)[1], parse_address(status.chief)[1]
    if port != expected:
        raise SearchStateError(
            f"The chief of the search in {paths.project_dir} listens on port {expected}, not {port}: "
            f"is {given} the chief of another search?"
        )
    return given


def read_worker(path: Path) -> WorkerStatus | None:
    data = read_json(path)
    return WorkerStatus.from_dict(data) if data else None


def read_workers(project_dir: str | os.PathLike[str], *, search: SearchStatus | None = None) -> list[WorkerStatus]:
    """The workers of the search's current (or last) session, by name.

    A worker still marked active is shown "lost" when the search no longer runs or its heartbeat is stale.
    """
    paths = SearchPaths.of(project_dir)
    search = search or read_status(paths.project_dir)
    try:
        files = sorted(workers_dir(paths).glob("*.json"), key=_natural)
    except OSError:
        return []
    found = [w for f in files if (w := read_worker(f)) is not None]
    now = time.time()
    for worker in found:
        stale = worker.heartbeat is None or now - worker.heartbeat > STALE_AFTER_SECONDS
        if worker.is_active and (stale or not search.is_active):
            worker.state = "lost"
            worker.current_trial = None
    return found


def _natural(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.stem)]


def workers_table(project_dir: str | os.PathLike[str], *, now: float | None = None) -> pd.DataFrame:
    """One row per worker: name, pid, host, state, trial number, epoch, seconds since its last heartbeat."""
    now = time.time() if now is None else now
    rows = []
    for worker in read_workers(project_dir):
        current = worker.current_trial or {}
        epoch = f"{current.get('epoch') or 0}/{current.get('epochs') or '?'}" if current else ""
        age = None if worker.heartbeat is None else round(max(0.0, now - worker.heartbeat), 1)
        rows.append((worker.worker, worker.pid, worker.host, worker.state, current.get("number"), epoch, age))
    table = pd.DataFrame(rows, columns=list(WORKER_COLUMNS))
    return table.astype({"pid": "Int64", "trial": "Int64", "heartbeat_age_s": "Float64"})
