"""The command line: ``python -m tuning run|status|stop|resume|worker|list|summary|export``.

User mistakes print one line starting with ``error:`` and exit with status 2; a search that fails
exits with 1; everything else with 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tuning.errors import TuningError

EPILOG = """examples:
  python -m tuning run --directory runs --project demo --dataset synthetic --max-trials 5 --epochs 2
  python -m tuning run --directory runs --config search.json --tuner hyperband --detach
  python -m tuning status runs/demo --json
  python -m tuning stop runs/demo --now
  python -m tuning resume runs/demo --detach
  python -m tuning run --directory runs --project wide --workers 2 --max-trials 8
  python -m tuning worker runs/wide --chief gpu-box.lan:50051
  python -m tuning list runs
  python -m tuning summary runs/demo --json
  python -m tuning export runs/demo --format html --output demo-report.html
"""

# command-line flag -> SearchConfig.with_overrides key
OVERRIDES = {
    "tuner": "tuner",
    "objective": "objective",
    "max_trials": "max_trials",
    "epochs": "epochs",
    "train_size": "train_size",
    "validation_split": "validation_split",
    "dataset": "dataset",
    "data_path": "data_path",
    "seed": "seed",
    "executions_per_trial": "executions_per_trial",
    "hyperband_max_epochs": "hyperband_max_epochs",
    "hyperband_factor": "hyperband_factor",
    "hyperband_iterations": "hyperband_iterations",
    "early_stopping": "early_stopping_patience",
    "keep_checkpoints": "keep_checkpoints",
    "workers": "workers",
}
WORKERS_HELP = "train on N worker processes at once (a chief hands out trials; see docs/workers.md)"
LISTEN_HELP = (
    "where the chief of a search with several workers listens, HOST[:PORT] (default 127.0.0.1, a free port); "
    "another address lets other machines join but has no authentication: trusted networks only"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tuning",
        description="Run and manage Keras Tuner searches on CIFAR-10; summarise and export any Keras Tuner project.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run(commands)
    status = commands.add_parser("status", help="show the state and progress of a search")
    status.add_argument("project_dir", type=Path, help="the search's folder (DIRECTORY/PROJECT)")
    status.add_argument("--json", action="store_true", help="print the status file's content as JSON")
    stop = commands.add_parser("stop", help="stop a running search (after its current trial, or --now)")
    stop.add_argument("project_dir", type=Path, help="the search's folder")
    stop.add_argument(
        "--now", action="store_true", help="stop at the next batch; the interrupted trial reruns on resume"
    )
    stop.add_argument("--wait", action="store_true", help="wait until the search has stopped")
    resume = commands.add_parser("resume", help="resume a stopped, interrupted or failed search")
    resume.add_argument("project_dir", type=Path, help="the search's folder")
    resume.add_argument("--detach", action="store_true", help="run in the background and return at once")
    resume.add_argument("--max-trials", type=int, help="raise the trial budget (random, Bayesian, grid)")
    resume.add_argument("--workers", type=int, metavar="N", help=WORKERS_HELP)
    resume.add_argument("--listen", metavar="HOST[:PORT]", help=LISTEN_HELP)
    _add_worker(commands)
    listing = commands.add_parser("list", help="list the searches in a directory")
    listing.add_argument("directory", type=Path, help="the runs directory")
    listing.add_argument("--json", action="store_true", help="print JSON")
    _add_results(commands)
    return parser


def _add_worker(commands: Any) -> None:
    worker = commands.add_parser(
        "worker",
        help="add a worker (e.g. on another machine) to a search running with --workers",
        description="Train trials of a running distributed search. The search's folder must be reachable here "
        "(a shared filesystem) at the path given. See docs/workers.md.",
    )
    worker.add_argument("project_dir", type=Path, help="the search's folder, as this machine sees it")
    worker.add_argument(
        "--chief", metavar="HOST:PORT", help="the chief's address (default: the one in the search's status)"
    )
    worker.add_argument("--id", dest="worker_id", help="this worker's name (default: HOST-PID)")
    worker.add_argument("--threads", type=int, help="CPU threads TensorFlow may use (default: all)")


def _add_results(commands: Any) -> None:
    summary = commands.add_parser("summary", help="summarise the results of a search (any Keras Tuner project)")
    summary.add_argument("project_dir", type=Path, help="a Keras Tuner project folder, made by this app or not")
    summary.add_argument("--json", action="store_true", help="print the summary as JSON")
    export = commands.add_parser(
        "export", help="export results as CSV, JSON, a Python script of the best model, or an HTML report"
    )
    export.add_argument("project_dir", type=Path, help="a Keras Tuner project folder, made by this app or not")
    export.add_argument(
        "--format",
        dest="fmt",
        required=True,
        choices=("csv", "json", "py", "html"),
        help="csv: one row per trial; json: everything, learning curves included; py: a script that trains "
        "the best model (searches made by this app only); html: a report that opens offline",
    )
    export.add_argument("--output", type=Path, required=True, help="the file to write (its folder must exist)")
    export.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")


def _add_run(commands: Any) -> None:
    run = commands.add_parser("run", help="start a new search", epilog="Flags override the values in --config.")
    run.add_argument("--directory", type=Path, required=True, help="folder that holds searches (e.g. runs)")
    run.add_argument("--project", help="name of this search's folder inside DIRECTORY (default: tuner-dataset-date)")
    run.add_argument("--config", type=Path, help="a JSON search configuration (see README); flags override it")
    run.add_argument("--tuner", choices=("random", "bayesian", "hyperband", "grid"), help="search algorithm")
    run.add_argument("--objective", choices=("val_accuracy", "val_loss"), help="what to optimise")
    run.add_argument("--dataset", choices=("synthetic", "cifar10"), help="built-in synthetic images, or CIFAR-10")
    run.add_argument("--data-path", help="local cifar-10-python.tar.gz / cifar-10-binary.tar.gz or extracted folder")
    run.add_argument("--max-trials", type=int, help="number of trials (ignored by hyperband)")
    run.add_argument("--epochs", type=int, help="fix the training epochs of every trial")
    run.add_argument("--train-size", type=int, help="training + validation images taken from the training set")
    run.add_argument("--validation-split", type=float, help="fraction of those images held out for validation")
    run.add_argument("--seed", type=int, help="random seed of the tuner and the data")
    run.add_argument("--executions-per-trial", type=int, help="train each configuration this many times")
    run.add_argument("--hyperband-max-epochs", type=int, help="Hyperband: most epochs a trial can get")
    run.add_argument("--hyperband-factor", type=int, help="Hyperband: reduction factor between rounds")
    run.add_argument("--hyperband-iterations", type=int, help="Hyperband: number of full iterations")
    run.add_argument(
        "--early-stopping", type=int, metavar="PATIENCE", help="stop a trial after PATIENCE epochs without improvement"
    )
    run.add_argument("--keep-checkpoints", choices=("best", "all"), help="keep weights of the best trial only, or all")
    run.add_argument("--workers", type=int, metavar="N", help=WORKERS_HELP)
    run.add_argument("--listen", metavar="HOST[:PORT]", help=LISTEN_HELP)
    run.add_argument("--detach", action="store_true", help="run in the background and return at once")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except TuningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _config_from_args(args: argparse.Namespace) -> Any:
    from tuning.config import SearchConfig

    config = SearchConfig.load(args.config) if args.config else SearchConfig()
    overrides = {key: getattr(args, flag) for flag, key in OVERRIDES.items() if getattr(args, flag) is not None}
    config = config.with_overrides(**overrides) if overrides else config
    config.validate()
    return config


def cmd_run(args: argparse.Namespace) -> int:
    from tuning import jobs

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
    from tuning import jobs

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
    from tuning.runner import memory_limit_from_env, run_search

    print(f"Search folder: {project_dir}  (Ctrl-C stops cleanly; run `resume` to continue)")
    limit = memory_limit_from_env() or None
    status = run_search(project_dir, resume=resume, console=True, memory_limit_mb=limit, listen=listen)
    if status.error:
        print(f"error: {status.error}", file=sys.stderr)
    return 1 if status.state == "failed" else 0


def cmd_status(args: argparse.Namespace) -> int:
    from tuning.jobs import _existing
    from tuning.status import read_status
    from tuning.worker_status import read_workers

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
    from tuning.status import format_duration

    return "-" if seconds is None else format_duration(seconds)


def cmd_worker(args: argparse.Namespace) -> int:
    from tuning.jobs import _existing
    from tuning.worker_status import chief_address, read_workers

    paths = _existing(args.project_dir)
    chief = chief_address(paths.project_dir, args.chief)
    from tuning.worker import run_worker  # after the checks: it loads TensorFlow and gRPC

    code = run_worker(paths.project_dir, chief=chief, worker_id=args.worker_id, threads=args.threads, console=True)
    if code in (0, 3):  # no trial left, or stopped on request
        return 0
    saved = read_workers(paths.project_dir)
    errors = [w.error for w in saved if w.pid == os.getpid() and w.error]
    print(f"error: {errors[0] if errors else f'the worker ended with exit code {code}'}", file=sys.stderr)
    return 1


def cmd_stop(args: argparse.Namespace) -> int:
    from tuning.jobs import stop_search
    from tuning.status import read_status

    stop_search(args.project_dir, now=args.now)
    print("Asked the search to stop " + ("now (at the next batch)." if args.now else "after the current trial."))
    while args.wait and read_status(args.project_dir).is_active:
        time.sleep(0.5)
    if args.wait:
        print(f"The search is {read_status(args.project_dir).state}.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from tuning.jobs import list_searches

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


def cmd_summary(args: argparse.Namespace) -> int:
    from tuning.export import summary
    from tuning.results import load_project

    info = summary(load_project(args.project_dir))
    print(json.dumps(info, indent=2) if args.json else format_summary(info))
    return 0


INFERRED = " (inferred)"


def format_summary(info: dict[str, Any]) -> str:
    """A ``summary`` dict as a few aligned lines for the terminal."""
    objective, trials, best = info["objective"], info["trials"], info["best"]
    counts = ", ".join(f"{n} {status}" for status, n in trials.items() if status != "total" and n)
    better = "higher" if objective["direction"] == "max" else "lower"
    lines = [
        info["project_dir"],
        f"  tuner:      {info['tuner']}" + (INFERRED if info["tuner_inferred"] else ""),
        f"  objective:  {objective['name']} ({better} is better)" + (INFERRED if info["objective_inferred"] else ""),
        f"  trials:     {trials['total']}" + (f" ({counts})" if counts else ""),
    ]
    if best is None:
        lines.append("  best:       - (no completed trial)")
    else:
        lines.append(f"  best:       {best['score']:.4f} (trial {best['number']}, id {best['trial_id']})")
        width = max((len(name) for name in best["hyperparameters"]), default=0)
        lines += [f"              {name:<{width}}  {value}" for name, value in best["hyperparameters"].items()]
    lines.append(f"  curves:     {info['curves']}")
    if info["notices"]:
        lines += ["  notices:", *(f"    - {notice}" for notice in info["notices"])]
    return "\n".join(lines)


def cmd_export(args: argparse.Namespace) -> int:
    from tuning.export import ExportError, export
    from tuning.results import load_project
    from tuning.store import write_text_atomic

    output: Path = args.output
    if not output.parent.is_dir():
        raise ExportError(f"Cannot write {output}: its folder {output.parent} does not exist.")
    if output.is_dir():
        raise ExportError(f"Cannot write {output}: it is a folder; give a file name.")
    if output.exists() and not args.force:
        raise ExportError(f"{output} already exists; add --force to overwrite it.")
    text = export(load_project(args.project_dir), args.fmt)
    write_text_atomic(output, text)
    print(f"Wrote {output} ({len(text.encode('utf-8')):,} bytes).")
    return 0


COMMANDS = {
    "run": cmd_run,
    "resume": cmd_resume,
    "status": cmd_status,
    "stop": cmd_stop,
    "worker": cmd_worker,
    "list": cmd_list,
    "summary": cmd_summary,
    "export": cmd_export,
}
