"""The search configuration: validation, warnings, JSON, overrides and differences."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from tuning.data import DataSpec
from tuning.errors import ConfigError
from tuning.space.config import OBJECTIVES, TUNERS, SearchConfig
from tuning.space.searchspace import MAX_GRID, Choice, Fixed, FloatRange, IntRange, SearchSpace

SMALL = SearchSpace().with_values(
    conv_blocks=Fixed(2), filters=Fixed(32), dropout=Fixed(0.2), optimizer=Fixed("adam"), learning_rate=Fixed(1e-3)
)
# conv_blocks 4 x filters 5 x dropout 9 x learning_rate 11 x batch_size 4 x optimizer 2 = 15,840
HUGE_GRID = SearchSpace().with_values(
    conv_blocks=IntRange(1, 4),
    filters=Choice((8, 16, 32, 64, 128)),
    dropout=FloatRange(0.0, 0.8, step=0.1),
    batch_size=Choice((16, 32, 64, 128)),
)


def config_error(**fields: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        dataclasses.replace(SearchConfig(), **fields).validate()
    return caught.value


def test_defaults() -> None:
    config = SearchConfig()
    config.validate()
    assert (config.tuner, config.objective, config.max_trials, config.seed) == ("random", "val_accuracy", 10, 0)
    assert config.space == SearchSpace() and config.data == DataSpec()
    assert config.errors() == [] and config.warnings() == []
    assert TUNERS == ("random", "bayesian", "hyperband", "grid")
    assert dict(OBJECTIVES) == {"val_accuracy": "max", "val_loss": "min"}
    assert config.direction == "max" and SearchConfig(objective="val_loss").direction == "min"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"tuner": "foo"}, "tuner", "must be one of random, bayesian, hyperband, grid, got 'foo'"),
        ({"objective": "accuracy"}, "objective", "must be one of val_accuracy, val_loss, got 'accuracy'"),
        ({"keep_checkpoints": "some"}, "keep_checkpoints", "must be one of best, all, got 'some'"),
        ({"max_trials": 0}, "max_trials", "must be at least 1, got 0"),
        ({"max_trials": "3"}, "max_trials", "must be a whole number, got '3' (str)"),
        ({"max_trials": True}, "max_trials", "must be a whole number, got True (bool)"),
        ({"max_trials": 2.0}, "max_trials", "must be a whole number, got 2.0 (float)"),
        ({"executions_per_trial": 0}, "executions_per_trial", "must be at least 1, got 0"),
        ({"hyperband_max_epochs": 0}, "hyperband_max_epochs", "must be at least 1, got 0"),
        ({"hyperband_max_epochs": 101}, "hyperband_max_epochs", "must be at most 100, got 101"),
        ({"hyperband_factor": 1}, "hyperband_factor", "must be at least 2, got 1"),
        ({"hyperband_iterations": 0}, "hyperband_iterations", "must be at least 1, got 0"),
        ({"early_stopping_patience": -1}, "early_stopping_patience", "must be at least 0, got -1"),
        ({"early_stopping_patience": 1.5}, "early_stopping_patience", "must be a whole number, got 1.5 (float)"),
        ({"seed": -1}, "seed", "must be at least 0, got -1"),
        ({"seed": 2**32}, "seed", f"must be at most {2**32 - 1}, got {2**32}"),
        ({"max_consecutive_failures": 0}, "max_consecutive_failures", "must be at least 1, got 0"),
        ({"space": SearchSpace(dropout=FloatRange(0.5, 0.1))}, "space.dropout", "min (0.5) is above max (0.1)"),
    ],
)
def test_validation_names_the_setting(fields: dict[str, Any], field: str, message: str) -> None:
    error = config_error(**fields)
    assert (error.field, error.message) == (field, message)


def test_data_errors_come_from_the_data_spec() -> None:
    error = config_error(data=DataSpec(name="mnist"))
    assert error.field == "data.name"


def test_errors_lists_every_problem() -> None:
    config = SearchConfig(tuner="foo", max_trials=0, space=SearchSpace(epochs=Fixed(0)), data=DataSpec(name="mnist"))
    assert [e.field for e in config.errors()] == ["tuner", "max_trials", "space.epochs", "data.name"]


def test_early_stopping_off() -> None:
    SearchConfig(early_stopping_patience=None).validate()
    SearchConfig(early_stopping_patience=0).validate()


def test_grid_size_limit() -> None:
    assert HUGE_GRID.count() == 15_840 > MAX_GRID
    error = config_error(space=HUGE_GRID, tuner="grid")
    assert str(error) == (
        "space: the grid has 15,840 configurations; the limit is 10,000. Fix more hyperparameters or add steps."
    )
    SearchConfig(space=HUGE_GRID, tuner="random").validate()
    SearchConfig(space=HUGE_GRID.with_values(batch_size=Fixed(32)), tuner="grid").validate()


# --- warnings ----------------------------------------------------------------------------------


def test_hyperband_says_the_epochs_of_the_space_are_not_used() -> None:
    config = SearchConfig(tuner="hyperband", space=SearchSpace(epochs=IntRange(2, 5)))
    assert config.warnings() == [
        "Hyperband decides the number of epochs of each trial (1 to 9 here); the epochs setting in the search "
        "space (2 to 5) is not used."
    ]


def test_hyperband_with_a_single_bracket() -> None:
    config = SearchConfig(tuner="hyperband", hyperband_max_epochs=2, hyperband_factor=3)
    assert config.warnings()[1] == (
        "hyperband_max_epochs (2) is below hyperband_factor (3), so Hyperband has a single bracket: "
        "a random search of 2 trials."
    )


def test_grid_warnings() -> None:
    small = SMALL.with_values(conv_blocks=IntRange(1, 3))
    assert SearchConfig(space=small, tuner="grid", max_trials=20).warnings() == [
        "max_trials (20) is more than the grid's 3 configurations."
    ]
    assert SearchConfig(space=small, tuner="grid", max_trials=3).warnings() == []
    warnings = SearchConfig(tuner="grid").warnings()
    assert warnings[0].startswith("max_trials (10) covers only part of the grid's 1,188 configurations")
    assert warnings[1] == (
        "learning_rate has no step, so grid search tries 11 of its values: its minimum and 10 evenly spaced ones."
    )


def test_random_search_on_a_space_smaller_than_max_trials() -> None:
    config = SearchConfig(space=SMALL.with_values(filters=Choice((16, 32))), max_trials=10)
    assert config.warnings() == [
        "The space has only 2 distinct configurations, fewer than max_trials (10); the search stops when it "
        "cannot find new ones."
    ]


def test_bayesian_with_a_budget_inside_its_random_start() -> None:
    assert SearchConfig(tuner="bayesian", max_trials=10).warnings() == [
        "Bayesian optimisation picks its first 60 trials at random (3 per hyperparameter), so with max_trials 10 "
        "it works as a random search."
    ]
    assert SearchConfig(tuner="bayesian", max_trials=100).warnings() == []


def test_early_stopping_that_cannot_stop_anything() -> None:
    assert SearchConfig(early_stopping_patience=3).warnings() == [
        "early_stopping_patience (3) is not below the longest training (3 epochs), so early stopping never ends "
        "a trial."
    ]
    assert SearchConfig(early_stopping_patience=2).warnings() == []
    assert (
        SearchConfig(early_stopping_patience=1, space=SearchSpace(epochs=Fixed(1)))
        .warnings()[0]
        .startswith("early_stopping_patience (1) is not below the longest training (1 epochs)")
    )
    assert SearchConfig(tuner="hyperband", early_stopping_patience=3).warnings()[1:] == []


def test_a_conditional_hyperparameter_that_is_never_used() -> None:
    space = SearchSpace(optimizer=Fixed("adam"), momentum=FloatRange(0.5, 0.9))
    assert SearchConfig(space=space).warnings() == [
        "momentum varies but is never used: it applies only when optimizer is sgd or rmsprop, and optimizer is adam."
    ]


def test_val_loss_across_loss_functions() -> None:
    space = SearchSpace(loss=Choice(("crossentropy", "focal")), focal_gamma=Choice((1.0, 2.0)))
    assert SearchConfig(space=space, objective="val_loss").warnings() == [
        "The objective is val_loss but loss, focal_gamma varies: losses computed differently are not comparable. "
        "Use val_accuracy."
    ]
    assert SearchConfig(space=space).warnings() == []


def test_an_invalid_configuration_has_no_warnings() -> None:
    assert SearchConfig(tuner="hyperband", max_trials=0, space=SearchSpace(epochs=IntRange(2, 5))).warnings() == []


# --- JSON --------------------------------------------------------------------------------------


RICH = SearchConfig(
    space=SearchSpace(
        augment=Choice((True, False)),
        epochs=IntRange(1, 9, step=2),
        learning_rate=FloatRange(1e-4, 1e-1, step=10, sampling="log"),
        momentum=FloatRange(0.5, 0.9, step=0.1),
        optimizer=Choice(("sgd", "adam", "rmsprop")),
        loss=Fixed("label_smoothing"),
    ),
    data=DataSpec(name="cifar10", path="/data/cifar-10-python.tar.gz", train_size=5000, test_size=None, seed=3),
    tuner="hyperband",
    objective="val_loss",
    early_stopping_patience=2,
    seed=3,
    keep_checkpoints="all",
)


@pytest.mark.parametrize("config", [SearchConfig(), RICH])
def test_json_round_trip_is_exact(config: SearchConfig) -> None:
    text = config.to_json()
    assert SearchConfig.from_json(text) == config
    assert SearchConfig.from_json(text).to_json() == text
    assert json.loads(text) == config.to_dict()
    assert config.to_dict()["version"] == 1


def test_to_dict_lists_every_setting() -> None:
    assert list(SearchConfig().to_dict()) == [
        "version", "space", "data", "tuner", "objective", "max_trials", "executions_per_trial",
        "hyperband_max_epochs", "hyperband_factor", "hyperband_iterations", "early_stopping_patience", "seed",
        "keep_checkpoints", "max_consecutive_failures", "workers", "pruning", "pruning_warmup_epochs",
        "pruning_min_trials", "asha_factor", "asha_min_epochs", "mixed_precision", "experiment",
    ]  # fmt: skip


def test_from_dict_takes_defaults_for_missing_settings() -> None:
    assert SearchConfig.from_dict({"tuner": "grid", "space": {"epochs": 2}}) == SearchConfig(
        tuner="grid", space=SearchSpace(epochs=Fixed(2))
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"max_trails": 3}, "max_trails", "unknown setting 'max_trails'; did you mean 'max_trials'?"),
        ({"version": 2}, "version", "expected 1, found 2; the file was written by another version"),
        ([], "config", "expected an object of settings, found []"),
        ({"data": 3}, "data", "expected an object of data settings, found 3"),
        ({"space": {"lr": 0.1}}, "space.lr", "unknown hyperparameter 'lr'; expected one of conv_blocks, filters, "
         "filter_growth, kernel_size, pooling, batch_norm, dense_layers, dense_units, activation, dropout, "
         "weight_decay, augment, optimizer, learning_rate, momentum, loss, label_smoothing, focal_gamma, "
         "batch_size, epochs"),
    ],
)  # fmt: skip
def test_from_dict_errors(data: Any, field: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SearchConfig.from_dict(data)
    assert (caught.value.field, caught.value.message) == (field, message)


def test_load(tmp_path: Path) -> None:
    path = tmp_path / "search.json"
    path.write_text(RICH.to_json())
    assert SearchConfig.load(path) == RICH


def test_load_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(ConfigError) as caught:
        SearchConfig.load(missing)
    assert str(caught.value) == f"{missing}: cannot read the configuration file: No such file or directory"
    broken = tmp_path / "broken.json"
    broken.write_text('{"tuner": "grid",}')
    with pytest.raises(ConfigError) as caught:
        SearchConfig.load(broken)
    assert str(caught.value) == (
        f"{broken}: not valid JSON (line 1, column 18): Expecting property name enclosed in double quotes"
    )
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"tunr": "grid"}')
    with pytest.raises(ConfigError) as caught:
        SearchConfig.load(unknown)
    assert caught.value.field == "tunr"
    assert caught.value.message == f"unknown setting 'tunr'; did you mean 'tuner'? (in {unknown})"


# --- overrides and differences -----------------------------------------------------------------


def test_with_overrides() -> None:
    config = SearchConfig().with_overrides(
        tuner="grid", objective="val_loss", max_trials=20, epochs=5, train_size=500, dataset="cifar10",
        data_path="/data/cifar", validation_split=0.3, seed=7, executions_per_trial=2, hyperband_factor=2,
        early_stopping_patience=3, keep_checkpoints="all", test_size=None,
    )  # fmt: skip
    assert config == SearchConfig(
        space=SearchSpace(epochs=Fixed(5)),
        data=DataSpec(name="cifar10", path="/data/cifar", train_size=500, validation_split=0.3, seed=7),
        tuner="grid",
        objective="val_loss",
        max_trials=20,
        seed=7,
        executions_per_trial=2,
        hyperband_factor=2,
        early_stopping_patience=3,
        keep_checkpoints="all",
    )
    assert SearchConfig().with_overrides() == SearchConfig()


def test_with_overrides_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        SearchConfig().with_overrides(max_trial=3)
    assert caught.value.field == "max_trial"
    assert caught.value.message == "unknown setting 'max_trial'; did you mean 'max_trials'?"
    with pytest.raises(ConfigError, match=r"^space: unknown setting 'space'"):
        SearchConfig().with_overrides(space=SearchSpace())


def test_differences() -> None:
    other = SearchConfig().with_overrides(max_trials=20, seed=3, epochs=5, tuner="grid")
    assert SearchConfig().differences(other) == [
        "space.epochs: 3 -> 5",
        "data.seed: 0 -> 3",
        "tuner: random -> grid",
        "max_trials: 10 -> 20",
        "seed: 0 -> 3",
    ]
    assert SearchConfig().differences(SearchConfig()) == []
    assert SearchConfig().differences(SearchConfig(space=SearchSpace(learning_rate=Fixed(0.001)))) == [
        "space.learning_rate: 0.0001 to 0.01, log -> 0.001"
    ]


def test_switching_to_the_digits_takes_all_of_them_unless_sizes_are_given() -> None:
    config = SearchConfig().with_overrides(dataset="digits")
    assert (config.data.name, config.data.train_size, config.data.test_size) == ("digits", None, None)
    config.validate()
    sized = SearchConfig().with_overrides(dataset="digits", train_size=500)
    assert sized.data.train_size == 500
    small = SearchConfig(data=DataSpec(train_size=400, test_size=100)).with_overrides(dataset="digits")
    assert (small.data.train_size, small.data.test_size) == (400, 100)
