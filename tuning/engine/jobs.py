"""Start, stop, resume and list searches from another process (the app, the command line).

A background search is ``python -m tuning.engine.launch PROJECT_DIR`` started with ``subprocess`` in a new
session, so it outlives a browser refresh and a restart of the app. The only link with it is its
folder: the configuration it reads, the status it writes, and the control file that asks it to stop.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tuning.data import check_source
from tuning.engine import background
from tuning.errors import ConfigError, SearchLockedError, SearchNotFoundError, SearchStateError
from tuning.space.config import SearchConfig
from tuning.store.paths import SearchPaths, read_json, write_json_atomic
from tuning.store.status import SearchStatus, lock_is_held, read_status
from tuning.store.workers import parse_address

PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$")


@dataclass
class SearchHandle:
    """A search started from this process: where it lives and, while known, its process."""

    project_dir: Path
    pid: int | None
    process: subprocess.Popen | None = None

    def status(self) -> SearchStatus:
        return read_status(self.project_dir)

    def stop(self, *, now: bool = False) -> SearchStatus:
        return stop_search(self.project_dir, now=now)

    def wait(self, timeout: float | None = None, *, poll: float = 0.5) -> SearchStatus:
        """Wait until the search process ends (or ``timeout`` seconds); return the status then."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            if (
                self.process is None
                and not self.status().is_active
                and lock_is_held(SearchPaths.of(self.project_dir).lock) is False
            ):
                break
            time.sleep(poll)
        return self.status()


def check_project_name(name: str) -> str:
    """A project name that is a single, safe folder name."""
    if not PROJECT_NAME.match(name) or name in (".", "..") or name.strip() != name:
        raise ConfigError(
            "project",
            f"{name!r} is not a usable project name: use letters, digits, '.', '_', '-' or spaces "
            "(at most 100 characters, no '/').",
        )
    return name


def default_project_name(config: SearchConfig) -> str:
    return time.strftime(f"{config.tuner}-{config.data.name}-%Y%m%d-%H%M%S")


def create_search(config: SearchConfig, directory: str | os.PathLike[str], project: str | None = None) -> Path:
    """Validate ``config`` and make the search's folder, with its configuration and a "created" status."""
    config.validate()
    check_source(config.data)
    name = check_project_name(project or default_project_name(config))
    paths = SearchPaths.of(Path(directory) / name)
    if paths.is_search():
        existing = SearchConfig.load(paths.config)
        changes = existing.differences(config)
        detail = "with the same settings" if not changes else "with other settings (" + "; ".join(changes) + ")"
        raise SearchStateError(
            f"A search named {name!r} already exists in {paths.project_dir.parent} {detail}. "
            "Resume it, or choose another project name."
        )
    if paths.oracle.exists():
        raise SearchStateError(f"{paths.project_dir} already holds a Keras Tuner project; choose another project name.")
    paths.ours.mkdir(parents=True, exist_ok=True)
    write_json_atomic(paths.config, config.to_dict())
    write_json_atomic(paths.status, SearchStatus(state="created").to_dict())
    return paths.project_dir


def prepare_resume(
    project_dir: str | os.PathLike[str], *, max_trials: int | None = None, workers: int | None = None
) -> SearchConfig:
    """Check the search can be resumed and return its configuration.

    ``max_trials`` extends its budget; ``workers`` runs it on that many worker processes from now on.
    The saved configuration changes only once every check has passed.
    """
    paths = _existing(project_dir)
    status = read_status(paths.project_dir)
    if status.is_active:
        raise SearchLockedError(str(paths.project_dir), status.pid)
    saved = SearchConfig.load(paths.config)
    config = saved.with_overrides(workers=workers)
    if max_trials is not None and max_trials != config.max_trials:
        if config.tuner == "hyperband":
            raise ConfigError("max_trials", "Hyperband decides its number of trials; it cannot be changed on resume.")
        if max_trials < status.trials_done:
            raise ConfigError("max_trials", f"{status.trials_done} trials are already done; give at least that many.")
        config = config.with_overrides(max_trials=max_trials)
    elif status.state == "completed":
        raise SearchStateError(
            f"The search in {paths.project_dir} is completed ({status.trials_done} trials). "
            "To run more trials, resume it with a larger max_trials."
        )
    if config != saved:
        config.validate()
        write_json_atomic(paths.config, config.to_dict())
    return config


def start_search(
    config: SearchConfig, directory: str | os.PathLike[str], project: str | None = None, *, listen: str | None = None
) -> SearchHandle:
    """Create a search and run it in the background; returns at once.

    ``listen`` (HOST:PORT) is where the oracle service of a search with several workers listens
    (default 127.0.0.1 and a free port; see docs/workers.md before using another address).
    """
    check_listen(listen)
    project_dir = create_search(config, directory, project)
    return _spawn(project_dir, resume=False, listen=listen)


def resume_search(
    project_dir: str | os.PathLike[str],
    *,
    max_trials: int | None = None,
    workers: int | None = None,
    listen: str | None = None,
) -> SearchHandle:
    """Resume a stopped, interrupted or failed search in the background (on ``workers`` processes); returns at once."""
    check_listen(listen)
    prepare_resume(project_dir, max_trials=max_trials, workers=workers)
    return _spawn(SearchPaths.of(project_dir).project_dir, resume=True, listen=listen)


def check_listen(listen: str | None) -> None:
    """Refuse a malformed ``--listen`` address before anything starts."""
    if listen is not None:
        parse_address(listen, field="listen", default_port=0)


def stop_search(project_dir: str | os.PathLike[str], *, now: bool = False) -> SearchStatus:
    """Ask a running search to stop after its current trial, or ``now`` (at the next batch)."""
    paths = _existing(project_dir)
    status = read_status(paths.project_dir)
    if not status.is_active:
        raise SearchStateError(f"The search in {paths.project_dir} is not running (state: {status.state}).")
    mode = "now" if now else "after_trial"
    previous = (read_json(paths.control) or {}).get("stop")
    if previous != "now":
        write_json_atomic(paths.control, {"stop": mode, "requested_at": time.time()})
    return status


def _existing(project_dir: str | os.PathLike[str]) -> SearchPaths:
    paths = SearchPaths.of(project_dir)
    if not paths.is_search():
        raise SearchNotFoundError(f"{paths.project_dir} is not a search made by this app (no explorer/config.json).")
    return paths


def _spawn(project_dir: Path, *, resume: bool, listen: str | None = None) -> SearchHandle:
    paths = SearchPaths.of(project_dir)
    if lock_is_held(paths.lock):
        raise SearchLockedError(str(paths.project_dir), read_status(paths.project_dir).pid)
    args = [str(paths.project_dir)] + (["--resume"] if resume else []) + (["--listen", listen] if listen else [])
    process = background.spawn("tuning.engine.launch", args, log=paths.log)
    return SearchHandle(paths.project_dir, process.pid, process)


@dataclass(frozen=True)
class SearchInfo:
    """One search found in a runs directory."""

    project_dir: Path
    name: str
    status: SearchStatus
    tuner: str
    dataset: str
    objective: str
    experiment: tuple[str, ...] = ()  # the varied hyperparameters, for a controlled experiment


def _varied(config: dict) -> tuple[str, ...]:
    experiment = config.get("experiment")
    vary = experiment.get("vary") if isinstance(experiment, dict) else None
    return tuple(str(name) for name in vary) if isinstance(vary, dict) else ()


def list_searches(directory: str | os.PathLike[str]) -> list[SearchInfo]:
    """The searches made by this app directly under ``directory``, most recently started first."""
    root = Path(directory).expanduser()
    if not root.is_dir():
        return []
    found = []
    for child in sorted(root.iterdir()):
        paths = SearchPaths.of(child)
        if not (child.is_dir() and paths.is_search()):
            continue
        config = read_json(paths.config) or {}
        found.append(
            SearchInfo(
                project_dir=paths.project_dir,
                name=child.name,
                status=read_status(child),
                tuner=str(config.get("tuner", "?")),
                dataset=str((config.get("data") or {}).get("name", "?")),
                objective=str(config.get("objective", "?")),
                experiment=_varied(config),
            )
        )
    found.sort(key=lambda s: s.status.started_at or 0.0, reverse=True)
    return found
