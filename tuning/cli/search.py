"""The commands that run and manage searches: ``run``, ``resume``, ``status``, ``worker``, ``stop``, ``list``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tuning.cli.parsers import OVERRIDES


def _config_from_args(args: argparse.Namespace) -> Any:
    from tuning.space.config import SearchConfig

    config = SearchConfig.load(args.config) if args.config else SearchConfig()
    overrides = {key: getattr(args, flag) for flag, key in OVERRIDES.items() if getattr(args, flag) is not None}
    config = config.with_overrides(**overrides) if overrides else config
    config.validate()
    return config


def cmd_run(args: argparse.Namespace) -> int:
    from tuning.engine import jobs

    config = _config_from_args(args)
    jobs.check_listen(args.listen)
    if args.detach:
        handle = jobs.start_search(config, args.directory, args.project, listen=args.listen)
        print(f"Started {handle.project_dir} in the background (pid {handle.pid}).")
        print(f"Follow it with: python -m tuning status '{handle.project_dir}'")
        return 0
    project_dir = jobs.create_search(config, args.directory, args.project)
    return _foreground(project_dir, resume=False, listen=args.listen)


def cmd_resume(args: argparse.Namespace) -> int:
    from tuning.engine import jobs

    jobs.check_listen(args.listen)
    if args.detach:
        handle = jobs.resume_search(
            args.project_dir, max_trials=args.max_trials, workers=args.workers, listen=args.listen
        )
        print(f"Resumed {handle.project_dir} in the background (pid {handle.pid}).")
        return 0
    jobs.prepare_resume(args.project_dir, max_trials=args.max_trials, workers=args.workers)
    return _foreground(args.project_dir, resume=True, listen=args.listen)


def _foreground(project_dir: Path, *, resume: bool, listen: str | None = None) -> int:
    from tuning.engine.launch import run_search
    from tuning.engine.lifecycle import memory_limit_from_env

    print(f"Search folder: {project_dir}  (Ctrl-C stops cleanly; run `resume` to continue)")
    limit = memory_limit_from_env() or None
    status = run_search(project_dir, resume=resume, console=True, memory_limit_mb=limit, listen=listen)
    if status.error:
        print(f"error: {status.error}", file=sys.stderr)
    return 1 if status.state == "failed" else 0


def cmd_status(args: argparse.Namespace) -> int:
    from tuning.engine.jobs import _existing
    from tuning.store.status import read_status
    from tuning.store.workers import read_workers

    paths = _existing(args.project_dir)
    status = read_status(paths.project_dir)
    workers = read_workers(paths.project_dir, search=status) if status.workers else []
    if args.json:
        data = status.to_dict() | {"eta_seconds": status.eta_seconds(), "elapsed_seconds": status.elapsed_seconds()}
        data["worker_processes"] = [w.to_dict() for w in workers]
        print(json.dumps(data, indent=2))
    else:
        print(format_status(paths.project_dir, status, workers))
    return 0


def format_status(project_dir: Path, status: Any, workers: list[Any] | None = None) -> str:
    lines = [f"{project_dir}", f"  state:    {status.state}" + (f" (pid {status.pid})" if status.is_active else "")]
    lines.append(
        f"  trials:   {status.trials_done} of {status.trials_planned} done  {_counts(status.trials_by_status)}"
    )
    current = status.current_trial
    if current:
        lines.append(
            f"  current:  trial {current.get('number')} (id {current.get('trial_id')}), epoch {current.get('epoch')}"
            f"/{current.get('epochs')}, batch {current.get('batch')}/{current.get('batches')}"
        )
    if status.best:
        lines.append(f"  best:     {status.best['score']:.4f} (trial {status.best['trial_id']})")
    lines.append(f"  elapsed:  {_duration(status.elapsed_seconds())}   ETA: {_duration(status.eta_seconds())}")
    if status.device:
        lines.append(
            f"  device:   {status.device}"
            + (f", {status.workers_in_use} processes" if status.workers_in_use > 1 else "")
        )
    if status.message:
        lines.append(f"  message:  {status.message}")
    if status.error:
        lines.append(f"  error:    {status.error}")
    if status.workers:
        chief = f", chief at {status.chief}" if status.chief and status.is_active else ""
        lines.append(f"  workers:  {status.workers}{chief}")
        lines += [f"    {_worker_line(w)}" for w in workers or []]
    return "\n".join(lines)


def _worker_line(worker: Any) -> str:
    current = worker.current_trial or {}
    doing = (
        f"trial {current.get('number')}, epoch {current.get('epoch') or 0}/{current.get('epochs')}" if current else ""
    )
    beat = f"heartbeat {_duration(max(0.0, time.time() - worker.heartbeat))} ago" if worker.heartbeat else ""
    parts = [f"{worker.worker:12s} pid {worker.pid}", worker.state, doing, f"{worker.trials_run} trials run", beat]
    return "  ".join(p for p in parts if p)


def _counts(by_status: dict[str, int]) -> str:
    return "(" + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())) + ")" if by_status else ""


def _duration(seconds: float | None) -> str:
    from tuning.store.status import format_duration

    return "-" if seconds is None else format_duration(seconds)


def cmd_worker(args: argparse.Namespace) -> int:
    from tuning.engine.jobs import _existing
    from tuning.store.workers import chief_address, read_workers

    paths = _existing(args.project_dir)
    chief = chief_address(paths.project_dir, args.chief)
    from tuning.engine.worker import run_worker

    code = run_worker(paths.project_dir, chief=chief, worker_id=args.worker_id, threads=args.threads, console=True)
    if code in (0, 3):  # no trial left, or stopped on request
        return 0
    saved = read_workers(paths.project_dir)
    errors = [w.error for w in saved if w.pid == os.getpid() and w.error]
    print(f"error: {errors[0] if errors else f'the worker ended with exit code {code}'}", file=sys.stderr)
    return 1


def cmd_stop(args: argparse.Namespace) -> int:
    from tuning.engine.jobs import stop_search
    from tuning.store.status import read_status

    stop_search(args.project_dir, now=args.now)
    print("Asked the search to stop " + ("now (at the next batch)." if args.now else "after the current trial."))
    while args.wait and read_status(args.project_dir).is_active:
        time.sleep(0.5)
    if args.wait:
        print(f"The search is {read_status(args.project_dir).state}.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from tuning.engine.jobs import list_searches

    searches = list_searches(args.directory)
    if args.json:
        print(json.dumps([_info_dict(s) for s in searches], indent=2))
        return 0
    if not searches:
        print(f"No searches in {args.directory}.")
    for s in searches:
        best = f"{s.status.best['score']:.4f}" if s.status.best else "-"
        print(
            f"{s.name:40s} {s.status.state:12s} {s.status.trials_done:>4}/{s.status.trials_planned:<4} "
            f"{s.tuner:10s} {s.dataset:10s} best {best}"
        )
    return 0


def _info_dict(info: Any) -> dict[str, Any]:
    return {
        "name": info.name,
        "project_dir": str(info.project_dir),
        "tuner": info.tuner,
        "dataset": info.dataset,
        "objective": info.objective,
        "state": info.status.state,
        "pid": info.status.pid,
        "trials_done": info.status.trials_done,
        "trials_planned": info.status.trials_planned,
        "best": info.status.best,
    }
