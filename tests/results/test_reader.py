"""``load_project`` on projects written by the factories: every parsed value, dtype, NA and notice."""

from __future__ import annotations

import gc
import math
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.results.factories import (
    DEFAULT_SPACE,
    START,
    TRACEBACK,
    add_engine_files,
    append_lines,
    engine_event,
    hp_float,
    make_old_project,
    make_project,
    oracle_state,
    snapshot,
    trial_state,
    truncate,
    write_json,
    write_oracle,
    write_trial,
)
from tuning.errors import SearchNotFoundError
from tuning.results import HyperparameterInfo, Objective, load_project
from tuning.results.curves import BEST_EPOCH_NOTE

NAN = math.nan


def _handmade(tmp_path: Path) -> Path:
    """Five trials: two executions, NaN and Infinity, FAILED, RUNNING, INVALID; a folder name with spaces."""
    project_dir = tmp_path / "my project"
    common = {"batch_norm": True, "batch/size": 32, "filters": 16, "units": 32}
    states = [
        trial_state(
            "0",
            {"learning_rate": 0.001, "optimizer": "sgd", "momentum": 0.9, **common},
            metrics={"loss": 0.5, "val_accuracy": [0.7, 0.8], "val_loss": NAN},
        ),
        trial_state(
            "1",
            {"learning_rate": 0.01, "optimizer": "adam", **common, "batch_norm": False},
            status="FAILED",
            message=TRACEBACK.format(message="out of memory"),
        ),
        trial_state("2", {"learning_rate": 0.05, "optimizer": "adam", **common}, status="RUNNING"),
        trial_state(
            "3",
            {"learning_rate": 0.002, "optimizer": "adam", **common, "units": 8},
            metrics={"loss": NAN, "val_accuracy": 0.6, "val_loss": math.inf},
            best_step=4,
        ),
        trial_state("4", {"learning_rate": 0.1, "optimizer": "sgd", "momentum": 0.0, **common}, status="INVALID"),
    ]
    for state in states:
        write_trial(project_dir, state)
    write_oracle(project_dir, oracle_state(DEFAULT_SPACE, [s["trial_id"] for s in states], ongoing=["2"]))
    return project_dir


def test_trials_table_has_every_value_and_dtype(tmp_path: Path) -> None:
    project_dir = _handmade(tmp_path)
    before = snapshot(tmp_path)
    result = load_project(project_dir)
    assert snapshot(tmp_path) == before
    starts = [(START + timedelta(seconds=10 * i)).timestamp() for i in range(5)]
    index = pd.Index(["0", "1", "2", "3", "4"], dtype=object, name="trial_id")
    expected = pd.DataFrame(
        {
            "number": pd.array([1, 2, 3, 4, 5], dtype="Int64"),
            "status": pd.array(["COMPLETED", "FAILED", "RUNNING", "COMPLETED", "INVALID"], dtype="str"),
            "score": [0.75, NAN, NAN, 0.6, NAN],
            "best_step": pd.array([0, 0, 0, 4, 0], dtype="Int64"),
            "duration_s": [NAN] * 5,
            "started_at": starts,
            "ended_at": [NAN] * 5,
            "message": pd.Series([None, "ValueError: out of memory", None, None, None], dtype=object, index=index),
            "metric:loss": [0.5, NAN, NAN, NAN, NAN],
            "metric:val_accuracy": [0.75, NAN, NAN, 0.6, NAN],
            "metric:val_loss": [NAN, NAN, NAN, math.inf, NAN],
            "hp:learning_rate": pd.array([0.001, 0.01, 0.05, 0.002, 0.1], dtype="Float64"),
            "hp:optimizer": pd.array(["sgd", "adam", "adam", "adam", "sgd"], dtype="string"),
            "hp:momentum": pd.array([0.9, None, None, None, 0.0], dtype="Float64"),
            "hp:units": pd.array([32, 32, 32, 8, 32], dtype="Int64"),
            "hp:batch_norm": pd.array([True, False, True, True, True], dtype="boolean"),
            "hp:batch/size": pd.array([32] * 5, dtype="Int64"),
            "hp:filters": pd.array([16] * 5, dtype="Int64"),
        },
        index=index,
    )
    pd.testing.assert_frame_equal(result.trials, expected)
    assert result.best_trial_id == "0"
    assert result.objective == Objective("val_accuracy", "max", inferred=True)
    assert result.notices == [
        "tuner unknown: a random search and Keras Tuner's grid search save the same files",
        "objective inferred: val_accuracy (max), equal to the score in 2 of 2 completed trials",
    ]


def test_space_from_the_oracle(tmp_path: Path) -> None:
    result = load_project(make_project(tmp_path))
    names = ["learning_rate", "optimizer", "momentum", "units", "batch_norm", "batch/size", "filters"]
    assert result.hyperparameters == names
    assert result.hp("learning_rate").is_log and result.hp("momentum").is_conditional
    assert result.hp("batch/size") == HyperparameterInfo("batch/size", "fixed", values=(32,), default=32)
    assert result.hp("batch_norm").kind == "boolean" and result.hp("filters").is_numeric
    assert result.name == "project" and result.project_dir == tmp_path / "project"


def test_best_epoch_curves_and_their_note(tmp_path: Path) -> None:
    result = load_project(_handmade(tmp_path))
    assert result.curves_source == "best_epoch" and result.curves_note == BEST_EPOCH_NOTE
    curves = result.curves
    assert list(curves.columns) == ["trial_id", "execution", "epoch", "metric", "value", "source"]
    trial_3 = curves[curves["trial_id"] == "3"].set_index("metric")
    assert trial_3["epoch"].tolist() == [5, 5, 5]
    assert trial_3.loc["val_loss", "value"] == math.inf and math.isnan(trial_3.loc["loss", "value"])
    assert set(curves["source"]) == {"best_epoch"}


def test_a_truncated_trial_file_is_skipped_with_a_notice(tmp_path: Path) -> None:
    project_dir = make_project(tmp_path, n_trials=4)
    truncate(project_dir / "trial_02" / "trial.json")
    result = load_project(project_dir)
    assert list(result.trials.index) == ["00", "01", "03"]
    assert result.trials["number"].tolist() == [1, 2, 3]
    assert any(n.startswith("skipped trial_02/trial.json: invalid or truncated JSON") for n in result.notices)


def test_a_truncated_oracle_is_reported_and_trials_still_read(tmp_path: Path) -> None:
    project_dir = make_project(tmp_path, n_trials=3)
    truncate(project_dir / "oracle.json", keep=0.3)
    result = load_project(project_dir)
    assert list(result.trials.index) == ["00", "01", "02"]
    assert any(n.startswith("could not read oracle.json: invalid or truncated JSON") for n in result.notices)
    assert result.tuner == "unknown" and "tuner unknown: oracle.json could not be read" in result.notices
    # The space comes from the trials' own copies of it.
    assert result.hyperparameters[:2] == ["learning_rate", "optimizer"]


def test_a_file_rewritten_while_read_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project_dir = make_project(tmp_path, n_trials=2)
    path = project_dir / "trial_01" / "trial.json"
    complete = path.read_bytes()
    truncate(path)
    sleeps: list[float] = []

    def finish_writing(seconds: float) -> None:
        sleeps.append(seconds)
        path.write_bytes(complete)

    monkeypatch.setattr("tuning.results.files.time.sleep", finish_writing)
    result = load_project(project_dir)
    assert sleeps == [0.02]
    assert list(result.trials.index) == ["00", "01"] and not any("skipped" in n for n in result.notices)


def test_an_empty_project(tmp_path: Path) -> None:
    project_dir = tmp_path / "empty"
    write_oracle(project_dir, oracle_state(DEFAULT_SPACE, []))
    result = load_project(project_dir)
    assert result.trials.empty and "no trials yet" in result.notices
    assert list(result.trials.columns) == [
        "number", "status", "score", "best_step", "duration_s", "started_at", "ended_at", "message",
        "hp:learning_rate", "hp:optimizer", "hp:momentum", "hp:units", "hp:batch_norm", "hp:batch/size", "hp:filters",
    ]  # fmt: skip
    assert str(result.trials["hp:optimizer"].dtype) == "string" and str(result.trials["number"].dtype) == "Int64"
    assert result.curves.empty and result.curves_source == "none"
    assert result.best_trial_id is None


def test_not_a_project(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(SearchNotFoundError, match=r"No Keras Tuner project in .*folder"):
        load_project(tmp_path / "folder")
    with pytest.raises(SearchNotFoundError, match="missing does not exist"):
        load_project(tmp_path / "missing")


def test_an_old_keras_tuner_project(tmp_path: Path) -> None:
    result = load_project(make_old_project(tmp_path))
    trials = result.trials
    assert all(len(i) == 32 for i in trials.index) and list(trials.index) == sorted(trials.index)
    assert trials["best_step"].isna().all() and trials["message"].isna().all()
    assert sorted(trials["metric:val_accuracy"]) == pytest.approx([0.5, 0.6, 0.7])
    assert result.space == (
        HyperparameterInfo("activation", "choice", values=("relu", "tanh")),
        HyperparameterInfo("dropout", "float", min=0.0, max=0.2),
        HyperparameterInfo("units", "int", min=16, max=48, step=1),
    )
    assert "search space not saved for activation, dropout, units: described from the trials' values" in result.notices
    assert set(result.curves["epoch"]) == {3}  # old versions recorded the epoch as the step


def test_keys_missing_or_odd(tmp_path: Path) -> None:
    project_dir = tmp_path / "odd"
    write_json(project_dir / "oracle.json", {})
    write_trial(project_dir, {"trial_id": "7", "status": "completed", "score": "NaN?"})
    write_trial(project_dir, {"hyperparameters": [], "metrics": {"metrics": {"m": "x"}}}, folder_id="12")
    write_json(project_dir / "trial_3" / "trial.json", [1, 2])
    result = load_project(project_dir)
    assert list(result.trials.index) == ["7", "12"]
    assert result.trials["status"].tolist() == ["COMPLETED", "UNKNOWN"]
    assert result.trials["score"].isna().all()
    assert "skipped trial_3/trial.json: expected a JSON object, found list" in result.notices


def test_hyperparameters_whose_values_do_not_fit_their_type(tmp_path: Path) -> None:
    space = [hp_float("rate", 0.0, 1.0)]
    project_dir = tmp_path / "misfit"
    write_trial(project_dir, trial_state("0", {"rate": 0.5}, space=space, metrics={"val_accuracy": 0.5}))
    write_trial(project_dir, trial_state("1", {"rate": "high"}, space=space, metrics={"val_accuracy": 0.6}))
    write_oracle(project_dir, oracle_state(space, ["0", "1"]))
    result = load_project(project_dir)
    assert result.trials["hp:rate"].tolist() == [0.5, "high"]
    assert "hp:rate: some values do not fit the declared type; shown as found" in result.notices


def test_hyperband_project_columns(tmp_path: Path) -> None:
    result = load_project(make_project(tmp_path, n_trials=4, tuner="hyperband", objective="val_loss"))
    assert (result.tuner, result.tuner_inferred) == ("hyperband", True)
    assert result.objective == Objective("val_loss", "min", inferred=True)
    hb = result.trials[["hb:bracket", "hb:round", "hb:parent", "hb:epochs", "hb:initial_epoch"]]
    assert hb.dtypes.astype(str).tolist() == ["Int64", "Int64", "string", "Int64", "Int64"]
    assert hb["hb:parent"].tolist() == [pd.NA, pd.NA, "01", pd.NA]
    assert hb["hb:epochs"].tolist() == [1, 1, 3, 1]
    assert not any(c.startswith("hp:tuner/") for c in result.trials.columns)


def test_a_project_of_this_app(tmp_path: Path) -> None:
    project_dir = add_engine_files(make_project(tmp_path, n_trials=3, statuses={2: "FAILED"}), objective="val_loss")
    result = load_project(project_dir)
    assert result.made_by_us and result.config["tuner"] == "random"
    assert (result.tuner, result.tuner_inferred) == ("random", False)
    assert result.objective == Objective("val_loss", "min")
    assert result.status["state"] == "completed"
    trials = result.trials
    assert trials["started_at"].tolist() == [1_700_000_000.0, 1_700_000_100.0, 1_700_000_200.0]
    assert trials["duration_s"].tolist() == [5.0, 5.0, 5.0]
    assert (trials["ended_at"] - trials["started_at"]).tolist() == [5.0, 5.0, 5.0]
    assert result.curves_source == "engine" and result.curves_note == ""
    assert sorted(set(result.curves["trial_id"])) == ["00", "01"]


def test_a_dead_runner_reads_interrupted(tmp_path: Path) -> None:
    project_dir = add_engine_files(make_project(tmp_path, n_trials=2), state="running")
    assert load_project(project_dir).status["state"] == "interrupted"


def test_times_come_from_the_latest_session(tmp_path: Path) -> None:
    project_dir = add_engine_files(make_project(tmp_path, n_trials=1))
    events = [
        engine_event("trial_begin", "00", 2, time=2_000.0),
        engine_event("trial_end", "00", 2, time=2_030.0, duration_s=30.0),
        engine_event("trial_begin", "00", 1, time=9_000.0),  # an older session, logged late: ignored
    ]
    append_lines(project_dir / "explorer" / "events.jsonl", events)
    row = load_project(project_dir).trials.loc["00"]
    assert (row["started_at"], row["ended_at"], row["duration_s"]) == (2_000.0, 2_030.0, 30.0)


def test_scores_rank_by_the_objective_direction(tmp_path: Path) -> None:
    result = load_project(make_project(tmp_path, n_trials=5, objective="val_loss"))
    scores = result.completed["score"]
    assert result.best_trial_id == scores.idxmin()
    assert np.allclose(scores, result.completed["metric:val_loss"])


def test_nan_and_infinite_metrics(tmp_path: Path) -> None:
    nan_trial = {"val_accuracy": NAN, "val_loss": math.inf, "loss": 1.0}
    result = load_project(make_project(tmp_path, n_trials=3, metrics={1: nan_trial}))
    row = result.trials.loc["01"]
    assert row["status"] == "COMPLETED" and math.isnan(row["score"]) and row["metric:val_loss"] == math.inf
    assert list(result.completed.index) == ["00", "02"]
    assert result.objective == Objective("val_accuracy", "max", inferred=True)


def test_reading_does_not_import_tensorflow(tmp_path: Path) -> None:
    project_dir = add_engine_files(make_project(tmp_path, n_trials=2))
    code = (
        "import sys; from tuning.results import load_project; "
        f"assert len(load_project({str(project_dir)!r}).trials) == 2; "
        f"assert load_project({str(_handmade(tmp_path))!r}).curves_source == 'best_epoch'; "
        "print('keras_tuner' in sys.modules, 'tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_the_garbage_collector_is_restored(tmp_path: Path) -> None:
    project_dir = make_project(tmp_path, n_trials=2)
    assert gc.isenabled()
    load_project(project_dir)
    assert gc.isenabled()
    gc.disable()
    try:
        load_project(project_dir)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(SearchNotFoundError):
        load_project(tmp_path / "nothing")
    assert gc.isenabled()


def test_a_hostile_deeply_nested_trial_file_becomes_a_notice(tmp_path: Path) -> None:
    """json recurses once per level: 100,000 nested arrays raised RecursionError through every reader."""
    project = make_project(tmp_path, n_trials=3)
    (project / "trial_01" / "trial.json").write_text("[" * 100_000 + "]" * 100_000)
    result = load_project(project)
    assert list(result.trials.index) == ["00", "02"]
    assert any("trial_01/trial.json" in n and "nested too deeply" in n for n in result.notices)
