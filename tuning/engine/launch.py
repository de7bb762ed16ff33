"""The search process's entry point: ``python -m tuning.engine.launch PROJECT_DIR [--resume]``.

Started in the foreground by ``python -m tuning run``/``resume``, or in the background by
``tuning.engine.jobs`` in a new session. It holds the search's lock for its whole life, writes the status
(with a heartbeat), chooses between one process (``tuning.engine.runner``) and a group of workers
(``tuning.engine.group``), and ends in one of the states "completed", "stopped" or "failed". A process that
is killed leaves "running" behind, which readers turn into "interrupted" because the lock is gone.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from pathlib import Path

from tuning import settings
from tuning.engine.lifecycle import memory_limit_from_env, scratch_dir, search_lock, search_logging
from tuning.engine.machine import resolved_workers, this_machine
from tuning.engine.runner import run_single
from tuning.errors import SearchNotFoundError, SearchStateError, TuningError
from tuning.space.config import SearchConfig
from tuning.store.paths import SearchPaths
from tuning.store.status import SearchStatus, StatusWriter, read_status


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
    (``tuning.engine.group``); its oracle service listens on ``listen`` (HOST:PORT, default 127.0.0.1 and
    a free port).

    With ``memory_limit_mb``, once the process has grown by that much since its first trial (TensorFlow
    and Keras leak a few MB with every model they build), it replaces itself at a trial boundary by a
    fresh interpreter that continues the search (same pid, lock held throughout). Only a program's entry
    point should ask for that; ``lock_fd`` is how the fresh interpreter gets the lock back.
    """
    paths = SearchPaths.of(project_dir)
    if not paths.is_search():
        raise SearchNotFoundError(f"{paths.project_dir} is not a search made by this app (no {paths.config.name}).")
    config = resolve_workers(SearchConfig.load(paths.config))
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
            with search_logging(paths, console=console), scratch_dir():
                if config.workers > 1:
                    from tuning.engine.group import run_group  # gRPC and Keras Tuner: only for a group

                    run_group(config, paths, writer, listen=listen, memory_limit_mb=memory_limit_mb)
                    recycle = False
                else:
                    recycle = run_single(config, paths, writer, resume=resume, memory_limit_mb=memory_limit_mb)
        finally:
            writer.stop_heartbeat()
        if recycle:
            _restart_process(paths, fd, console=console, memory_limit_mb=memory_limit_mb)
    return writer.status


def resolve_workers(config: SearchConfig) -> SearchConfig:
    """``config`` with ``workers: "auto"`` replaced by what pays off on this machine (see ``tuning.engine.machine``)."""
    return dataclasses.replace(config, workers=resolved_workers(config, this_machine()))


def _restart_process(paths: SearchPaths, fd: int, *, console: bool, memory_limit_mb: float | None) -> None:
    """Replace this process by a fresh interpreter that continues the search, keeping the lock open."""
    os.set_inheritable(fd, True)
    os.environ["PYTHONPATH"] = settings.pythonpath_with_package(os.environ.get("PYTHONPATH"))
    args = [sys.executable, "-m", "tuning.engine.launch", str(paths.project_dir), "--resume", "--lock-fd", str(fd)]
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
        workers_in_use=int(config.workers),
        device=this_machine().describe(),
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the background process: ``python -m tuning.engine.launch PROJECT_DIR [--resume]``."""
    parser = argparse.ArgumentParser(prog="python -m tuning.engine.launch", description=__doc__)
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
