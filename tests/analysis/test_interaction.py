"""Interaction grids: bins on the declared scale, categories, "not used", counts and empty cells."""

from __future__ import annotations

import pytest

from tests.analysis.make import LOSS, choice, floating, integer, make_result, when
from tuning.analysis.interaction import Axis, Interaction, interaction

DROPOUT = floating("dropout", 0.0, 1.0)
OPTIMIZER = choice("optimizer", "adam", "sgd")


def test_grid_of_mean_scores_and_counts_with_empty_cells() -> None:
    rows = [
        {"dropout": 0.1, "optimizer": "adam", "score": 0.5},
        {"dropout": 0.2, "optimizer": "adam", "score": 0.75},
        {"dropout": 0.9, "optimizer": "adam", "score": 0.25},
        {"dropout": 1.0, "optimizer": "sgd", "score": 1.0},  # the top edge belongs to the last bin
        {"dropout": 0.6, "optimizer": "sgd", "status": "FAILED"},
    ]
    grid = interaction(make_result(rows, [DROPOUT, OPTIMIZER], objective=LOSS), "dropout", "optimizer", bins=2)
    assert grid == Interaction(
        objective="val_loss",
        direction="min",
        x=Axis("dropout", "Dropout", True, False, ("0–0.5", "0.5–1"), (0.0, 0.5, 1.0)),
        y=Axis("optimizer", "Optimizer", False, False, ("adam", "sgd"), ()),
        means=((0.625, 0.25), (None, 1.0)),
        counts=((2, 1), (0, 1)),
        n_trials=4,
    )


def test_log_sampled_axes_are_cut_into_even_log_bins() -> None:
    lr = floating("learning_rate", 1e-4, 1.0, log=True)
    rows = [{"learning_rate": v, "optimizer": "adam", "score": 0.5} for v in (2e-4, 5e-3, 0.5)]
    grid = interaction(make_result(rows, [lr, OPTIMIZER]), "learning_rate", "optimizer", bins=4)
    assert grid.x.log
    assert grid.x.edges == pytest.approx((1e-4, 1e-3, 1e-2, 1e-1, 1.0))
    assert grid.x.bins == ("0.0001–0.001", "0.001–0.01", "0.01–0.1", "0.1–1")
    assert grid.counts == ((1, 1, 0, 1), (0, 0, 0, 0))


def test_small_int_ranges_get_one_bin_per_value_and_out_of_range_values_go_to_the_end_bins() -> None:
    blocks = integer("conv_blocks", 1, 4)
    rows = [{"conv_blocks": v, "optimizer": "sgd", "score": 0.5} for v in (1, 3, 3, 4, 7)]
    grid = interaction(make_result(rows, [blocks, OPTIMIZER]), "optimizer", "conv_blocks")
    assert grid.y == Axis(
        "conv_blocks", "Convolutional blocks", True, False, ("1", "2", "3", "4"), (0.5, 1.5, 2.5, 3.5, 4.5)
    )
    assert grid.counts == ((0, 1), (0, 0), (0, 2), (0, 2))


def test_inactive_conditional_values_get_their_own_bin() -> None:
    momentum = floating("momentum", 0.0, 1.0, conditions=when("optimizer", "sgd"))
    rows = [
        {"optimizer": "sgd", "momentum": 0.9, "score": 0.5},
        {"optimizer": "adam", "momentum": None, "score": 0.25},
    ]
    grid = interaction(make_result(rows, [OPTIMIZER, momentum]), "momentum", "optimizer", bins=2)
    assert grid.x.bins == ("0–0.5", "0.5–1", "not used")
    assert grid.means == ((None, None, 0.25), (None, 0.5, None))


def test_two_different_known_hyperparameters_are_required() -> None:
    result = make_result([], [DROPOUT, OPTIMIZER])
    with pytest.raises(ValueError, match="two different hyperparameters"):
        interaction(result, "dropout", "dropout")
    with pytest.raises(ValueError, match="no hyperparameter named 'lr'; found dropout, optimizer"):
        interaction(result, "lr", "dropout")
