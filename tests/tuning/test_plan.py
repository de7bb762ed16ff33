"""Search plans, checked against what Keras Tuner really does (its tuners run, the training is faked)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import keras_tuner as kt
import pytest

from tuning.space.config import SearchConfig
from tuning.space.plan import BracketPlan, RoundPlan, SearchPlan, hyperband_brackets, plan
from tuning.space.searchspace import Choice, Fixed, FloatRange, IntRange, SearchSpace

SMALL = SearchSpace().with_values(
    conv_blocks=Fixed(2), filters=Fixed(32), dropout=Fixed(0.2), optimizer=Fixed("adam"), learning_rate=Fixed(1e-3)
)
CONTINUOUS = SMALL.with_values(learning_rate=FloatRange(1e-4, 1e-2, sampling="log"))


def run_fake_search(tuner_class: type, space: SearchSpace, tmp_path: Path, **options: Any) -> list[dict[str, Any]]:
    """Run a real Keras Tuner search whose trials report a random score at once; the trials' values."""
    scores = random.Random(0)

    class ScoreOnly(tuner_class):  # type: ignore[misc, valid-type]
        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
            return {"val_accuracy": scores.random()}

    include_epochs = tuner_class is not kt.Hyperband
    tuner = ScoreOnly(
        objective=kt.Objective("val_accuracy", "max"),
        hyperparameters=space.hyperparameters(include_epochs=include_epochs),
        directory=str(tmp_path),
        project_name="search",
        seed=1,
        **options,
    )
    tuner.search(verbose=0)
    return [trial.hyperparameters.values for trial in tuner.oracle.trials.values()]


# --- Hyperband ---------------------------------------------------------------------------------


def test_hyperband_brackets_for_9_epochs_factor_3() -> None:
    assert hyperband_brackets(9, 3, 1) == (
        BracketPlan(0, 2, (RoundPlan(0, 9, 1, 1), RoundPlan(1, 3, 3, 2), RoundPlan(2, 1, 9, 6))),
        BracketPlan(0, 1, (RoundPlan(0, 5, 3, 3), RoundPlan(1, 2, 9, 6))),
        BracketPlan(0, 0, (RoundPlan(0, 3, 9, 9),)),
    )
    search = plan(SearchConfig(tuner="hyperband", hyperband_max_epochs=9, hyperband_factor=3))
    assert (search.trials, search.epochs_total, search.epochs_expected) == (23, 9 + 6 + 6 + 15 + 12 + 27, 75.0)
    assert search.notes[0] == "Hyperband runs 23 trials in 3 brackets; max_trials is not used."


@pytest.mark.parametrize(
    ("max_epochs", "factor", "iterations"), [(3, 3, 1), (9, 3, 1), (10, 3, 2), (27, 3, 1), (8, 2, 1), (2, 3, 1)]
)
def test_hyperband_plan_matches_keras_tuner(max_epochs: int, factor: int, iterations: int, tmp_path: Path) -> None:
    config = SearchConfig(
        space=CONTINUOUS,
        tuner="hyperband",
        hyperband_max_epochs=max_epochs,
        hyperband_factor=factor,
        hyperband_iterations=iterations,
    )
    search = plan(config)
    trials = run_fake_search(
        kt.Hyperband, CONTINUOUS, tmp_path, max_epochs=max_epochs, factor=factor, hyperband_iterations=iterations
    )
    assert search.trials == len(trials)
    assert search.epochs_total == sum(t["tuner/epochs"] - t["tuner/initial_epoch"] for t in trials)
    planned = sorted((r.epochs, r.new_epochs) for b in search.brackets for r in b.rounds for _ in range(r.trials))
    actual = sorted((t["tuner/epochs"], t["tuner/epochs"] - t["tuner/initial_epoch"]) for t in trials)
    assert planned == actual


def test_hyperband_multiplies_epochs_by_executions() -> None:
    one = plan(SearchConfig(tuner="hyperband"))
    two = plan(SearchConfig(tuner="hyperband", executions_per_trial=2))
    assert (two.trials, two.epochs_total) == (one.trials, 2 * one.epochs_total)


def test_hyperband_notes_a_space_too_small_for_its_brackets() -> None:
    search = plan(SearchConfig(space=SMALL.with_values(filters=Choice((16, 32))), tuner="hyperband"))
    assert search.configurations == 2
    assert "Hyperband draws 17 new configurations but the space has only 2" in search.notes[1]


# --- random, Bayesian, grid --------------------------------------------------------------------


def test_random_plan_multiplies_trials_executions_and_epochs() -> None:
    search = plan(SearchConfig(max_trials=7, executions_per_trial=2, space=CONTINUOUS.with_values(epochs=Fixed(4))))
    assert search == SearchPlan(
        trials=7,
        epochs_total=56,
        epochs_expected=56.0,
        configurations=None,
        notes=("Each trial trains 2 models (executions_per_trial) and reports their mean.",),
    )


def test_an_epochs_range_gives_the_maximum_and_the_mean() -> None:
    space = CONTINUOUS.with_values(epochs=Choice((2, 3, 7)))
    search = plan(SearchConfig(max_trials=10, space=space, early_stopping_patience=2))
    assert (search.epochs_total, search.epochs_expected) == (70, 40.0)
    assert search.notes == ("Early stopping (patience 2) may end trials sooner; epoch counts are upper bounds.",)


def test_random_plan_is_capped_by_a_small_space() -> None:
    space = SMALL.with_values(optimizer=Choice(("adam", "sgd")), momentum=Choice((0.5, 0.9)))
    search = plan(SearchConfig(space=space, max_trials=10))
    assert (search.trials, search.configurations, search.epochs_total) == (3, 3, 9)
    assert search.notes[0].startswith("The space has only 3 distinct configurations, so at most 3 trials will run")


def test_random_plan_matches_keras_tuner_on_a_small_space(tmp_path: Path) -> None:
    space = SMALL.with_values(optimizer=Choice(("adam", "sgd")), momentum=Choice((0.5, 0.9)))
    trials = run_fake_search(kt.RandomSearch, space, tmp_path, max_trials=10)
    assert len(trials) == plan(SearchConfig(space=space, max_trials=10)).trials == 3
    assert sorted((t["optimizer"], t.get("momentum")) for t in trials) == [("adam", None), ("sgd", 0.5), ("sgd", 0.9)]


def test_bayesian_plan_is_capped_only_during_its_random_start(tmp_path: Path) -> None:
    small = SMALL.with_values(filters=Choice((16, 32, 64)))
    assert plan(SearchConfig(space=small, tuner="bayesian", max_trials=10)).trials == 3
    assert len(run_fake_search(kt.BayesianOptimization, small, tmp_path, max_trials=10)) == 3
    big = SMALL.with_values(filters=Choice((16, 32, 64)), conv_blocks=IntRange(1, 4), batch_size=Choice((16, 32, 64)))
    assert big.distinct_count() == 36  # fewer than the 60 random trials Bayesian optimisation starts with
    assert plan(SearchConfig(space=big, tuner="bayesian", max_trials=100)).trials == 36
    bigger = big.with_values(kernel_size=Choice((3, 5)))
    assert plan(SearchConfig(space=bigger, tuner="bayesian", max_trials=100)).trials == 100


def test_grid_plan_is_the_grid_capped_by_max_trials() -> None:
    space = SMALL.with_values(conv_blocks=IntRange(1, 3), filters=Choice((16, 32)))
    assert plan(SearchConfig(space=space, tuner="grid", max_trials=4)).trials == 4
    search = plan(SearchConfig(space=space, tuner="grid", max_trials=50))
    assert (search.trials, search.configurations, search.notes) == (6, 6, ("Grid search runs all 6 configurations.",))


def test_grid_count_matches_keras_tuner_with_conditions_and_a_stepless_float(tmp_path: Path) -> None:
    space = SMALL.with_values(
        optimizer=Choice(("adam", "sgd")),
        momentum=FloatRange(0.0, 0.9, step=0.3),
        dropout=FloatRange(0.0, 0.5),
        dense_layers=IntRange(0, 2),
        dense_units=Choice((32, 64)),
    )
    expected = (1 + 4) * 11 * (1 + 2 * 2)
    assert space.count() == expected
    trials = run_fake_search(kt.GridSearch, space, tmp_path, max_trials=None)
    assert len(trials) == expected == plan(SearchConfig(space=space, tuner="grid", max_trials=1000)).trials
    assert len({json.dumps(t, sort_keys=True) for t in trials}) == expected
    assert sorted({round(t["momentum"], 6) for t in trials if "momentum" in t}) == [0.0, 0.3, 0.6, 0.9]
    assert all("momentum" not in t for t in trials if t["optimizer"] == "adam")


def test_plan_to_dict_is_json_ready() -> None:
    data = plan(SearchConfig(tuner="hyperband")).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["brackets"][0] == {
        "iteration": 0,
        "bracket": 2,
        "trials": 13,
        "epochs": 9 + 6 + 6,
        "rounds": [
            {"round": 0, "trials": 9, "epochs": 1, "new_epochs": 1},
            {"round": 1, "trials": 3, "epochs": 3, "new_epochs": 2},
            {"round": 2, "trials": 1, "epochs": 9, "new_epochs": 6},
        ],
    }
