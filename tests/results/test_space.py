"""Keras Tuner's saved hyperparameter configs -> ``HyperparameterInfo``, and the column dtype of each."""

from __future__ import annotations

import pytest

from tests.results.factories import hp_boolean, hp_choice, hp_fixed, hp_float, hp_int, when
from tuning.results.model import Condition, HyperparameterInfo
from tuning.results.space import column_dtype, infer_from_values, merge_spaces, parse_hyperparameter, parse_space


def test_every_kind_as_keras_tuner_writes_it() -> None:
    space = parse_space(
        [
            hp_float("lr", 1e-4, 1e-1, sampling="log"),
            hp_float("decay", 1e-6, 1e-2, sampling="reverse_log", default=1e-3),
            hp_int("units", 8, 64, step=8),
            hp_int("layers", 1, 3),
            hp_choice("optimizer", ["adam", "sgd"]),
            hp_float("momentum", 0.0, 0.9, step=0.1, conditions=when("optimizer", "sgd")),
            hp_boolean("augment", default=True),
            hp_fixed("batch/size", 32),
        ]
    )
    assert space == (
        HyperparameterInfo("lr", "float", min=1e-4, max=1e-1, sampling="log", default=1e-4),
        HyperparameterInfo("decay", "float", min=1e-6, max=1e-2, sampling="reverse_log", default=1e-3),
        HyperparameterInfo("units", "int", min=8, max=64, step=8, default=8),
        HyperparameterInfo("layers", "int", min=1, max=3, step=1, default=1),
        HyperparameterInfo("optimizer", "choice", values=("adam", "sgd"), default="adam"),
        HyperparameterInfo(
            "momentum", "float", min=0.0, max=0.9, step=0.1, default=0.0, conditions=(Condition("optimizer", ("sgd",)),)
        ),
        HyperparameterInfo("augment", "boolean", values=(False, True), default=True),
        HyperparameterInfo("batch/size", "fixed", values=(32,), default=32),
    )
    assert [h.varies for h in space] == [True] * 7 + [False]


def test_old_and_odd_configs() -> None:
    config = {"name": "m", "min_value": 0, "max_value": 1, "sampling": None}
    old = {"class_name": "Float", "config": {**config, "parent_name": "o", "parent_values": ["sgd"]}}
    assert parse_hyperparameter(old) == HyperparameterInfo(
        "m", "float", min=0, max=1, default=0, conditions=(Condition("o", ("sgd",)),)
    )
    assert parse_hyperparameter({"class_name": "Mystery", "config": {"name": "x"}}) is None
    assert parse_hyperparameter({"class_name": "Float", "config": "nonsense"}) is None
    unknown_sampling = hp_float("x", 0.0, 1.0, sampling="cubic")
    assert parse_hyperparameter(unknown_sampling).sampling == "linear"  # type: ignore[union-attr]


def test_hyperband_values_and_duplicates_are_left_out() -> None:
    space = parse_space([hp_fixed("tuner/epochs", 3), hp_int("units", 8, 64), hp_int("units", 1, 2), "junk"])
    assert [h.name for h in space] == ["units"] and space[0].max == 64
    merged = merge_spaces(space, [HyperparameterInfo("units", "int", min=0, max=1), HyperparameterInfo("lr", "float")])
    assert [(h.name, h.max) for h in merged] == [("units", 64), ("lr", None)]


@pytest.mark.parametrize(
    ("info", "dtype"),
    [
        (HyperparameterInfo("a", "float"), "Float64"),
        (HyperparameterInfo("a", "int"), "Int64"),
        (HyperparameterInfo("a", "boolean", values=(False, True)), "boolean"),
        (HyperparameterInfo("a", "choice", values=("x", "y")), "string"),
        (HyperparameterInfo("a", "choice", values=(16, 32)), "Int64"),
        (HyperparameterInfo("a", "choice", values=(0.5, 1)), "Float64"),
        (HyperparameterInfo("a", "choice", values=(True, False)), "boolean"),
        (HyperparameterInfo("a", "choice", values=("x", 1)), "object"),
        (HyperparameterInfo("a", "fixed", values=("relu",)), "string"),
        (HyperparameterInfo("a", "fixed", values=(None,)), "object"),
    ],
)
def test_column_dtypes(info: HyperparameterInfo, dtype: str) -> None:
    assert column_dtype(info) == dtype


def test_described_from_values_when_not_saved() -> None:
    assert infer_from_values("a", [1, None, 3]) == HyperparameterInfo("a", "int", min=1, max=3, step=1)
    assert infer_from_values("a", [0.5, 2]) == HyperparameterInfo("a", "float", min=0.5, max=2)
    assert infer_from_values("a", [True, False]) == HyperparameterInfo("a", "boolean", values=(False, True))
    assert infer_from_values("a", ["tanh", "relu", "tanh"]) == HyperparameterInfo(
        "a", "choice", values=("relu", "tanh")
    )
    assert infer_from_values("a", [None]) == HyperparameterInfo("a", "choice", values=())
