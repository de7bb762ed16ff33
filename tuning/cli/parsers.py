"""The command line's arguments: one ``add_*`` function per group of subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tuning.data.spec import DATASET_NAMES

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
    "pruning": "pruning",
    "pruning_warmup_epochs": "pruning_warmup_epochs",
    "pruning_min_trials": "pruning_min_trials",
    "asha_factor": "asha_factor",
    "asha_min_epochs": "asha_min_epochs",
}
DATASETS = DATASET_NAMES
WORKERS_HELP = (
    "train on N worker processes at once (a chief hands out trials; see docs/workers.md); 1: one process; "
    "auto (the default): one per core up to 4 (one per GPU), bounded by memory and trials"
)
PRUNING_HELP = (
    "stop unpromising trials early: median (below the median of finished trials at the same epoch) or asha "
    "(successive halving over rungs of epochs); none trains every trial to its end (default)"
)


def workers_value(text: str) -> int | str:
    """``--workers``: "auto" or a whole number (the configuration checks its range)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected "auto" or a whole number of processes, got {text!r}') from None


LISTEN_HELP = (
    "where the chief of a search with several workers listens, HOST[:PORT] (default 127.0.0.1, a free port); "
    "another address lets other machines join but has no authentication: trusted networks only"
)


def build_parser(prog: str = "python -m tuning") -> argparse.ArgumentParser:
    """The parser of every subcommand; ``prog`` is how the user called it (``hpx`` or ``python -m tuning``)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run and manage Keras Tuner searches on CIFAR-10; summarise and export any Keras Tuner project.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run(commands)
    _add_experiment(commands)
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
    resume.add_argument("--workers", type=workers_value, metavar="N", help=WORKERS_HELP)
    resume.add_argument("--listen", metavar="HOST[:PORT]", help=LISTEN_HELP)
    _add_worker(commands)
    listing = commands.add_parser("list", help="list the searches in a directory")
    listing.add_argument("directory", type=Path, help="the runs directory")
    listing.add_argument("--json", action="store_true", help="print JSON")
    _add_results(commands)
    _add_app(commands)
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
    run.add_argument(
        "--dataset",
        choices=DATASETS,
        help="built-in synthetic images, scikit-learn's handwritten digits (real, offline; 1,497 training images: "
        "use --train-size 1497 or less), or CIFAR-10",
    )
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
    run.add_argument("--workers", type=workers_value, metavar="N|auto", help=WORKERS_HELP)
    run.add_argument("--pruning", choices=("none", "median", "asha"), help=PRUNING_HELP)
    run.add_argument("--pruning-warmup-epochs", type=int, metavar="N", help="median: never stop before epoch N (2)")
    run.add_argument("--pruning-min-trials", type=int, metavar="N", help="median: finished trials needed first (3)")
    run.add_argument("--asha-factor", type=int, metavar="ETA", help="asha: keep the best 1/ETA at each rung (3)")
    run.add_argument("--asha-min-epochs", type=int, metavar="N", help="asha: the first rung's epoch (1)")
    run.add_argument("--listen", metavar="HOST[:PORT]", help=LISTEN_HELP)
    run.add_argument("--detach", action="store_true", help="run in the background and return at once")


def _add_experiment(commands: Any) -> None:
    experiment = commands.add_parser(
        "experiment",
        help="vary one or two hyperparameters, everything else fixed, and say what changed",
        epilog="e.g. --ready learning_rate --directory runs, or --vary dropout=0,0.3,0.6 --base runs/my-search",
    )
    experiment.add_argument("--list", action="store_true", help="list the ready-made experiments and exit")
    experiment.add_argument("--ready", metavar="NAME", help="run a ready-made experiment (see --list)")
    experiment.add_argument(
        "--vary", action="append", default=[], metavar="NAME=V1,V2,...", help="a hyperparameter and its values"
    )
    experiment.add_argument(
        "--base", metavar="defaults|preset:NAME|PROJECT_DIR", help="what the other hyperparameters stay at"
    )
    experiment.add_argument("--directory", type=Path, help="folder that holds searches (e.g. runs)")
    experiment.add_argument("--project", help="this experiment's folder name (default: experiment-NAME-date)")
    experiment.add_argument("--dataset", choices=DATASETS, help="the data (default: the baseline's)")
    experiment.add_argument("--data-path", help="local CIFAR-10 archive or folder (with --dataset cifar10)")
    experiment.add_argument("--train-size", type=int, help="training + validation images")
    experiment.add_argument("--epochs", type=int, help="epochs of every run (default: the baseline's)")
    experiment.add_argument("--workers", type=workers_value, metavar="N|auto", help=WORKERS_HELP)
    experiment.add_argument("--detach", action="store_true", help="run in the background and return at once")


def _add_app(commands: Any) -> None:
    """Only for `hpx --help` and `hpx app --help`: `hpx app ARGS` goes to ``tuning.cli.app`` before argparse."""
    commands.add_parser(
        "app",
        help="open the web app (Streamlit) on http://localhost:8501; extra arguments go to `streamlit run`",
        description="Start the Hyperparameter Explorer web app with its settings (localhost only, XSRF on). "
        "Searches go to ./runs (or $HPX_RUNS_DIR). Arguments after `app` go to `streamlit run`, "
        "e.g. `hpx app --server.port 8600`.",
    )
