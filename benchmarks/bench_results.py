"""Reading, analysing and drawing large searches: synthetic Keras Tuner projects of 1,000 and 10,000 trials.

Each project is written in Keras Tuner 1.4's own format (``oracle.json``, ``tuner0.json`` and one
``trial_*/trial.json`` per trial: a log-sampled float, choices, a conditional float, an int, a boolean;
3% failed trials and one running), as a search made elsewhere would leave it. Measured, as medians:

* cold: a new reader loads the whole project (``load_project``), the analyses run (best so far,
  effects, importance, findings) and every figure is built (records and Plotly figures, not rendered);
  the files are in the OS cache (they were just written): this is the cost of our code, not the disk's;
* refresh: a ``ProjectReader`` kept between polls re-reads the project after the running trial finished
  and the next one started (its ``trial.json``, a new one and ``oracle.json`` changed), and after
  nothing changed, as the live monitor does every few seconds.

Targets: cold < 1 s for 1,000 trials, < 5 s for 10,000; refresh with one changed trial < 50 ms.

    .venv/bin/python benchmarks/bench_results.py [--sizes 1000 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tuning.analysis.effects import effects
from tuning.analysis.findings import findings
from tuning.analysis.history import best_so_far
from tuning.analysis.importance import Importance, importance
from tuning.plots.curves import plot_curves
from tuning.plots.history import plot_history
from tuning.plots.hyperband import plot_hyperband
from tuning.plots.importance import plot_importance
from tuning.plots.interaction import plot_interaction
from tuning.plots.parallel import plot_parallel
from tuning.plots.slices import plot_slices
from tuning.results import ProjectReader, load_project
from tuning.results.model import ProjectResult

TARGETS = {1000: 1.0, 10000: 5.0}
REFRESH_TARGET_S = 0.050
_PARENT = {"class_name": "Parent", "config": {"name": "optimizer", "values": ["sgd", "rmsprop"]}}


def _hp(class_name: str, name: str, default: Any, **config: Any) -> dict[str, Any]:
    conditions = config.pop("conditions", [])
    return {"class_name": class_name, "config": {"name": name, "default": default, "conditions": conditions, **config}}


SPACE = [
    _hp("Float", "learning_rate", 1e-5, min_value=1e-5, max_value=0.1, step=None, sampling="log"),
    _hp("Choice", "optimizer", "sgd", values=["sgd", "adam", "rmsprop"], ordered=False),
    _hp("Float", "momentum", 0.0, min_value=0.0, max_value=0.99, step=None, sampling="linear", conditions=[_PARENT]),
    _hp("Int", "units", 16, min_value=16, max_value=512, step=16, sampling="linear"),
    _hp("Float", "dropout", 0.0, min_value=0.0, max_value=0.5, step=0.1, sampling="linear"),
    _hp("Choice", "activation", "relu", values=["relu", "gelu", "tanh"], ordered=False),
    _hp("Boolean", "batch_norm", False),
]


def _values(rng: np.random.Generator) -> dict[str, Any]:
    optimizer = str(rng.choice(["sgd", "adam", "rmsprop"]))
    values: dict[str, Any] = {"learning_rate": float(10 ** rng.uniform(-5, -1)), "optimizer": optimizer}
    if optimizer != "adam":
        values["momentum"] = float(rng.uniform(0, 0.99))
    values |= {"units": int(rng.integers(1, 33) * 16), "dropout": round(float(rng.integers(0, 6)) * 0.1, 1)}
    values |= {"activation": str(rng.choice(["relu", "gelu", "tanh"])), "batch_norm": bool(rng.integers(0, 2))}
    return values


def _trial(trial_id: str, values: dict[str, Any], status: str, rng: np.random.Generator) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    score = None
    if status == "COMPLETED":
        lr = values["learning_rate"]
        score = float(np.clip(0.8 - 0.08 * abs(np.log10(lr) + 3) + rng.normal(0, 0.03), 0.05, 0.99))
        observed = {"val_accuracy": score, "accuracy": score + 0.05, "val_loss": 2 - 2 * score, "loss": 1.8 - 2 * score}
        metrics = {
            name: {"direction": "min" if "loss" in name else "max", "observations": [{"value": [v], "step": 4}]}
            for name, v in observed.items()
        }
    return {
        "trial_id": trial_id,
        "hyperparameters": {"space": SPACE, "values": values},
        "metrics": {"metrics": metrics},
        "score": score,
        "best_step": 4 if score is not None else None,
        "status": status,
        "message": "Traceback (most recent call last):\nValueError: diverged" if status == "FAILED" else None,
    }


def write_oracle(folder: Path, ids: list[str], space: list[Any], *, seed: int) -> None:
    """``oracle.json`` and ``tuner0.json`` of a Keras Tuner project whose trials ``ids`` ran in order, the last
    still running."""
    oracle = {
        "ongoing_trials": {"tuner0": ids[-1]},
        "hyperparameters": {"space": space, "values": {}},
        "start_order": ids,
        "end_order": ids[:-1],
        "run_times": dict.fromkeys(ids, 1),
        "retry_queue": [],
        "seed": seed,
        "seed_state": seed + len(ids),
        "tried_so_far": [],
        "id_to_hash": {},
    }
    (folder / "oracle.json").write_text(json.dumps(oracle))
    (folder / "tuner0.json").write_text("{}")


def write_project(folder: Path, n: int, *, seed: int = 0) -> Path:
    """A Keras Tuner project of ``n`` trials, as Keras Tuner writes it."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    ids = [f"{i:05d}" for i in range(n)]
    for i, trial_id in enumerate(ids):
        status = "RUNNING" if i == n - 1 else ("FAILED" if rng.random() < 0.03 else "COMPLETED")
        (folder / f"trial_{trial_id}").mkdir()
        text = json.dumps(_trial(trial_id, _values(rng), status, rng))
        (folder / f"trial_{trial_id}" / "trial.json").write_text(text)
    write_oracle(folder, ids, SPACE, seed=seed)
    return folder


def analyse(result: ProjectResult) -> Importance:
    """What a results page computes: best so far, effects, importance (once), findings."""
    best_so_far(result)
    effects(result)
    importances = importance(result)
    findings(result, importances=importances)
    return importances


def draw_all(result: ProjectResult, importances: Importance) -> None:
    """Every figure of one project's pages, as records and Plotly figures (not rendered)."""
    plot_history(result)
    plot_parallel(result)
    plot_slices(result)
    plot_importance(result, importances=importances)
    if len(importances.names) >= 2:
        plot_interaction(result, importances.names[0], importances.names[1])
    plot_curves(result, "accuracy")
    plot_hyperband(result)


def cold(folder: Path) -> dict[str, float]:
    """Seconds to load, analyse and build every figure, each phase on its own."""
    times: dict[str, float] = {}
    start = time.perf_counter()
    result = load_project(folder)
    times["load"] = time.perf_counter() - start
    start = time.perf_counter()
    importances = analyse(result)
    times["analyse"] = time.perf_counter() - start
    start = time.perf_counter()
    draw_all(result, importances)
    times["figures"] = time.perf_counter() - start
    times["total"] = times["load"] + times["analyse"] + times["figures"]
    return times


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _next_trial(folder: Path, rng: np.random.Generator) -> tuple[str, str]:
    """The running trial finishes and the next one starts, as Keras Tuner writes it; their ids."""
    oracle_file = folder / "oracle.json"
    oracle = json.loads(oracle_file.read_text())
    done = oracle["ongoing_trials"]["tuner0"]
    trial_file = folder / f"trial_{done}" / "trial.json"
    finished = json.loads(trial_file.read_text())
    _write_json(trial_file, _trial(done, finished["hyperparameters"]["values"], "COMPLETED", rng))
    new = f"{len(oracle['start_order']):05d}"
    (folder / f"trial_{new}").mkdir()
    _write_json(folder / f"trial_{new}" / "trial.json", _trial(new, _values(rng), "RUNNING", rng))
    oracle["start_order"].append(new)
    oracle["end_order"].append(done)
    oracle["ongoing_trials"] = {"tuner0": new}
    _write_json(oracle_file, oracle)
    return done, new


def refresh(folder: Path, repeats: int) -> tuple[float, float]:
    """Median seconds of a kept reader's refresh after one trial finished and the next started (what the
    live monitor sees between two polls), and after nothing changed.
    """
    rng = np.random.default_rng(1)
    reader = ProjectReader(folder)
    reader.refresh()
    changed, unchanged = [], []
    for _ in range(repeats):
        done, new = _next_trial(folder, rng)
        start = time.perf_counter()
        result = reader.refresh()
        changed.append(time.perf_counter() - start)
        assert result.trials.at[done, "status"] == "COMPLETED" and result.trials.at[new, "status"] == "RUNNING"
        start = time.perf_counter()
        reader.refresh()
        unchanged.append(time.perf_counter() - start)
    return statistics.median(changed), statistics.median(unchanged)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    header = f"{'trials':>7} {'load':>8} {'analyse':>8} {'figures':>8} {'total':>8} {'target':>7}"
    print(header + f" {'refresh (1 trial ended)':>23} {'refresh (none)':>15}")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            folder = write_project(Path(tmp) / f"project-{n}", n)
            runs = [cold(folder) for _ in range(args.repeats)]
            median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            changed, unchanged = refresh(folder, max(args.repeats, 5))
            target = TARGETS.get(n)
            ok &= (target is None or median["total"] < target) and changed < REFRESH_TARGET_S
            print(
                f"{n:>7,} {median['load']:>7.3f}s {median['analyse']:>7.3f}s {median['figures']:>7.3f}s "
                f"{median['total']:>7.3f}s {'<' + str(target) + 's' if target else '-':>7} "
                f"{changed * 1000:>20.1f} ms {unchanged * 1000:>12.1f} ms"
            )
    print(
        "All targets met."
        if ok
        else f"Some target missed (cold: {TARGETS}; refresh < {REFRESH_TARGET_S * 1000:.0f} ms)."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
