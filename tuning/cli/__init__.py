"""The command line: ``hpx`` (or ``python -m tuning``) followed by a command (``run``, ``experiment``, ``status``,
``stop``, ``resume``, ``worker``, ``list``, ``summary``, ``export``, ``app``).

User mistakes print one line starting with ``error:`` and exit with status 2; a search that fails
exits with 1; everything else with 0.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from tuning.cli.app import run_app
from tuning.cli.experiment import cmd_experiment
from tuning.cli.parsers import build_parser
from tuning.cli.results import cmd_export, cmd_summary
from tuning.cli.search import cmd_list, cmd_resume, cmd_run, cmd_status, cmd_stop, cmd_worker
from tuning.errors import TuningError

COMMANDS: dict[str, Callable[..., int]] = {
    "run": cmd_run,
    "experiment": cmd_experiment,
    "resume": cmd_resume,
    "status": cmd_status,
    "stop": cmd_stop,
    "worker": cmd_worker,
    "list": cmd_list,
    "summary": cmd_summary,
    "export": cmd_export,
}


def main(argv: list[str] | None = None, *, prog: str = "python -m tuning") -> int:
    """Run one subcommand; the exit status (see the module's doc)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["app"] and not {"-h", "--help"} & set(argv[1:2]):
        return _guarded(run_app, argv[1:])  # every other argument belongs to `streamlit run`
    args = build_parser(prog).parse_args(argv)
    return _guarded(COMMANDS[args.command], args)


def _guarded(command: Callable[[Any], int], args: Any) -> int:
    try:
        return command(args)
    except TuningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def hpx() -> int:
    """The ``hpx`` console command (installed by ``pip install``)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return main(prog="hpx")
