"""Tiny Keras Tuner project folders written into ``tmp_path``, in keras-tuner 1.4.8's exact file format.

Start with ``make_project``; the lower-level helpers (``hp_*``, ``trial_state``, ``oracle_state``,
``write_*``, ``add_engine_files``) build anything else: truncated files, old-version files, odd names.
Every value is deterministic (seeded), so tests can compare parsed values for equality.

    project = make_project(tmp_path, n_trials=6, statuses={4: "FAILED", 5: "RUNNING"})
    result = load_project(project)
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

Config = dict[str, Any]
START = datetime(2026, 1, 2, 3, 4, 5)
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "keras_tuner/src/engine/base_tuner.py", line 274, in _try_run_and_update_trial\n'
    "    self._run_and_update_trial(trial, *fit_args, **fit_kwargs)\n"
    "ValueError: {message}\n"
)


# ----- hyperparameter declarations, as keras_tuner's HyperParameters.get_config() writes them ---------------
def when(parent: str, *values: Any) -> list[Config]:
    """A condition list: active only when ``parent`` is one of ``values``."""
    return [{"class_name": "Parent", "config": {"name": parent, "values": list(values)}}]


def hp_float(
    name: str,
    low: float,
    high: float,
    *,
    sampling: str = "linear",
    step: float | None = None,
    default: float | None = None,
    conditions: list[Config] | None = None,
) -> Config:
    config = {"name": name, "default": low if default is None else default, "conditions": conditions or []}
    config.update(min_value=low, max_value=high, step=step, sampling=sampling)
    return {"class_name": "Float", "config": config}


def hp_int(
    name: str,
    low: int,
    high: int,
    *,
    step: int | None = None,
    sampling: str = "linear",
    default: int | None = None,
    conditions: list[Config] | None = None,
) -> Config:
    config = {"name": name, "default": default, "conditions": conditions or []}
    config.update(min_value=low, max_value=high, step=step, sampling=sampling)
    return {"class_name": "Int", "config": config}


def hp_choice(
    name: str, values: Sequence[Any], *, default: Any = None, conditions: list[Config] | None = None
) -> Config:
    config = {"name": name, "default": values[0] if default is None else default, "conditions": conditions or []}
    config.update(values=list(values), ordered=all(isinstance(v, (int, float)) for v in values))
    return {"class_name": "Choice", "config": config}


def hp_boolean(name: str, *, default: bool = False, conditions: list[Config] | None = None) -> Config:
    return {"class_name": "Boolean", "config": {"name": name, "default": default, "conditions": conditions or []}}


def hp_fixed(name: str, value: Any, *, conditions: list[Config] | None = None) -> Config:
    return {"class_name": "Fixed", "config": {"name": name, "conditions": conditions or [], "value": value}}


# learning_rate (log), optimizer (strings), momentum (only for sgd), units (int, step 8), batch_norm (Boolean),
# batch/size (Fixed, a name with a slash), filters (numeric choice)
DEFAULT_SPACE: list[Config] = [
    hp_float("learning_rate", 1e-4, 1e-1, sampling="log"),
    hp_choice("optimizer", ["adam", "sgd"]),
    hp_float("momentum", 0.0, 0.9, step=0.1, conditions=when("optimizer", "sgd")),
    hp_int("units", 8, 64, step=8),
    hp_boolean("batch_norm"),
    hp_fixed("batch/size", 32),
    hp_choice("filters", [16, 32, 64]),
]


def sample_values(space: Sequence[Config], rng: random.Random) -> dict[str, Any]:
    """One point of ``space`` (inactive conditional hyperparameters left out, as Keras Tuner does)."""
    values: dict[str, Any] = {}
    for item in space:
        config = item["config"]
        if any(values.get(c["config"]["name"]) not in c["config"]["values"] for c in config["conditions"]):
            continue
        values[config["name"]] = _sample(item["class_name"], config, rng)
    return values


def _sample(kind: str, config: Config, rng: random.Random) -> Any:
    if kind == "Fixed":
        return config["value"]
    if kind == "Boolean":
        return rng.random() < 0.5
    if kind == "Choice":
        return rng.choice(config["values"])
    low, high, step = config["min_value"], config["max_value"], config["step"]
    if kind == "Int":
        return rng.randrange(low, high + 1, step or 1)
    if step:
        return round(low + step * rng.randrange(round((high - low) / step) + 1), 10)
    if config["sampling"] == "log":
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    return rng.uniform(low, high)


# ----- trial.json and oracle.json -----------------------------------------------------------------------
def metrics_block(
    metrics: Mapping[str, float | list[float]], *, step: int = 0, objective: str = "", direction: str = ""
) -> Config:
    """KT's ``metrics`` block: one observation per metric at ``step`` (a list value = one per execution)."""
    block = {}
    for name, value in metrics.items():
        kind = direction if name == objective and direction else ("min" if "loss" in name else "max")
        observed = value if isinstance(value, list) else [value]
        block[name] = {"direction": kind, "observations": [{"value": observed, "step": step}]}
    return {"metrics": block}


def trial_state(
    trial_id: str,
    values: Mapping[str, Any],
    *,
    space: Sequence[Config] = DEFAULT_SPACE,
    status: str = "COMPLETED",
    metrics: Mapping[str, float | list[float]] | None = None,
    score: float | None = None,
    best_step: int = 0,
    message: str | None = None,
    objective: str = "val_accuracy",
    direction: str = "max",
) -> Config:
    """A trial.json object as keras-tuner 1.4.8 writes it. ``score`` defaults to the objective's mean."""
    metrics = dict(metrics or {})
    if score is None and status == "COMPLETED" and objective in metrics:
        value = metrics[objective]
        score = sum(value) / len(value) if isinstance(value, list) else value
    return {
        "trial_id": trial_id,
        "hyperparameters": {"space": list(space), "values": dict(values)},
        "metrics": metrics_block(metrics, step=best_step, objective=objective, direction=direction),
        "score": score,
        "best_step": best_step,
        "status": status,
        "message": message,
    }


def oracle_state(
    space: Sequence[Config],
    trial_ids: Sequence[str],
    *,
    ongoing: Sequence[str] = (),
    tuner: str = "random",
    extra: Mapping[str, Any] | None = None,
) -> Config:
    """An oracle.json object as keras-tuner 1.4.8 writes it, with the tuner's own keys.

    ``tuner``: "random" (also Keras Tuner's grid: same keys), "bayesian", "hyperband", or "grid_ours" (this
    app's grid oracle, which also saves its position).
    """
    finished = [t for t in trial_ids if t not in ongoing]
    state: Config = {
        "ongoing_trials": {f"tuner{i}": t for i, t in enumerate(ongoing)},
        "hyperparameters": {"space": list(space), "values": {}},
        "start_order": list(trial_ids),
        "end_order": finished,
        "run_times": {t: 1 for t in trial_ids},
        "retry_queue": [],
        "seed": 0,
        "seed_state": 10 + len(trial_ids),
        "tried_so_far": [f"{i:032x}" for i in range(len(trial_ids))],
        "id_to_hash": {t: f"{i:032x}" for i, t in enumerate(trial_ids)},
        "display": {
            "search_start": START.isoformat(),
            "trial_start": {t: (START + timedelta(seconds=10 * i)).isoformat() for i, t in enumerate(trial_ids)},
            "trial_number": {t: i + 1 for i, t in enumerate(trial_ids)},
        },
    }
    state.update(TUNER_KEYS.get(tuner, {}))
    state.update(extra or {})
    return state


TUNER_KEYS: dict[str, Config] = {
    "bayesian": {"num_initial_points": None, "alpha": 0.0001, "beta": 2.6},
    "hyperband": {
        "hyperband_iterations": 1,
        "max_epochs": 3,
        "min_epochs": 1,
        "factor": 3,
        "brackets": [],
        "current_bracket": 0,
        "current_iteration": 0,
    },
    "grid_ours": {"ordered_ids": [], "populate_next": []},
}


def write_json(path: Path, data: Any) -> Path:
    """Write like Keras Tuner does (``json.dumps``: NaN and Infinity written as such)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def write_trial(project_dir: Path, state: Config, *, folder_id: str | None = None) -> Path:
    return write_json(project_dir / f"trial_{folder_id or state['trial_id']}" / "trial.json", state)


def write_oracle(project_dir: Path, state: Config) -> Path:
    write_json(project_dir / "tuner0.json", {})
    return write_json(project_dir / "oracle.json", state)


def truncate(path: Path, *, keep: float = 0.5) -> Path:
    """Cut a file short, as when it is read while being rewritten."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


# ----- whole projects ------------------------------------------------------------------------------------
def trial_metrics(number: int, values: Mapping[str, Any]) -> dict[str, float]:
    """Deterministic metrics of the ``number``-th trial (1-based): accuracy rises with the learning rate."""
    lr = float(values.get("learning_rate", 0.01))
    accuracy = round(0.5 + 0.1 * math.log10(lr * 1e4) / 3 + 0.001 * number, 6)
    return {
        "loss": round(1.5 - accuracy, 6),
        "accuracy": round(accuracy + 0.05, 6),
        "val_loss": round(1.6 - accuracy, 6),
        "val_accuracy": accuracy,
    }


def make_project(
    tmp_path: Path,
    *,
    name: str = "project",
    n_trials: int = 6,
    objective: str = "val_accuracy",
    direction: str | None = None,
    tuner: str = "random",
    space: Sequence[Config] = DEFAULT_SPACE,
    statuses: Mapping[int, str] | None = None,
    metrics: Mapping[int, Mapping[str, float | list[float]]] | None = None,
    values: Mapping[int, Mapping[str, Any]] | None = None,
    id_width: int = 2,
    seed: int = 0,
) -> Path:
    """A Keras Tuner project ``tmp_path/name`` with ``n_trials`` trials; returns its folder.

    ``statuses`` maps 0-based trial positions to FAILED (with a traceback), INVALID or RUNNING (no metrics
    yet, listed as ongoing); others are COMPLETED with ``trial_metrics``, or with ``metrics[position]``
    (NaN and Infinity welcome; the score is the objective's value). ``values[position]`` overrides
    hyperparameter values (a value of None removes it). Trial ids are zero-padded to ``id_width`` digits.
    ``tuner`` adds that tuner's keys to oracle.json (see ``oracle_state``); "hyperband" also adds the
    ``tuner/*`` values (bracket 0, round 0, 1 epoch; every third trial a round-1 promotion of the one
    before it, 3 epochs). Values are drawn from ``space`` with ``seed``.
    """
    project_dir = tmp_path / name
    statuses = dict(statuses or {})
    direction = direction or ("min" if "loss" in objective else "max")
    rng = random.Random(seed)
    ids = [str(i).zfill(id_width) for i in range(n_trials)]
    for i, trial_id in enumerate(ids):
        point = sample_values(space, rng)
        point.update((values or {}).get(i, {}))
        point = {k: v for k, v in point.items() if v is not None}
        if tuner == "hyperband":
            point.update(hyperband_values(i, ids))
        status = statuses.get(i, "COMPLETED")
        done = status == "COMPLETED"
        state = trial_state(
            trial_id,
            point,
            space=space,
            status=status,
            metrics=(metrics or {}).get(i, trial_metrics(i + 1, point)) if done else None,
            message=TRACEBACK.format(message=f"trial {trial_id} failed") if status == "FAILED" else None,
            objective=objective,
            direction=direction,
        )
        write_trial(project_dir, state)
    ongoing = [ids[i] for i, s in statuses.items() if s == "RUNNING"]
    write_oracle(project_dir, oracle_state(space, ids, ongoing=ongoing, tuner=tuner))
    return project_dir


def hyperband_values(position: int, ids: Sequence[str]) -> dict[str, Any]:
    """Hyperband's ``tuner/*`` values for the trial at ``position``."""
    if position % 3 == 2:
        return {
            "tuner/epochs": 3,
            "tuner/initial_epoch": 1,
            "tuner/bracket": 0,
            "tuner/round": 1,
            "tuner/trial_id": ids[position - 1],
        }
    return {"tuner/epochs": 1, "tuner/initial_epoch": 0, "tuner/bracket": 0, "tuner/round": 0}


def make_old_project(tmp_path: Path, *, name: str = "old", n_trials: int = 3) -> Path:
    """A project as old keras-tuner versions wrote it: 32-character hash ids, no ``message``, no
    ``best_step``, ``hyperparameters`` without ``space``, scalar observations, no ``start_order``."""
    project_dir = tmp_path / name
    rng = random.Random(1)
    ids = []
    for i in range(n_trials):
        trial_id = f"{rng.getrandbits(128):032x}"
        ids.append(trial_id)
        values = {"units": 16 * (i + 1), "activation": ["relu", "tanh"][i % 2], "dropout": 0.1 * i}
        accuracy = 0.5 + 0.1 * i
        history = {"direction": "max", "observations": [{"value": accuracy, "step": 2}]}
        state = {
            "trial_id": trial_id,
            "hyperparameters": {"values": values},
            "metrics": {"metrics": {"val_accuracy": history}},
            "score": accuracy,
            "status": "COMPLETED",
        }
        write_trial(project_dir, state)
    write_json(project_dir / "oracle.json", {"ongoing_trials": {}, "hyperparameters": {"values": {}}, "seed": 1})
    return project_dir


# ----- this app's own files --------------------------------------------------------------------------------
def add_engine_files(
    project_dir: Path,
    *,
    tuner: str = "random",
    objective: str = "val_accuracy",
    epochs: int = 2,
    state: str = "completed",
    session: int = 1,
    metrics: bool = True,
) -> Path:
    """Write ``explorer/`` beside a ``make_project`` project, as this app's engine does: config, status,
    one metrics.jsonl line per epoch of each COMPLETED trial and trial_begin/trial_end events."""
    ours = project_dir / "explorer"
    config = {"version": 1, "tuner": tuner, "objective": objective, "max_trials": 10, "space": {}}
    write_json(ours / "config.json", config)
    direction = "min" if "loss" in objective else "max"
    status = {"state": state, "pid": None, "session": session, "objective": {"name": objective, "direction": direction}}
    write_json(ours / "status.json", status)
    for i, path in enumerate(sorted(project_dir.glob("trial_*/trial.json"))):
        trial = json.loads(path.read_text())
        begin = 1_700_000_000.0 + 100 * i
        events = [engine_event("trial_begin", trial["trial_id"], session, time=begin)]
        if trial["status"] != "RUNNING":
            end = {"status": trial["status"], "score": trial["score"], "duration_s": 5.0}
            events.append(engine_event("trial_end", trial["trial_id"], session, time=begin + 5.0, **end))
        append_lines(ours / "events.jsonl", events)
        if metrics and trial["status"] == "COMPLETED":
            append_lines(ours / "metrics.jsonl", engine_epochs(trial["trial_id"], session=session, epochs=epochs))
    return project_dir


def engine_event(kind: str, trial_id: str, session: int, *, time: float, **fields: Any) -> Config:
    return {"event": kind, "trial_id": trial_id, "session": session, "time": time, **fields}


def engine_epochs(
    trial_id: str, *, session: int = 1, epochs: int = 2, execution: int = 0, base: float = 0.5
) -> list[Config]:
    """metrics.jsonl lines of one execution: val_accuracy = base + 0.1 * epoch, loss = 2 - epoch / 10."""
    return [
        {
            "trial_id": trial_id,
            "session": session,
            "execution": execution,
            "epoch": epoch,
            "loss": 2 - epoch / 10,
            "val_accuracy": round(base + 0.1 * epoch, 6),
            "duration_s": 0.5,
            "learning_rate": 0.001,
            "time": 1_700_000_000.0 + epoch,
        }
        for epoch in range(1, epochs + 1)
    ]


def append_lines(path: Path, records: Sequence[Config]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r, sort_keys=True) + "\n" for r in records)


# ----- checking that a reader wrote nothing ----------------------------------------------------------------
def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file and folder under ``folder``: (mtime_ns, content) by relative path."""
    found = {}
    for path in sorted(folder.rglob("*")):
        content = path.read_bytes() if path.is_file() else b"<dir>"
        found[str(path.relative_to(folder))] = (path.stat().st_mtime_ns, content)
    found["."] = (folder.stat().st_mtime_ns, b"<dir>")
    return found
