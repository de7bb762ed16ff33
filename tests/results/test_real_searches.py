"""The reader on folders written by real keras-tuner searches and by this app's engine.

Every parsed value is compared with what Keras Tuner's own objects hold for the same search.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from searches import tiny_config
from tests.results.factories import snapshot
from tests.results.real_searches import fake_search, tensorboard_search
from tuning.engine.jobs import create_search
from tuning.engine.launch import run_search
from tuning.results import Condition, HyperparameterInfo, Objective, load_project

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One folder with a fake-training search of each tuner (Hyperband on val_loss)."""
    root = tmp_path_factory.mktemp("real runs")
    tuners = {
        name: fake_search(root, name, name, objective="val_loss" if name == "hyperband" else "val_accuracy")
        for name in ("random", "bayesian", "grid", "hyperband")
    }
    return root, tuners


def _hp_value(value: Any) -> Any:
    return None if value is pd.NA else value


def _check_against_oracle(project_dir: Path, tuner: Any) -> None:
    result = load_project(project_dir)
    trials = result.trials
    oracle_trials = tuner.oracle.trials
    assert list(trials.index) == tuner.oracle.start_order
    assert trials["number"].tolist() == list(range(1, len(oracle_trials) + 1))
    for trial_id, truth in oracle_trials.items():
        row = trials.loc[trial_id]
        assert row["status"] == truth.status
        assert (math.isnan(row["score"]) and truth.score is None) or row["score"] == truth.score
        assert row["best_step"] == truth.best_step
        values = {k: v for k, v in truth.hyperparameters.values.items() if not k.startswith("tuner/")}
        parsed = {name: _hp_value(row["hp:" + name]) for name in result.hyperparameters}
        assert parsed == {name: values.get(name) for name in result.hyperparameters}
        for name in truth.metrics.metrics:
            assert row["metric:" + name] == truth.metrics.get_best_value(name)
        if truth.status == "FAILED":
            assert row["message"] == "ValueError: sixteen units are not allowed"


@pytest.mark.parametrize("name", ["random", "bayesian", "grid", "hyperband"])
def test_every_tuner_reads_as_keras_tuner_sees_it(runs: tuple[Path, dict[str, Any]], name: str) -> None:
    root, tuners = runs
    before = snapshot(root)
    _check_against_oracle(root / name, tuners[name])
    assert snapshot(root) == before


def test_inferred_tuner_and_objective(runs: tuple[Path, dict[str, Any]]) -> None:
    root, _ = runs
    expected = {"random": "unknown", "grid": "unknown", "bayesian": "bayesian", "hyperband": "hyperband"}
    for name, tuner in expected.items():
        result = load_project(root / name)
        assert (result.tuner, result.tuner_inferred) == (tuner, True)
        objective = ("val_loss", "min") if name == "hyperband" else ("val_accuracy", "max")
        assert result.objective == Objective(*objective, inferred=True)
        assert any(n.startswith(f"objective inferred: {objective[0]}") for n in result.notices)


def test_space_of_a_real_search(runs: tuple[Path, dict[str, Any]]) -> None:
    result = load_project(runs[0] / "random")
    assert result.space == (
        HyperparameterInfo("lr", "float", min=1e-4, max=1e-1, sampling="log", default=1e-4),
        HyperparameterInfo("optimizer", "choice", values=("adam", "sgd"), default="adam"),
        HyperparameterInfo(
            "momentum", "float", min=0.0, max=0.9, step=0.1, default=0.0, conditions=(Condition("optimizer", ("sgd",)),)
        ),
        HyperparameterInfo("batch_norm", "boolean", values=(False, True), default=True),
        HyperparameterInfo("batch/size", "fixed", values=(32,), default=32),
        HyperparameterInfo("units", "int", min=8, max=64, step=8, default=8),
    )
    dtypes = result.trials.dtypes
    assert [str(dtypes["hp:" + n]) for n in result.hyperparameters] == [
        "Float64", "string", "Float64", "boolean", "Int64", "Int64"
    ]  # fmt: skip
    adam = result.trials["hp:optimizer"] == "adam"
    assert result.trials.loc[adam, "hp:momentum"].isna().all()


def test_hyperband_columns(runs: tuple[Path, dict[str, Any]]) -> None:
    root, tuners = runs
    result = load_project(root / "hyperband")
    for trial_id, truth in tuners["hyperband"].oracle.trials.items():
        values = truth.hyperparameters.values
        row = result.trials.loc[trial_id]
        assert row["hb:epochs"] == values["tuner/epochs"]
        assert row["hb:bracket"] == values["tuner/bracket"]
        assert row["hb:round"] == values["tuner/round"]
        assert _hp_value(row["hb:parent"]) == values.get("tuner/trial_id")
    assert "hb:epochs" not in load_project(root / "random").trials.columns


def test_best_epoch_curves_when_nothing_else(runs: tuple[Path, dict[str, Any]]) -> None:
    result = load_project(runs[0] / "random")
    assert result.curves_source == "best_epoch"
    assert "only each trial's best epoch" in result.curves_note
    completed = result.completed.index
    assert set(result.curves["trial_id"]) == set(completed)
    assert set(result.curves["epoch"]) == {1}


def test_tensorboard_logs_give_full_curves(tmp_path: Path) -> None:
    search = tensorboard_search(tmp_path, "tb", epochs=2)
    before = snapshot(tmp_path)
    result = load_project(tmp_path / "tb")
    assert snapshot(tmp_path) == before
    assert result.curves_source == "tensorboard"
    assert str(tmp_path / "logs") in result.curves_note
    curves = result.curves
    assert set(curves["metric"]) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    for trial_id, truth in search.oracle.trials.items():
        val_loss = curves[(curves["trial_id"] == trial_id) & (curves["metric"] == "val_loss")]
        assert val_loss["epoch"].tolist() == [1, 2] and val_loss["execution"].tolist() == [0, 0]
        # Keras Tuner's score is the best epoch's val_loss, which TensorBoard logged too.
        assert truth.score == pytest.approx(val_loss["value"].min(), rel=1e-6)
        assert result.trials.loc[trial_id, "best_step"] == val_loss["value"].argmin()


def test_a_search_made_by_this_app(tmp_path: Path) -> None:
    project_dir = create_search(tiny_config(max_trials=2, objective="val_loss"), tmp_path / "with space", "engine run")
    run_search(project_dir, resume=False)
    before = snapshot(project_dir)
    result = load_project(project_dir)
    assert snapshot(project_dir) == before
    assert result.made_by_us and result.config is not None and result.config["objective"] == "val_loss"
    assert result.status is not None and result.status["state"] == "completed"
    assert (result.tuner, result.tuner_inferred) == ("random", False)
    assert result.objective == Objective("val_loss", "min", inferred=False)
    assert not any("inferred" in n for n in result.notices)
    assert result.curves_source == "engine"
    curves = result.curves
    assert set(curves["trial_id"]) == set(result.trials.index)
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"} <= set(curves["metric"])
    for trial_id, row in result.trials.iterrows():
        assert row["status"] == "COMPLETED"
        assert row["ended_at"] - row["started_at"] == pytest.approx(row["duration_s"], abs=0.05)
        val_loss = curves[(curves["trial_id"] == trial_id) & (curves["metric"] == "val_loss")]["value"]
        assert row["score"] == pytest.approx(val_loss.min(), rel=1e-6)
