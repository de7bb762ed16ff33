"""``experiment``: vary one or two hyperparameters from a baseline, run it as a grid search, print what changed."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tuning.errors import ConfigError


def cmd_experiment(args: argparse.Namespace) -> int:
    from tuning.space.experiment import READY

    if args.list:
        width = max(len(key) for key in READY)
        for key, ready in READY.items():
            varied = "; ".join(f"{name}={','.join(map(str, values))}" for name, values in ready.vary.items())
            print(f"{key:<{width}}  {ready.question}  [{varied}, {ready.epochs} epochs, {ready.train_size} images]")
        return 0
    if args.directory is None:
        raise ConfigError("directory", "give --directory, the folder that holds searches (e.g. runs).")
    config = experiment_from_args(args)
    from tuning.design.experiments import experiment_project_name
    from tuning.engine import jobs

    project = args.project or experiment_project_name(config)
    if args.detach:
        handle = jobs.start_search(config, args.directory, project)
        print(f"Started {handle.project_dir} in the background (pid {handle.pid}).")
        print(f"Follow it with: python -m tuning status '{handle.project_dir}'; then summary prints the conclusion.")
        return 0
    from tuning.cli.search import _foreground

    project_dir = jobs.create_search(config, args.directory, project)
    code = _foreground(project_dir, resume=False)
    print_conclusion(project_dir)
    return code


def experiment_from_args(args: argparse.Namespace) -> Any:
    """The experiment's search configuration from ``--ready``/``--vary``, ``--base`` and the data flags."""
    from tuning.design.experiments import build_experiment, ready_baseline, resolve_base
    from tuning.results import load_project
    from tuning.space.experiment import parse_vary, ready_experiment

    data = {
        key: value
        for key, value in (("dataset", args.dataset), ("data_path", args.data_path), ("train_size", args.train_size))
        if value is not None
    }
    if args.ready:
        if args.vary or args.base:
            raise ConfigError("ready", "--ready runs a ready-made experiment as it is; leave out --vary and --base.")
        ready = ready_experiment(args.ready)
        baseline = ready_baseline(ready)
        return build_experiment(
            dict(ready.vary), baseline, epochs=args.epochs, data=data, workers=args.workers, ready=ready.key
        )
    if not args.vary:
        raise ConfigError("vary", "give --vary NAME=V1,V2,... (one or two), or --ready NAME (see --list).")
    vary: dict[str, Any] = {}
    for text in args.vary:
        name, values = parse_vary(text)
        if name in vary:
            raise ConfigError("vary", f"{name} is given twice; list all its values in one --vary {name}=...")
        vary[name] = values
    baseline = resolve_base(args.base, load=load_project)
    return build_experiment(vary, baseline, epochs=args.epochs, data=data, workers=args.workers)


def print_conclusion(project_dir: Any) -> None:
    """Read the finished experiment back and print its conclusion."""
    from tuning.analysis.experiment import experiment_of
    from tuning.results import load_project

    summary = experiment_of(load_project(project_dir))
    if summary is None:  # pragma: no cover - an experiment folder always describes its experiment
        return
    print("\nConclusion: " + summary.conclusion, file=sys.stdout)
