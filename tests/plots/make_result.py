"""A tiny factory of ``ProjectResult`` objects built in memory, with the dtypes the reader gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from tuning.results.model import (
    CURVE_COLUMNS,
    Condition,
    HyperparameterInfo,
    Objective,
    ProjectResult,
)

# learning_rate (log), optimizer (choice of strings), momentum (only for sgd), units (int), fixed batch size
SPACE = (
    HyperparameterInfo("learning_rate", "float", min=1e-4, max=1e-1, sampling="log"),
    HyperparameterInfo("optimizer", "choice", values=("sgd", "adam")),
    HyperparameterInfo("momentum", "float", min=0.0, max=0.9, conditions=(Condition("optimizer", ("sgd",)),)),
    HyperparameterInfo("units", "int", min=8, max=64, step=8),
    HyperparameterInfo("batch_size", "fixed", values=(32,), default=32),
)

_DTYPES = {"float": "Float64", "int": "Int64", "boolean": "boolean"}
_HB = ("bracket", "round", "parent", "epochs", "initial_epoch")


def hp_dtype(info: HyperparameterInfo) -> str:
    """The column dtype the reader gives a hyperparameter of this kind."""
    if info.kind in _DTYPES:
        return _DTYPES[info.kind]
    values = info.values
    if values and all(isinstance(v, bool) for v in values):
        return "boolean"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "Int64"
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "Float64"
    return "string"


def trial(
    trial_id: str,
    score: float | None,
    *,
    status: str = "COMPLETED",
    hp: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    hb: dict[str, Any] | None = None,
    best_step: int | None = 0,
    duration_s: float = 1.0,
    message: str | None = None,
) -> dict[str, Any]:
    """One trial's row, in the factory's input form."""
    return {
        "trial_id": trial_id,
        "status": status,
        "score": score,
        "best_step": best_step,
        "duration_s": duration_s,
        "message": message,
        "hp": hp or {},
        "metrics": metrics or {},
        "hb": hb,
    }


def trials_frame(rows: list[dict[str, Any]], space: tuple[HyperparameterInfo, ...]) -> pd.DataFrame:
    """The trials DataFrame of the results model, from ``trial(...)`` rows (start order = list order)."""
    index = pd.Index([r["trial_id"] for r in rows], name="trial_id", dtype=object)
    nan = float("nan")
    frame = pd.DataFrame(
        {
            "number": pd.array(range(1, len(rows) + 1), dtype="Int64"),
            "status": [r["status"] for r in rows],
            "score": [nan if r["score"] is None else float(r["score"]) for r in rows],
            "best_step": pd.array([r["best_step"] for r in rows], dtype="Int64"),
            "duration_s": [float(r["duration_s"]) for r in rows],
            "started_at": [1.7e9 + 10.0 * i for i in range(len(rows))],
            "ended_at": [1.7e9 + 10.0 * i + r["duration_s"] for i, r in enumerate(rows)],
            "message": pd.Series([r["message"] for r in rows], dtype=object).to_numpy(),
        },
        index=index,
    )
    metric_names = list(dict.fromkeys(name for r in rows for name in r["metrics"]))
    for name in metric_names:
        frame["metric:" + name] = [float(r["metrics"].get(name, nan)) for r in rows]
    for info in space:
        frame[info.column] = pd.array([r["hp"].get(info.name) for r in rows], dtype=hp_dtype(info))
    if any(r["hb"] for r in rows):
        for key in _HB:
            dtype = "string" if key == "parent" else "Int64"
            frame["hb:" + key] = pd.array([(r["hb"] or {}).get(key) for r in rows], dtype=dtype)
    return frame


def curves_frame(points: list[tuple[str, int, int, str, float]], source: str = "engine") -> pd.DataFrame:
    """The long curves DataFrame from (trial_id, execution, epoch, metric, value) tuples."""
    frame = pd.DataFrame([(*p, source) for p in points], columns=list(CURVE_COLUMNS))
    return frame.astype({"execution": "int64", "epoch": "int64", "value": "float64"})


def make_result(
    rows: list[dict[str, Any]],
    *,
    space: tuple[HyperparameterInfo, ...] = SPACE,
    objective: tuple[str, str] = ("val_loss", "min"),
    tuner: str = "random",
    curves: list[tuple[str, int, int, str, float]] | None = None,
    curves_source: str = "engine",
    curves_note: str = "",
    config: dict[str, Any] | None = None,
    notices: list[str] | None = None,
    project_dir: Path | str = "/tmp/project",
) -> ProjectResult:
    """A ``ProjectResult`` as the reader would give it for these trials."""
    result = ProjectResult(
        project_dir=Path(project_dir),
        name=Path(project_dir).name,
        trials=trials_frame(rows, space),
        space=space,
        objective=Objective(*objective),
        tuner=tuner,
        tuner_inferred=False,
        config=config,
        notices=list(notices or []),
    )
    if curves is not None:
        result.curves = curves_frame(curves, curves_source)
        result.curves_source = curves_source
        result.curves_note = curves_note
    return result


def sample_result() -> ProjectResult:
    """Four completed trials (one sgd with momentum, three adam), one failed, one running."""
    rows = [
        trial("00", 0.9, hp={"learning_rate": 1e-3, "optimizer": "adam", "units": 16, "batch_size": 32}),
        trial(
            "01",
            0.5,
            hp={"learning_rate": 1e-2, "optimizer": "sgd", "momentum": 0.9, "units": 32, "batch_size": 32},
            metrics={"val_loss": 0.5, "loss": 0.4},
        ),
        trial("02", None, status="FAILED", hp={"learning_rate": 0.1, "optimizer": "adam"}, message="diverged"),
        trial("03", 0.7, hp={"learning_rate": 1e-4, "optimizer": "adam", "units": 64, "batch_size": 32}),
        trial("04", None, status="RUNNING", hp={"learning_rate": 3e-3, "optimizer": "sgd", "momentum": 0.5}),
        trial("05", 1.2, hp={"learning_rate": 3e-2, "optimizer": "adam", "units": 8, "batch_size": 32}),
    ]
    return make_result(rows)


# ----- Keras Tuner project folders, as Keras Tuner 1.4 writes them ------------------------------------------
SGD_ONLY = {"name": "opt", "values": ["sgd"]}
KT_SPACE: list[dict[str, Any]] = [
    {
        "class_name": "Float",
        "config": {
            "name": "lr", "default": 0.0001, "conditions": [], "min_value": 0.0001, "max_value": 0.1,
            "step": None, "sampling": "log",
        },
    },
    {
        "class_name": "Choice",
        "config": {"name": "opt", "default": "sgd", "conditions": [], "values": ["sgd", "adam"], "ordered": False},
    },
    {
        "class_name": "Float",
        "config": {
            "name": "momentum", "default": 0.0, "min_value": 0.0, "max_value": 0.9, "step": None,
            "sampling": "linear", "conditions": [{"class_name": "Parent", "config": SGD_ONLY}],
        },
    },
]  # fmt: skip


def kt_trial(
    trial_id: str,
    values: dict[str, Any],
    score: float | None,
    *,
    status: str = "COMPLETED",
    objective: tuple[str, str] = ("val_loss", "min"),
    space: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A ``trial.json`` as Keras Tuner writes it."""
    name, direction = objective
    metrics = {} if score is None else {name: {"direction": direction, "observations": [{"value": [score], "step": 0}]}}
    return {
        "trial_id": trial_id,
        "hyperparameters": {"space": space or KT_SPACE, "values": values},
        "metrics": {"metrics": metrics},
        "score": score,
        "best_step": 0 if score is not None else None,
        "status": status,
        "message": "Traceback (most recent call last):\nValueError: boom" if status == "FAILED" else None,
    }


def write_project(
    folder: Path, trials: list[dict[str, Any]], *, space: list[dict[str, Any]] | None = None, **oracle: Any
) -> Path:
    """A Keras Tuner project folder (``oracle.json``, ``tuner0.json``, ``trial_*/trial.json``) in ``folder``."""
    folder.mkdir(parents=True)
    ids = [t["trial_id"] for t in trials]
    state = {
        "ongoing_trials": {},
        "hyperparameters": {"space": space or KT_SPACE, "values": {}},
        "start_order": ids,
        "end_order": [t["trial_id"] for t in trials if t["status"] != "RUNNING"],
        "run_times": dict.fromkeys(ids, 1),
        "retry_queue": [],
        "seed": 1,
        "seed_state": 1 + len(ids),
        "tried_so_far": [],
        "id_to_hash": {},
    } | oracle
    (folder / "oracle.json").write_text(json.dumps(state))
    (folder / "tuner0.json").write_text("{}")
    for t in trials:
        trial_dir = folder / f"trial_{t['trial_id']}"
        trial_dir.mkdir()
        (trial_dir / "trial.json").write_text(json.dumps(t))
    return folder
