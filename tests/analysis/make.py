"""Tiny ``ProjectResult`` objects built in memory, so that analyses are tested without the reader."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuning.results.model import HP_PREFIX, Condition, HyperparameterInfo, Objective, ProjectResult

ACCURACY = Objective("val_accuracy", "max")
LOSS = Objective("val_loss", "min")
CORE = {
    "status": "COMPLETED",
    "score": np.nan,
    "best_step": pd.NA,
    "duration_s": np.nan,
    "started_at": np.nan,
    "ended_at": np.nan,
    "message": None,
}


def floating(name: str, low: float, high: float, *, log: bool = False, **extra: Any) -> HyperparameterInfo:
    return HyperparameterInfo(name, "float", min=low, max=high, sampling="log" if log else "linear", **extra)


def integer(name: str, low: int, high: int, **extra: Any) -> HyperparameterInfo:
    return HyperparameterInfo(name, "int", min=low, max=high, step=1, **extra)


def choice(name: str, *values: Any, **extra: Any) -> HyperparameterInfo:
    return HyperparameterInfo(name, "choice", values=tuple(values), **extra)


def boolean(name: str, **extra: Any) -> HyperparameterInfo:
    return HyperparameterInfo(name, "boolean", values=(True, False), **extra)


def when(parent: str, *values: Any) -> tuple[Condition, ...]:
    return (Condition(parent, tuple(values)),)


def _dtype(hp: HyperparameterInfo) -> str:
    if hp.kind == "float":
        return "Float64"
    if hp.kind == "int":
        return "Int64"
    if hp.kind == "boolean" or all(isinstance(v, bool) for v in hp.values):
        return "boolean"
    if all(isinstance(v, int) for v in hp.values):
        return "Int64"
    return "Float64" if all(isinstance(v, (int, float)) for v in hp.values) else "string"


def trials_frame(rows: list[dict[str, Any]], space: tuple[HyperparameterInfo, ...]) -> pd.DataFrame:
    """The trials table: one row per dict; keys are core columns, hyperparameter names, ``hb:``/``metric:``."""
    names = {hp.name for hp in space}
    records = []
    for i, row in enumerate(rows):
        record: dict[str, Any] = {"trial_id": f"{i:04d}", "number": i + 1, **CORE}
        record.update({HP_PREFIX + k if k in names else k: v for k, v in row.items()})
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=_columns(records, space)).set_index("trial_id")
    frame["number"] = frame["number"].astype("Int64")
    frame["score"] = frame["score"].astype(float)
    for column in ("best_step", *[c for c in frame.columns if c.startswith("hb:")]):
        frame[column] = frame[column].astype("Int64")
    for column in ("duration_s", "started_at", "ended_at"):
        frame[column] = frame[column].astype(float)
    for hp in space:
        frame[hp.column] = frame[hp.column].astype(object).where(frame[hp.column].notna(), pd.NA).astype(_dtype(hp))
    return frame


def _columns(records: list[dict[str, Any]], space: tuple[HyperparameterInfo, ...]) -> list[str]:
    columns = ["trial_id", "number", *CORE]
    extra = [k for r in records for k in r if k not in columns and not k.startswith(HP_PREFIX)]
    return columns + list(dict.fromkeys(extra)) + [hp.column for hp in space]


def make_result(
    rows: list[dict[str, Any]],
    space: list[HyperparameterInfo] | tuple[HyperparameterInfo, ...],
    *,
    objective: Objective = ACCURACY,
    tuner: str = "random",
    name: str = "project",
) -> ProjectResult:
    """A ``ProjectResult`` with the given trials (see ``trials_frame``) and search space."""
    space = tuple(space)
    return ProjectResult(Path(name), name, trials_frame(rows, space), space, objective, tuner)


def synthetic(n: int, *, seed: int = 0, objective: Objective = ACCURACY, hyperband: bool = False) -> ProjectResult:
    """``n`` trials over a CIFAR-like space: score rises with log learning rate, a few trials fail."""
    rng = np.random.default_rng(seed)
    space = (
        floating("learning_rate", 1e-5, 1e-1, log=True),
        floating("dropout", 0.0, 0.5),
        integer("conv_blocks", 1, 4),
        choice("optimizer", "adam", "sgd", "rmsprop"),
        floating("momentum", 0.0, 0.99, conditions=when("optimizer", "sgd", "rmsprop")),
        boolean("batch_norm"),
        choice("filters", 8, 16, 32, 64),
    )
    lr = 10 ** rng.uniform(-5, -1, n)
    optimizer = rng.choice(["adam", "sgd", "rmsprop"], n)
    score = 0.3 + 0.1 * (np.log10(lr) + 5) + rng.normal(0, 0.03, n)
    status = np.where(rng.random(n) < 0.05, "FAILED", "COMPLETED")
    frame = pd.DataFrame(
        {
            "number": np.arange(1, n + 1),
            "status": status,
            "score": np.where(status == "FAILED", np.nan, score),
            "started_at": 1000.0 + 10 * np.arange(n),
            "ended_at": 1009.0 + 10 * np.arange(n),
            "learning_rate": lr,
            "dropout": rng.uniform(0, 0.5, n),
            "conv_blocks": rng.integers(1, 5, n),
            "optimizer": optimizer,
            "momentum": np.where(optimizer == "adam", np.nan, rng.uniform(0, 0.99, n)),
            "batch_norm": rng.random(n) < 0.5,
            "filters": rng.choice([8, 16, 32, 64], n),
        }
    )
    if hyperband:
        frame["hb:epochs"] = rng.choice([1, 2, 4, 9], n)
    rows = [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]
    for row in rows:
        row["score"] = np.nan if row["score"] is None else row["score"]
    return make_result(rows, space, objective=objective, tuner="hyperband" if hyperband else "random")


@cache
def big() -> ProjectResult:
    """10,000 trials of a Hyperband-like search (built once per test session; do not modify it)."""
    return synthetic(10_000, hyperband=True)


# A conditional space (momentum only for sgd, a log-scale learning rate) and four trials, the last failed:
# shared by the slice and highlight tests of tuning.plots.
OPTIMIZER = choice("optimizer", "adam", "sgd")
MOMENTUM = floating("momentum", 0.0, 1.0, conditions=when("optimizer", "sgd"))
LR = floating("learning_rate", 1e-4, 1e-1, log=True)
ROWS = [
    {"optimizer": "sgd", "momentum": 0.5, "learning_rate": 1e-3, "score": 0.25},
    {"optimizer": "adam", "learning_rate": 1e-2, "score": 0.5},
    {"optimizer": "adam", "learning_rate": 1e-1, "score": 0.75},
    {"optimizer": "adam", "learning_rate": 1e-1, "status": "FAILED"},
]
