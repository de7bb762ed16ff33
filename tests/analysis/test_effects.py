"""Effects of single hyperparameters: points on the declared scale, trends, groups, "not used"."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.analysis.make import boolean, choice, floating, make_result, when
from tuning.analysis.effects import CategoricalEffect, Group, NumericEffect, effect, effects, kernel_trend, spread
from tuning.results.model import HyperparameterInfo

OPTIMIZER = choice("optimizer", "adam", "sgd")
MOMENTUM = floating("momentum", 0.0, 1.0, conditions=when("optimizer", "sgd"))
LR = floating("learning_rate", 1e-4, 1e-1, log=True)


def test_numeric_effect_places_log_sampled_values_at_their_log10_and_skips_trials_without_a_score() -> None:
    rows = [
        {"learning_rate": 1e-4, "score": 0.2},
        {"learning_rate": 1e-3, "score": 0.4},
        {"learning_rate": 1e-2, "score": 0.6, "status": "FAILED"},
        {"learning_rate": 1e-1, "score": math.nan},
        {"learning_rate": 1e-2, "score": 0.8},
    ]
    found = effect(make_result(rows, [LR]), "learning_rate")
    assert isinstance(found, NumericEffect)
    assert (found.name, found.label, found.log, found.low, found.high) == (
        "learning_rate",
        "Learning rate",
        True,
        1e-4,
        1e-1,
    )
    assert found.trial_ids == ("0000", "0001", "0004")
    assert found.values == (1e-4, 1e-3, 1e-2)
    assert found.positions == (-4.0, -3.0, -2.0)
    assert found.scores == (0.2, 0.4, 0.8)
    assert found.not_used is None
    assert len(found.trend_values) == 50
    assert found.trend_values[0] == pytest.approx(1e-4)
    assert found.trend_values[-1] == pytest.approx(1e-1)


def test_kernel_trend_is_a_gaussian_weighted_mean_left_out_far_from_the_data() -> None:
    grid, trend = kernel_trend(np.array([0.0, 0.5, 1.0]), np.array([0.0, 1.0, 2.0]), low=0.0, high=1.0, points=3)
    assert grid.tolist() == [0.0, 0.5, 1.0]
    w = math.exp(-0.5 * (0.5 / 0.1) ** 2)  # weight of a point half a range away, bandwidth 0.1
    assert trend.tolist() == pytest.approx([(w + 2 * math.exp(-50)) / (1 + w + math.exp(-50)), 1.0, 2 - trend[0]])
    grid, trend = kernel_trend(np.array([0.0, 0.05, 0.11]), np.array([1.0, 1.0, 1.0]), low=0, high=1, points=11)
    assert np.isnan(trend).tolist() == [False] * 4 + [True] * 7  # nearest point more than 2 bandwidths away
    grid, trend = kernel_trend(np.array([0.0, 1.0]), np.array([1.0, 1.0]), low=0, high=1)
    assert (len(grid), len(trend)) == (0, 0)  # too few trials for a trend


def test_conditional_numeric_keeps_inactive_trials_apart_as_not_used() -> None:
    rows = [
        {"optimizer": "sgd", "momentum": 0.5, "score": 0.25},
        {"optimizer": "adam", "momentum": None, "score": 0.5},
        {"optimizer": "adam", "momentum": None, "score": 0.75},
        {"optimizer": "sgd", "momentum": 0.9, "score": 1.0},
    ]
    found = effect(make_result(rows, [OPTIMIZER, MOMENTUM]), "momentum")
    assert isinstance(found, NumericEffect)
    assert (found.values, found.positions, found.scores) == ((0.5, 0.9), (0.5, 0.9), (0.25, 1.0))
    assert found.not_used == Group(
        "not used", 2, 0.625, 0.625, 0.5625, 0.6875, 0.5, 0.75, (0.5, 0.75), ("0001", "0002")
    )


def test_categorical_effect_groups_in_declared_order_with_unexpected_values_and_not_used_last() -> None:
    mode = choice("mode", "fast", "slow", "exact", conditions=when("optimizer", "sgd"))
    rows = [
        {"optimizer": "sgd", "mode": "slow", "score": 0.25},
        {"optimizer": "sgd", "mode": "slow", "score": 0.5},
        {"optimizer": "sgd", "mode": "slow", "score": 0.75},
        {"optimizer": "sgd", "mode": "slow", "score": 1.0},
        {"optimizer": "sgd", "mode": "turbo", "score": 0.125},
        {"optimizer": "adam", "mode": None, "score": 0.5},
        {"optimizer": "sgd", "mode": "fast", "status": "FAILED"},
    ]
    found = effect(make_result(rows, [OPTIMIZER, mode]), "mode")
    assert found == CategoricalEffect(
        name="mode",
        label="Mode",
        groups=(
            Group("fast", 0, None, None, None, None, None, None, (), ()),
            Group(
                "slow",
                4,
                0.625,
                0.625,
                0.4375,
                0.8125,
                0.25,
                1.0,
                (0.25, 0.5, 0.75, 1.0),
                ("0000", "0001", "0002", "0003"),
            ),
            Group("exact", 0, None, None, None, None, None, None, (), ()),
            Group("turbo", 1, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125, (0.125,), ("0004",)),
            Group("not used", 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, (0.5,), ("0005",)),
        ),
    )
    assert spread(found, min_count=1) == 0.5  # 0.625 - 0.125; "not used" left out
    assert spread(found) is None  # only one value has two trials


def test_booleans_and_numeric_choices_are_categories_written_as_declared() -> None:
    rows = [
        {"batch_norm": True, "filters": 8, "score": 0.5},
        {"batch_norm": False, "filters": 16, "score": 0.25},
    ]
    space = [boolean("batch_norm"), choice("filters", 8, 16, 32)]
    found = effects(make_result(rows, space))
    assert [[(g.value, g.count) for g in e.groups] for e in found if isinstance(e, CategoricalEffect)] == [
        [("True", 1), ("False", 1)],
        [("8", 1), ("16", 1), ("32", 0)],
    ]


def test_effects_cover_varying_hyperparameters_in_space_order() -> None:
    space = [LR, HyperparameterInfo("epochs", "fixed", values=(3,)), OPTIMIZER]
    rows = [{"learning_rate": 1e-3, "epochs": 3, "optimizer": "adam", "score": 0.5}]
    assert [e.name for e in effects(make_result(rows, space))] == ["learning_rate", "optimizer"]


def test_unknown_hyperparameter_is_refused() -> None:
    with pytest.raises(ValueError, match="no hyperparameter named 'lr'; found learning_rate"):
        effect(make_result([], [LR]), "lr")
