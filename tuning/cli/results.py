"""The commands that read results of any Keras Tuner project: ``summary`` and ``export``."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from typing import Any


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
    if info.get("experiment"):
        lines += _experiment_lines(info["experiment"])
    if info["notices"]:
        lines += ["  notices:", *(f"    - {notice}" for notice in info["notices"])]
    return "\n".join(lines)


def _experiment_lines(experiment: dict[str, Any]) -> list[str]:
    varied = "; ".join(f"{name} = {', '.join(map(str, values))}" for name, values in experiment["values"].items())
    return [
        f"  experiment: varied {varied}",
        f"              baseline: {experiment['base']}",
        *textwrap.wrap(experiment["conclusion"], 100, initial_indent="  conclusion: ", subsequent_indent=" " * 14),
    ]


def cmd_export(args: argparse.Namespace) -> int:
    from tuning.export import ExportError, export
    from tuning.results import load_project
    from tuning.store.paths import write_text_atomic

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
