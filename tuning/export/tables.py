"""The result as data: ``summary`` (a small dict), ``trial_table``/``to_csv`` and ``to_json``."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from tuning.analysis.experiment import experiment_of
from tuning.export.common import clean, columns, hp_values, hyperband_values, metric_values, plain
from tuning.results.model import CURVE_COLUMNS, HB_PREFIX, HP_PREFIX, METRIC_PREFIX, STATUSES, ProjectResult

FORMAT = "hyperparameter-explorer/result"
VERSION = 1
CORE = ("number", "status", "score", "best_step", "duration_s", "started_at", "ended_at", "message")
_TIMES = ("started_at", "ended_at")


def trial_counts(result: ProjectResult) -> dict[str, int]:
    """``total`` and one count per lower-case status (every Keras Tuner status present, 0 when none)."""
    counts = {"total": len(result.trials)} | {status.lower(): 0 for status in STATUSES}
    for status, n in result.trials["status"].value_counts().items():
        counts[str(status).lower()] = int(n)
    return counts


def best_trial(result: ProjectResult) -> dict[str, Any] | None:
    """The best completed trial: id, number, score, best step, the values it used and its metrics."""
    trial_id = result.best_trial_id
    if trial_id is None:
        return None
    row = result.trials.loc[trial_id]
    best: dict[str, Any] = {
        "trial_id": trial_id,
        "number": plain(row["number"]),
        "score": plain(row["score"]),
        "best_step": plain(row["best_step"]),
        "hyperparameters": hp_values(result, trial_id),
        "metrics": metric_values(result, trial_id),
    }
    if columns(result, HB_PREFIX):
        best["hyperband"] = hyperband_values(result, trial_id)
    return best


def summary(result: ProjectResult) -> dict[str, Any]:
    """What a search is and how it went, as a JSON-able dict (``python -m tuning summary --json``)."""
    return {
        "project_dir": str(result.project_dir),
        "name": result.name,
        "tuner": result.tuner,
        "tuner_inferred": result.tuner_inferred,
        "objective": {"name": result.objective.name, "direction": result.objective.direction},
        "objective_inferred": result.objective.inferred,
        "made_by_explorer": result.made_by_us,
        "trials": trial_counts(result),
        "best": best_trial(result),
        "hyperparameters": result.hyperparameters,
        "curves": result.curves_source,
        "notices": [str(n) for n in result.notices],
        "experiment": _experiment(result),
    }


def _experiment(result: ProjectResult) -> dict[str, Any] | None:
    """For a controlled experiment: what varied, over which values, each run and the conclusion."""
    found = experiment_of(result)
    return None if found is None else clean(found.to_dict())


DISPLAY_COLUMNS = {"number": "#", "status": "state", "score": "score", "duration_s": "duration (s)"}


def display_table(result: ProjectResult, *, states: Sequence[str] | None = None) -> pd.DataFrame:
    """The compact trial table the pages show: number, state, score, duration and the hyperparameters that
    vary (every hyperparameter when none is known to vary), under plain names; only ``states`` if given."""
    hps = [hp.column for hp in result.space if hp.varies and hp.column in result.trials]
    hps = hps or columns(result, HP_PREFIX)
    trials = result.trials if states is None else result.trials[result.trials["status"].isin(states)]
    table = trials[list(DISPLAY_COLUMNS) + hps].rename(columns=DISPLAY_COLUMNS)
    return table.rename(columns=lambda c: c.removeprefix(HP_PREFIX))


def _names(result: ProjectResult) -> dict[str, str]:
    """Column of the trials frame -> exported name: plain hyperparameter names, ``best_<metric>``."""
    core = {c: c for c in CORE if c in result.trials.columns}
    hps = {c: c.removeprefix(HP_PREFIX) for c in columns(result, HP_PREFIX)}
    taken = {"trial_id", *core, *hps.values()}
    metrics = {c: "best_" + c.removeprefix(METRIC_PREFIX) for c in columns(result, METRIC_PREFIX)}
    metrics = {c: c if name in taken else name for c, name in metrics.items()}
    hyperband = {c: "hyperband_" + c.removeprefix(HB_PREFIX) for c in columns(result, HB_PREFIX)}
    return core | metrics | hps | hyperband


def trial_table(result: ProjectResult) -> pd.DataFrame:
    """One row per trial, as exported to CSV.

    Columns: ``trial_id``, number, status, score, best_step, duration_s, started_at / ended_at (ISO 8601,
    UTC), message; ``best_<metric>`` for each metric (the best value Keras Tuner kept; ``metric:<name>``
    if that name is taken); every hyperparameter under its plain name (empty when not used); and
    ``hyperband_bracket``, ``hyperband_round``, ... for Hyperband.
    """
    names = _names(result)
    table = result.trials[list(names)].rename(columns=names)
    for column in _TIMES:
        if column in table.columns:
            times = pd.to_datetime(table[column], unit="s", utc=True)
            table[column] = times.dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype("string")
    if "message" in table.columns:
        table["message"] = table["message"].astype("string")
    return table.rename_axis("trial_id").reset_index()


def to_csv(result: ProjectResult) -> str:
    """The trial table (``trial_table``) as CSV text."""
    return trial_table(result).to_csv(index=False)


def _trial_records(result: ProjectResult) -> list[dict[str, Any]]:
    core = [c for c in CORE if c in result.trials.columns]
    hps, metrics, hb = (columns(result, p) for p in (HP_PREFIX, METRIC_PREFIX, HB_PREFIX))
    records = []
    for trial_id, row in zip(result.trials.index, result.trials.to_dict("records"), strict=True):
        record = {"trial_id": str(trial_id)} | {c: plain(row[c]) for c in core}
        record["metrics"] = {c.removeprefix(METRIC_PREFIX): plain(row[c]) for c in metrics}
        record["hyperparameters"] = {c.removeprefix(HP_PREFIX): plain(row[c]) for c in hps}
        if hb:
            record["hyperband"] = {c.removeprefix(HB_PREFIX): plain(row[c]) for c in hb}
        records.append(record)
    return records


def _curves(result: ProjectResult) -> dict[str, Any]:
    frame = result.curves
    data = {c: [plain(v) for v in frame[c].tolist()] for c in CURVE_COLUMNS if c in frame.columns}
    return {"source": result.curves_source, "note": result.curves_note, "data": data}


def to_json(result: ProjectResult, *, indent: int | None = None) -> str:
    """The whole result as JSON: summary, space, every trial, learning curves (columns of values), the
    search's configuration and status when made by this app, notices. NaN becomes null.
    """
    document = {
        "format": FORMAT,
        "version": VERSION,
        "project_dir": str(result.project_dir),
        "name": result.name,
        "tuner": result.tuner,
        "tuner_inferred": result.tuner_inferred,
        "objective": dataclasses.asdict(result.objective),
        "summary": summary(result),
        "space": [dataclasses.asdict(info) for info in result.space],
        "trials": _trial_records(result),
        "curves": _curves(result),
        "config": result.config,
        "status": result.status,
        "notices": [str(n) for n in result.notices],
    }
    return json.dumps(clean(document), allow_nan=False, ensure_ascii=False, indent=indent)
