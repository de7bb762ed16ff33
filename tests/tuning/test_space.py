"""The search space: specs, the registry, validation, counting, and declaring on real Keras Tuner HPs."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from typing import Any

import keras_tuner as kt
import pytest

from tuning.errors import ConfigError
from tuning.space.hyperparameters import GROUPS, KINDS
from tuning.space.searchspace import (
    BY_NAME,
    HYPERPARAMETERS,
    Choice,
    Fixed,
    FloatRange,
    IntRange,
    SearchSpace,
    spec_from_dict,
)

ALL_FIXED = SearchSpace().with_values(
    conv_blocks=Fixed(2), filters=Fixed(32), dropout=Fixed(0.2), optimizer=Fixed("adam"), learning_rate=Fixed(1e-3)
)


def space_error(**specs: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        SearchSpace().with_values(**specs).validate()
    return caught.value


# --- specs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "data"),
    [
        (IntRange(1, 3), {"type": "int", "min": 1, "max": 3, "step": 1}),
        (FloatRange(1e-4, 1e-2, sampling="log"),
         {"type": "float", "min": 1e-4, "max": 1e-2, "step": None, "sampling": "log"}),
        (FloatRange(0.0, 0.5, step=0.1),
         {"type": "float", "min": 0.0, "max": 0.5, "step": 0.1, "sampling": "linear"}),
        (Choice(("adam", "sgd")), {"type": "choice", "values": ["adam", "sgd"]}),
        (Fixed(True), {"type": "fixed", "value": True}),
    ],
)  # fmt: skip
def test_spec_to_dict_and_back(spec: Any, data: dict[str, Any]) -> None:
    assert spec.to_dict() == data
    assert spec_from_dict(json.loads(json.dumps(data))) == spec


def test_choice_values_become_a_tuple() -> None:
    spec = Choice([16, 32])  # type: ignore[arg-type]
    assert spec.values == (16, 32)
    assert hash(spec) == hash(Choice((16, 32)))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "expected an object with a 'type' key, found [1, 2]"),
        ({"type": "range", "min": 1}, "type must be one of int, float, choice, fixed; found 'range'"),
        ({"type": "int", "min": 1, "max": 2, "stepp": 1}, "unknown key 'stepp' in a int spec; expected min, max, step"),
        ({"type": "float", "min": 0.1}, "a float spec needs max; found none"),
        ({"type": "choice", "values": "adam"}, "a choice's values must be a list, found 'adam'"),
    ],
)
def test_spec_from_dict_rejects_malformed_dicts(data: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        spec_from_dict(data, field="space.optimizer")
    assert caught.value.field == "space.optimizer"
    assert caught.value.message == message


def test_describe() -> None:
    assert IntRange(1, 3).describe() == "1 to 3"
    assert IntRange(1, 9, step=2).describe() == "1 to 9, step 2"
    assert FloatRange(1e-4, 1e-2, sampling="log").describe() == "0.0001 to 0.01, log"
    assert FloatRange(1e-4, 1e-2, step=10, sampling="log").describe() == "0.0001 to 0.01, factor 10, log"
    assert FloatRange(0.0, 0.5, step=0.1).describe() == "0 to 0.5, step 0.1"
    assert Choice(("adam", "sgd")).describe() == "adam, sgd"
    assert Fixed(0.9).describe() == "0.9"


# --- the registry ------------------------------------------------------------------------------


def test_registry_names_match_the_space_fields_in_order() -> None:
    assert [f.name for f in dataclasses.fields(SearchSpace)] == [hp.name for hp in HYPERPARAMETERS]
    assert list(BY_NAME) == [hp.name for hp in HYPERPARAMETERS]


def test_registry_entries_are_self_describing() -> None:
    order = [hp.name for hp in HYPERPARAMETERS]
    for hp in HYPERPARAMETERS:
        assert hp.kind in KINDS and hp.group in GROUPS and hp.label and hp.help
        if hp.numeric:
            assert hp.min_value is not None and hp.max_value is not None and hp.min_value < hp.max_value
            assert all(hp.min_value <= v <= hp.max_value for v in hp.suggestions)
        else:
            assert len(hp.values) >= 2
        if hp.parent:
            parent = BY_NAME[hp.parent[0]]
            assert parent.parent is None
            assert order.index(parent.name) < order.index(hp.name)
            for value in hp.parent[1]:
                assert value in parent.values if parent.values else parent.min_value <= value <= parent.max_value


def test_registry_conditions_and_limits() -> None:
    conditions = {hp.name: hp.parent for hp in HYPERPARAMETERS if hp.parent}
    assert conditions == {
        "dense_units": ("dense_layers", (1, 2, 3)),
        "momentum": ("optimizer", ("sgd", "rmsprop")),
        "label_smoothing": ("loss", ("label_smoothing",)),
        "focal_gamma": ("loss", ("focal",)),
    }
    assert BY_NAME["momentum"].condition_text() == "only when optimizer is sgd or rmsprop"
    assert (BY_NAME["learning_rate"].min_value, BY_NAME["learning_rate"].max_value) == (1e-6, 1.0)
    assert (BY_NAME["conv_blocks"].min_value, BY_NAME["conv_blocks"].max_value) == (1, 4)
    assert (BY_NAME["epochs"].min_value, BY_NAME["epochs"].max_value) == (1, 100)
    assert BY_NAME["activation"].values == ("relu", "elu", "gelu", "swish", "tanh", "sigmoid")
    assert BY_NAME["optimizer"].values == ("sgd", "adam", "rmsprop", "adamw")
    assert BY_NAME["augment"].kind == BY_NAME["batch_norm"].kind == "bool"


# --- validation --------------------------------------------------------------------------------


def test_defaults_are_valid_and_tune_a_few_dimensions() -> None:
    space = SearchSpace()
    space.validate()
    assert space.errors() == []
    assert space.tuned() == ["conv_blocks", "filters", "dropout", "optimizer", "learning_rate"]
    assert space.epochs == Fixed(3)


@pytest.mark.parametrize(
    ("specs", "field", "message"),
    [
        ({"conv_blocks": IntRange(3, 1)}, "conv_blocks", "min (3) is above max (1)"),
        ({"dropout": FloatRange(0.5, 0.1)}, "dropout", "min (0.5) is above max (0.1)"),
        ({"learning_rate": FloatRange(0.0, 0.1, sampling="log")}, "learning_rate",
         "a log range must stay above zero, found min 0; use a positive min or a linear range"),
        ({"weight_decay": FloatRange(0.0, 1e-3, sampling="log")}, "weight_decay",
         "a log range must stay above zero, found min 0; use a positive min or a linear range"),
        ({"optimizer": Choice(())}, "optimizer", "the choice is empty; list at least one value"),
        ({"filters": Choice((16, 32, 16))}, "filters", "the choice lists 16 more than once"),
        ({"dropout": Choice((0.1, 0.1))}, "dropout", "the choice lists 0.1 more than once"),
        ({"dropout": FloatRange(0.0, 0.9)}, "dropout", "max (0.9) is above the highest allowed value, 0.8"),
        ({"learning_rate": Fixed(2.0)}, "learning_rate", "value (2) is above the highest allowed value, 1"),
        ({"learning_rate": FloatRange(1e-7, 1e-2, sampling="log")}, "learning_rate",
         "min (1e-07) is below the lowest allowed value, 1e-06"),
        ({"conv_blocks": Fixed(0)}, "conv_blocks", "value (0) is below the lowest allowed value, 1"),
        ({"conv_blocks": IntRange(1, 5)}, "conv_blocks", "max (5) is above the highest allowed value, 4"),
        ({"momentum": Choice((0.5, 1.0))}, "momentum", "choice value (1) is above the highest allowed value, 0.99"),
        ({"activation": Choice(("relu", "softmax"))}, "activation",
         "in the choice: expected one of relu, elu, gelu, swish, tanh, sigmoid; found 'softmax' (str)"),
        ({"kernel_size": Fixed(7)}, "kernel_size", "expected one of 3, 5; found 7 (int)"),
        ({"kernel_size": Fixed("3")}, "kernel_size", "expected one of 3, 5; found '3' (str)"),
        ({"conv_blocks": IntRange(1, 3, step=0)}, "conv_blocks", "step must be at least 1, found 0"),
        ({"conv_blocks": IntRange(1, 3, step=5)}, "conv_blocks", "step (5) is larger than the range 1 to 3"),
        ({"epochs": IntRange(1, 10, step=4)}, "epochs",
         "max (10) is not reached from min (1) in whole steps of 4; use a max of 9 or 13"),
        ({"dropout": FloatRange(0.0, 0.5, step=0.15)}, "dropout",
         "max (0.5) is not reached from min (0) in whole steps of 0.15; use a max of 0.45 or 0.6"),
        ({"dropout": FloatRange(0.0, 0.5, step=-0.1)}, "dropout", "step must be above 0, found -0.1"),
        ({"dropout": FloatRange(0.0, 0.5, step=0.0)}, "dropout", "step must be above 0, found 0"),
        ({"dropout": FloatRange(0.0, 0.5, step=0.6)}, "dropout", "step (0.6) is larger than the range 0 to 0.5"),
        ({"learning_rate": FloatRange(1e-4, 1e-2, step=0.5, sampling="log")}, "learning_rate",
         "the step of a log range is the factor between neighbouring values and must be above 1, found 0.5"),
        ({"learning_rate": FloatRange(1e-4, 5e-3, step=10, sampling="log")}, "learning_rate",
         "max (0.005) is not reached from min (0.0001) in whole factors of 10; use a max of 0.001 or 0.01"),
        ({"learning_rate": FloatRange(1e-3, 1e-2, sampling="exp")}, "learning_rate",
         "sampling must be linear or log, found 'exp' (str)"),
        ({"conv_blocks": Fixed("2")}, "conv_blocks", "expected an integer, found '2' (str)"),
        ({"conv_blocks": Fixed(True)}, "conv_blocks", "expected an integer, found True (bool)"),
        ({"conv_blocks": IntRange(1.0, 3)}, "conv_blocks", "min: expected an integer, found 1.0 (float)"),
        ({"conv_blocks": IntRange(1, 3, step=1.5)}, "conv_blocks", "step: expected an integer, found 1.5 (float)"),
        ({"filters": Choice((16, 32.0))}, "filters", "in the choice: expected an integer, found 32.0 (float)"),
        ({"dropout": Fixed("0.1")}, "dropout", "expected a number, found '0.1' (str)"),
        ({"dropout": FloatRange(0.0, float("nan"))}, "dropout", "max: expected a number, found nan (float)"),
        ({"dropout": FloatRange(0.0, 0.5, step="0.1")}, "dropout",
         "step: expected a number or null, found '0.1' (str)"),
        ({"batch_norm": Fixed(1)}, "batch_norm", "expected true or false, found 1 (int)"),
        ({"augment": Choice((True, "no"))}, "augment", "in the choice: expected true or false, found 'no' (str)"),
        ({"optimizer": IntRange(1, 2)}, "optimizer", "expected a choice or a fixed value; found an integer range"),
        ({"conv_blocks": FloatRange(1, 3)}, "conv_blocks",
         "expected an integer range, a choice or a fixed value; found a float range"),
        ({"conv_blocks": 3}, "conv_blocks", "expected an integer range, a choice or a fixed value; found 3 (int)"),
    ],
)  # fmt: skip
def test_validation_names_the_field_and_says_what_was_expected(specs: dict, field: str, message: str) -> None:
    error = space_error(**specs)
    assert error.field == f"space.{field}"
    assert error.message == message
    assert str(error) == f"space.{field}: {message}"


@pytest.mark.parametrize(
    "specs",
    [
        {"dropout": FloatRange(0.0, 0.5, step=0.1)},
        {"dropout": FloatRange(0.1, 0.7, step=0.2)},
        {"dropout": Fixed(0)},  # an int is a number
        {"learning_rate": FloatRange(1e-4, 1e-1, step=10, sampling="log")},
        {"learning_rate": FloatRange(1e-3, 1e-3, sampling="log")},
        {"weight_decay": FloatRange(1e-5, 1e-2, sampling="log")},
        {"conv_blocks": IntRange(2, 2)},
        {"epochs": IntRange(1, 9, step=2)},
        {"batch_size": Choice((16, 32, 64, 128, 256, 512))},
        {"momentum": FloatRange(0.0, 0.99)},
        {"kernel_size": Choice((3, 5))},
        {"augment": Choice((True, False))},
        {"dense_units": IntRange(32, 256, step=32)},
    ],
)
def test_valid_specs(specs: dict) -> None:
    SearchSpace().with_values(**specs).validate()


def test_errors_lists_one_problem_per_hyperparameter() -> None:
    space = SearchSpace().with_values(conv_blocks=IntRange(3, 1), dropout=Fixed(2.0), optimizer=Choice(()))
    assert [e.field for e in space.errors()] == ["space.conv_blocks", "space.dropout", "space.optimizer"]


# --- dicts ------------------------------------------------------------------------------------


def test_space_round_trips_through_json() -> None:
    space = SearchSpace().with_values(
        augment=Choice((True, False)), epochs=IntRange(1, 9, step=2), momentum=FloatRange(0.5, 0.9, step=0.1)
    )
    assert SearchSpace.from_dict(json.loads(json.dumps(space.to_dict()))) == space
    assert list(space.to_dict()) == [hp.name for hp in HYPERPARAMETERS]


def test_from_dict_defaults_missing_names_and_reads_bare_values_as_fixed() -> None:
    space = SearchSpace.from_dict({"epochs": 5, "optimizer": {"type": "choice", "values": ["sgd"]}})
    assert space == SearchSpace().with_values(epochs=Fixed(5), optimizer=Choice(("sgd",)))


def test_from_dict_rejects_unknown_names() -> None:
    with pytest.raises(ConfigError) as caught:
        SearchSpace.from_dict({"learning_rat": {"type": "fixed", "value": 0.1}})
    assert caught.value.field == "space.learning_rat"
    assert caught.value.message == "unknown hyperparameter 'learning_rat'; did you mean 'learning_rate'?"
    with pytest.raises(ConfigError, match=r"^space\.dropout: unknown key 'mn'"):
        SearchSpace.from_dict({"dropout": {"type": "float", "mn": 0, "max": 1}})
    with pytest.raises(ConfigError, match=r"^space: expected an object"):
        SearchSpace.from_dict([])


def test_with_values_replaces_specs_and_rejects_unknown_names() -> None:
    space = SearchSpace().with_values(epochs=Fixed(4), dropout={"type": "fixed", "value": 0.3})
    assert (space.epochs, space.dropout) == (Fixed(4), Fixed(0.3))
    with pytest.raises(ConfigError, match=r"^space\.lr: unknown hyperparameter 'lr'"):
        SearchSpace().with_values(lr=Fixed(0.1))


# --- tuned, counts -----------------------------------------------------------------------------


def test_tuned_ignores_single_values_and_never_active_conditions() -> None:
    space = ALL_FIXED.with_values(
        filters=Choice((32,)),
        conv_blocks=IntRange(2, 2),
        momentum=FloatRange(0.5, 0.9),
        dense_layers=IntRange(0, 2),
        dense_units=Choice((32, 64)),
    )
    assert space.never_active() == ["momentum", "label_smoothing", "focal_gamma"]
    assert space.tuned() == ["dense_layers", "dense_units"]
    assert ALL_FIXED.with_values(dense_layers=Fixed(0), dense_units=Choice((32, 64))).tuned() == []


@pytest.mark.parametrize(
    ("specs", "grid", "distinct"),
    [
        ({}, 1, 1),
        ({"optimizer": Choice(("adam", "sgd")), "momentum": FloatRange(0.5, 0.9, step=0.1)}, 1 + 5, 6),
        ({"optimizer": Choice(("sgd", "rmsprop", "adam")), "momentum": Choice((0.0, 0.9))}, 2 + 2 + 1, 5),
        ({"optimizer": Fixed("adam"), "momentum": FloatRange(0.5, 0.9, step=0.1)}, 1, 1),
        ({"dense_layers": IntRange(0, 3), "dense_units": Choice((32, 64))}, 1 + 3 * 2, 7),
        ({"dense_layers": Fixed(0), "dense_units": Choice((32, 64))}, 1, 1),
        (
            {
                "loss": Choice(("crossentropy", "label_smoothing", "focal")),
                "label_smoothing": Choice((0.1, 0.2)),
                "focal_gamma": FloatRange(1.0, 3.0, step=1.0),
            },
            1 + 2 + 3,
            6,
        ),
        ({"dropout": FloatRange(0.0, 0.5, step=0.1)}, 6, 6),
        ({"dropout": FloatRange(0.0, 0.3, step=0.1)}, 4, 4),
        ({"dropout": FloatRange(0.0, 0.5)}, 11, None),
        ({"learning_rate": FloatRange(1e-4, 1e-1, step=10, sampling="log")}, 4, 4),
        ({"learning_rate": FloatRange(1e-4, 1e-2, sampling="log")}, 11, None),
        ({"conv_blocks": IntRange(1, 4), "epochs": IntRange(1, 9, step=2), "augment": Choice((True, False))}, 40, 40),
    ],
)
def test_count_follows_conditions(specs: dict, grid: int, distinct: int | None) -> None:
    space = ALL_FIXED.with_values(**specs)
    assert space.count() == grid
    assert space.distinct_count() == distinct


def test_count_of_the_default_space() -> None:
    # conv_blocks 3 x filters 3 x dropout 6 x learning_rate (10 + the minimum) x optimizer (adam | sgd, fixed momentum)
    assert SearchSpace().count() == 3 * 3 * 6 * 11 * 2
    assert SearchSpace().distinct_count() is None


def test_count_without_epochs() -> None:
    space = ALL_FIXED.with_values(epochs=IntRange(1, 5), filters=Choice((16, 32)))
    assert space.count() == 10
    assert space.count(include_epochs=False) == 2
    assert space.distinct_count(include_epochs=False) == 2


# --- declaring on Keras Tuner ------------------------------------------------------------------


def _registered(hp: kt.HyperParameters, name: str) -> Any:
    (found,) = hp._hps[name]
    return found


def test_declare_registers_every_hyperparameter_with_its_condition() -> None:
    hp = kt.HyperParameters()
    values = SearchSpace().declare(hp)
    assert list(values) == [info.name for info in HYPERPARAMETERS]
    assert [h.name for h in hp.space] == list(values)
    assert values["optimizer"] == "adam" and values["momentum"] is None
    assert not hp.is_active("momentum") and "momentum" not in hp.values
    assert values["label_smoothing"] is None and values["focal_gamma"] is None
    assert values["dense_units"] == 128 and hp.is_active("dense_units")
    hp.values["optimizer"] = "sgd"
    assert hp.is_active("momentum")
    assert [c.get_config() for c in _registered(hp, "momentum").conditions] == [
        {"name": "optimizer", "values": ["sgd", "rmsprop"]}
    ]


def test_declare_uses_the_right_keras_tuner_types() -> None:
    space = SearchSpace().with_values(
        augment=Choice((True, False)),
        batch_norm=Fixed(True),
        weight_decay=Fixed(0),
        filters=Choice((32,)),
        conv_blocks=IntRange(1, 3),
        dropout=FloatRange(0.0, 0.5, step=0.1),
        batch_size=Choice((32, 64)),
    )
    hp = kt.HyperParameters()
    values = space.declare(hp)
    kinds = {h.name: type(h).__name__ for h in hp.space}
    assert kinds["augment"] == "Boolean" and values["augment"] is True
    assert kinds["batch_norm"] == "Fixed" and values["batch_norm"] is True
    assert kinds["filters"] == "Fixed" and values["filters"] == 32
    assert kinds["conv_blocks"] == "Int" and kinds["batch_size"] == "Choice" and kinds["optimizer"] == "Choice"
    assert values["weight_decay"] == 0.0 and isinstance(values["weight_decay"], float)
    learning_rate = _registered(hp, "learning_rate")
    assert (type(learning_rate).__name__, learning_rate.sampling) == ("Float", "log")
    assert (learning_rate.min_value, learning_rate.max_value, learning_rate.step) == (1e-4, 1e-2, None)
    assert [round(v, 10) for v in _registered(hp, "dropout").values] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]


def test_declare_activates_conditions_from_the_parent_value() -> None:
    space = ALL_FIXED.with_values(
        optimizer=Choice(("sgd", "adam")),
        momentum=FloatRange(0.5, 0.9, step=0.1),
        dense_layers=Fixed(0),
        dense_units=IntRange(32, 128, step=32),
        loss=Fixed("focal"),
    )
    hp = kt.HyperParameters()
    values = space.declare(hp)
    assert values["momentum"] == 0.5 and hp.is_active("momentum")
    assert values["dense_units"] is None and not hp.is_active("dense_units")
    assert values["focal_gamma"] == 2.0 and values["label_smoothing"] is None
    hp.values["dense_layers"] = 2
    assert hp.is_active("dense_units")


def test_declare_again_returns_the_trial_values() -> None:
    hp = SearchSpace().hyperparameters()
    hp.values.update({"optimizer": "sgd", "conv_blocks": 3, "momentum": 0.9})
    values = SearchSpace().declare(hp)
    assert (values["optimizer"], values["conv_blocks"], values["momentum"]) == ("sgd", 3, 0.9)
    assert len(hp.space) == len(HYPERPARAMETERS)


def test_declare_without_epochs() -> None:
    hp = SearchSpace().hyperparameters(include_epochs=False)
    assert "epochs" not in [h.name for h in hp.space]
    assert "epochs" not in SearchSpace().declare(kt.HyperParameters(), include_epochs=False)


def test_declare_refuses_an_invalid_space() -> None:
    with pytest.raises(ConfigError, match=r"^space\.conv_blocks: min"):
        SearchSpace().with_values(conv_blocks=IntRange(3, 1)).declare(kt.HyperParameters())


def test_importing_the_space_does_not_import_tensorflow() -> None:
    code = (
        "import sys, tuning.space.searchspace, tuning.space.config; tuning.space.searchspace.SearchSpace().validate(); "
        "print('keras_tuner' in sys.modules, 'tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
