"""The experiment's runs and conclusion, from in-memory results with known curves (no training here)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.analysis.make import choice, floating, integer, make_result
from tuning.analysis.experiment import ExperimentSummary, experiment_of
from tuning.plots.experiment import experiment_curves_data, heatmap_data, ordered_labels
from tuning.results.curves import curves_frame
from tuning.results.model import ProjectResult

LR = floating("learning_rate", 1e-6, 1.0, log=True)


def experiment(
    vary: dict[str, list[Any]],
    runs: list[dict[str, Any]],
    *,
    train_size: int = 2000,
    planned: int | None = None,
    space: tuple[Any, ...] = (LR,),
) -> ProjectResult:
    """An experiment's result: ``runs`` are trial rows plus ``val``/``train`` lists of per-epoch accuracy."""
    points = []
    rows = []
    for index, run in enumerate(runs):
        trial_id = f"{index:04d}"
        for metric, key in (("val_accuracy", "val"), ("accuracy", "train")):
            points += [(trial_id, 0, epoch, metric, v) for epoch, v in enumerate(run.pop(key, []), start=1)]
        rows.append(run)
    result = make_result(rows, space)
    result.curves = curves_frame(points, "engine")
    result.config = {
        "max_trials": planned or len(runs),
        "data": {"train_size": train_size, "validation_split": 0.2},
        "experiment": {"vary": vary, "baseline": {}, "base": "defaults"},
    }
    return result


def summary_of(result: ProjectResult) -> ExperimentSummary:
    found = experiment_of(result)
    assert found is not None
    return found


def lr_run(lr: float, val: list[float], train: list[float] | None = None, **row: Any) -> dict[str, Any]:
    return {"learning_rate": lr, "score": max(val, default=float("nan")), "val": val, "train": train or val, **row}


def test_not_an_experiment_gives_none() -> None:
    result = make_result([{"learning_rate": 0.01, "score": 0.5}], (LR,))
    assert experiment_of(result) is None
    result.config = {"tuner": "random"}
    assert experiment_of(result) is None


def test_best_slowest_chance_and_a_peak_in_the_middle() -> None:
    result = experiment(
        {"learning_rate": [1e-5, 1e-3, 1e-2, 1.0]},
        [
            lr_run(1e-5, [0.10, 0.14, 0.21]),
            lr_run(1e-3, [0.50, 0.75, 0.86]),
            lr_run(1e-2, [0.40, 0.55, 0.60]),
            lr_run(1.0, [0.10, 0.11, 0.10]),
        ],
    )
    summary = summary_of(result)
    assert [run.label for run in summary.runs] == ["1e-05", "0.001", "0.01", "1"]
    assert summary.runs[0].final == pytest.approx(0.21) and summary.runs[0].epochs == 3
    assert summary.conclusion == (
        "Best learning rate 0.001: validation accuracy 86.0% after 3 epochs. "
        "Learning rate 1 stayed at chance level (10.0%): 10.0% after 3 epochs. "
        "Learning rate 1e-05 learned slowest, still improving at the end: validation accuracy 21.0% after 3 epochs. "
        "Validation accuracy improved with the learning rate up to 0.001 and fell beyond it."
    )


def test_a_diverged_run_is_named_with_its_reason() -> None:
    message = "Training diverged: the loss became nan at batch 3 of epoch 1. A lower learning rate usually fixes this."
    result = experiment(
        {"learning_rate": [1e-3, 1.0]},
        [lr_run(1e-3, [0.6, 0.8]), {"learning_rate": 1.0, "status": "FAILED", "message": message}],
    )
    summary = summary_of(result)
    assert summary.conclusion.startswith("Learning rate 1 diverged: the loss became nan at batch 3 of epoch 1. ")
    assert "Only learning rate 0.001 finished: validation accuracy 80.0% after 2 epochs." in summary.conclusion


def test_few_validation_images_widen_the_noise() -> None:
    runs = [lr_run(1e-3, [0.7, 0.80]), lr_run(2e-3, [0.7, 0.86])]
    conclusion = summary_of(experiment({"learning_rate": [1e-3, 2e-3]}, runs, train_size=200)).conclusion
    assert conclusion.startswith("Nothing measurable changed")
    assert conclusion.endswith("within the 0.079 that two runs of one setting can differ by on 40 validation images.")


def test_nothing_measurable_changed_within_the_noise_of_the_validation_set() -> None:
    runs = [lr_run(1e-3, [0.7, 0.80]), lr_run(2e-3, [0.7, 0.81]), lr_run(3e-3, [0.7, 0.79])]
    summary = summary_of(experiment({"learning_rate": [1e-3, 2e-3, 3e-3]}, runs, train_size=2000))
    assert summary.validation_images == 400
    assert summary.conclusion == (
        "Nothing measurable changed: validation accuracy was between 79.0% and 81.0% for every learning rate "
        "tried, a spread of 0.02, within the 0.025 that two runs of one setting can differ by on 400 validation images."
    )


def test_a_spread_beyond_the_noise_is_an_effect() -> None:
    runs = [lr_run(1e-3, [0.7, 0.70]), lr_run(3e-3, [0.7, 0.80])]
    conclusion = summary_of(experiment({"learning_rate": [1e-3, 3e-3]}, runs)).conclusion
    assert conclusion.startswith("Best learning rate 0.003: validation accuracy 80.0% after 2 epochs.")


def test_when_nothing_learned_no_winner_is_named() -> None:
    runs = [lr_run(1e-5, [0.09, 0.10]), lr_run(1.0, [0.12, 0.14])]
    conclusion = summary_of(experiment({"learning_rate": [1e-5, 1.0]}, runs, train_size=2000)).conclusion
    assert conclusion == (
        "No learning rate tried learned anything in 2 epochs: validation accuracy stayed near chance level (10.0%) "
        "for all, the highest 14.0% with learning rate 1."
    )


def test_the_gap_between_training_and_validation_is_reported_where_it_changes() -> None:
    dropout = floating("dropout", 0.0, 0.8)
    runs = [
        {"dropout": 0.0, "score": 0.62, "val": [0.5, 0.62, 0.60], "train": [0.6, 0.9, 0.99]},
        {"dropout": 0.6, "score": 0.66, "val": [0.4, 0.60, 0.66], "train": [0.4, 0.65, 0.75]},
    ]
    summary = summary_of(experiment({"dropout": [0.0, 0.6]}, runs, space=(dropout,)))
    assert summary.runs[0].gap == pytest.approx(0.39)
    assert (
        "The gap between training and validation accuracy was 0.39 with dropout 0 and 0.09 with dropout 0.6."
        in summary.conclusion
    )


def test_a_peak_before_the_last_epoch_is_called_over_fitting() -> None:
    epochs = integer("epochs", 1, 100)
    runs = [
        {"epochs": 2, "score": 0.5, "val": [0.4, 0.5]},
        {"epochs": 6, "score": 0.7, "val": [0.4, 0.5, 0.6, 0.7, 0.6, 0.55]},
    ]
    conclusion = summary_of(experiment({"epochs": [2, 6]}, runs, space=(epochs,))).conclusion
    assert "With epochs 6, validation accuracy peaked at 70.0% in epoch 4 and ended at 55.0%" in conclusion


def test_time_is_reported_only_for_hyperparameters_that_cost_time() -> None:
    batch = integer("batch_size", 8, 1024)
    runs = [
        {"batch_size": 16, "score": 0.8, "val": [0.8], "duration_s": 30.0},
        {"batch_size": 256, "score": 0.6, "val": [0.6], "duration_s": 10.0},
    ]
    conclusion = summary_of(experiment({"batch_size": [16, 256]}, runs, space=(batch,))).conclusion
    assert "Training took 30 s with batch size 16 and 10 s with batch size 256." in conclusion
    lr_runs = [lr_run(1e-3, [0.8], duration_s=30.0), lr_run(1e-2, [0.6], duration_s=10.0)]
    assert "Training took" not in summary_of(experiment({"learning_rate": [1e-3, 1e-2]}, lr_runs)).conclusion


def test_progress_is_said_while_runs_are_left() -> None:
    runs = [lr_run(1e-3, [0.5, 0.8]), {"learning_rate": 1e-2, "status": "RUNNING", "val": [0.3]}]
    summary = summary_of(experiment({"learning_rate": [1e-3, 1e-2, 1e-1]}, runs, planned=3))
    assert summary.conclusion.startswith("So far 1 of 3 runs have ended (1 finished). Only learning rate 0.001")


def test_two_varied_hyperparameters_say_which_mattered_more_and_fill_a_heatmap() -> None:
    space = (integer("conv_blocks", 1, 4), choice("filters", 8, 32))
    runs = [
        {"conv_blocks": 1, "filters": 8, "score": 0.50, "val": [0.50]},
        {"conv_blocks": 1, "filters": 32, "score": 0.60, "val": [0.60]},
        {"conv_blocks": 2, "filters": 8, "score": 0.70, "val": [0.70]},
        {"conv_blocks": 2, "filters": 32, "score": 0.85, "val": [0.85]},
    ]
    result = experiment({"filters": [8, 32], "conv_blocks": [1, 2]}, runs, space=space)  # keys sorted on disk
    result.config["experiment"]["varied"] = ["conv_blocks", "filters"]
    summary = summary_of(result)
    assert summary.varied == ("conv_blocks", "filters")
    assert summary.runs[3].label == "convolutional blocks 2 · filters 32"
    assert summary.conclusion.startswith(
        "Best convolutional blocks 2 · filters 32: validation accuracy 85.0% after 1 epochs."
    )
    assert "Convolutional blocks mattered more (averaged over filters: 1: 55.0%, 2: 77.5%)." in summary.conclusion
    heat = heatmap_data(summary)
    assert (heat.y_name, heat.x_name, heat.y, heat.x) == ("conv_blocks", "filters", ("1", "2"), ("8", "32"))
    assert heat.z == ((0.5, 0.6), (0.7, 0.85))
    assert heat.text[1] == ("70.0%", "85.0%")


def test_curves_get_one_colour_per_value_in_the_given_order() -> None:
    result = experiment(
        {"learning_rate": [1e-3, 1e-5]}, [lr_run(1e-5, [0.1, 0.2], [0.1, 0.3]), lr_run(1e-3, [0.5, 0.8])]
    )
    summary = summary_of(result)
    assert ordered_labels(summary) == ["0.001", "1e-05"]
    data = experiment_curves_data(summary, result.curves)
    assert [label for label, _ in data.legend] == ["0.001", "1e-05"]
    assert len({color for _, color in data.legend}) == 2
    first = [line for line in data.lines if line.label == "1e-05"]
    assert [(line.split, line.epochs, line.values) for line in first] == [
        ("validation", (1, 2), (0.1, 0.2)),
        ("train", (1, 2), (0.1, 0.3)),
    ]
    assert data.title == "Validation accuracy per epoch, one colour per learning rate"


def test_validation_above_training_under_dropout_is_explained_and_small_gaps_are_not_reported() -> None:
    dropout = floating("dropout", 0.0, 0.8)
    runs = [
        {"dropout": 0.0, "score": 0.60, "val": [0.5, 0.60], "train": [0.8, 0.71]},
        {"dropout": 0.3, "score": 0.70, "val": [0.5, 0.70], "train": [0.5, 0.58]},
    ]
    conclusion = summary_of(experiment({"dropout": [0.0, 0.3]}, runs, space=(dropout,))).conclusion
    assert conclusion.endswith(
        "The gap between training and validation accuracy was 0.11 with dropout 0; with dropout 0.3 validation "
        "scored above training, which is measured with dropout on."
    )
    runs = [lr_run(1e-3, [0.5, 0.9], [0.5, 0.95]), lr_run(1e-2, [0.4, 0.5], [0.4, 0.41])]
    assert "gap" not in summary_of(experiment({"learning_rate": [1e-3, 1e-2]}, runs)).conclusion


def test_an_effect_that_reverses_with_the_other_hyperparameter_is_named() -> None:
    space = (choice("optimizer", "sgd", "adam", "rmsprop"), floating("momentum", 0.0, 0.99))
    runs = [
        {"optimizer": "sgd", "momentum": 0.0, "score": 0.75, "val": [0.75]},
        {"optimizer": "sgd", "momentum": 0.9, "score": 0.985, "val": [0.985]},
        {"optimizer": "adam", "momentum": None, "score": 0.99, "val": [0.99]},
        {"optimizer": "rmsprop", "momentum": 0.0, "score": 0.985, "val": [0.985]},
        {"optimizer": "rmsprop", "momentum": 0.9, "score": 0.665, "val": [0.665]},
    ]
    vary = {"optimizer": ["sgd", "adam", "rmsprop"], "momentum": [0.0, 0.9]}
    conclusion = summary_of(experiment(vary, runs, space=space)).conclusion
    assert (
        "The effect of momentum depended on optimizer: with optimizer sgd, momentum 0 -> 0.9 took it from 75.0% "
        "to 98.5%; with optimizer rmsprop, momentum 0 -> 0.9 took it from 98.5% to 66.5%." in conclusion
    )


def test_validation_loss_rising_again_is_called_over_fitting() -> None:
    epochs = integer("epochs", 1, 100)
    result = experiment(
        {"epochs": [2, 8]},
        [
            {"epochs": 2, "score": 0.5, "val": [0.4, 0.5]},
            {"epochs": 8, "score": 0.8, "val": [0.5, 0.6, 0.7] + [0.8] * 5},
        ],
        space=(epochs,),
    )
    losses = [1.0, 0.6, 0.5, 0.4, 0.45, 0.5, 0.55, 0.6]
    extra = curves_frame([("0001", 0, e, "val_loss", v) for e, v in enumerate(losses, start=1)], "engine")
    result.curves = pd.concat([result.curves, extra], ignore_index=True)
    conclusion = summary_of(result).conclusion
    assert conclusion.endswith(
        "With epochs 8 the validation loss was lowest in epoch 4 (0.4) and rose to 0.6 by epoch 8: the network "
        "began to memorise its training images (over-fitting)."
    )
