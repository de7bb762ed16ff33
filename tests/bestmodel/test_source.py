"""The best trial of a real search: its hyperparameters, its model rebuilt with the saved weights, its test set."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from searches import tiny_config, trial_files
from tests.results.factories import make_project
from tuning.bestmodel import (
    MissingWeightsError,
    best_hyperparameters,
    best_hyperparameters_json,
    best_trial,
    load_best_model,
    load_test_set,
    model_choices,
    rebuild_reason,
    search_config,
)
from tuning.data import SYNTHETIC_CLASSES, load_dataset
from tuning.engine import jobs
from tuning.errors import SearchNotFoundError, SearchStateError
from tuning.results import load_project


def oracle_best(project_dir: Path) -> tuple[str, dict]:
    """The best completed trial straight from Keras Tuner's trial files (val_accuracy, higher is better)."""
    trials = {k: t for k, t in trial_files(project_dir).items() if t["status"] == "COMPLETED"}
    trial_id = max(trials, key=lambda k: trials[k]["score"])
    return trial_id, trials[trial_id]


def test_best_hyperparameters_are_the_best_trials(finished: Path) -> None:
    result = load_project(finished)
    trial_id, trial = oracle_best(finished)
    data = best_hyperparameters(result)
    assert data["trial_id"] == trial_id and data["project"] == "done"
    assert data["score"] == pytest.approx(trial["score"])
    assert data["objective"] == {"name": "val_accuracy", "direction": "max"}
    assert data["hyperparameters"] == trial["hyperparameters"]["values"]  # no inactive dense_units / momentum
    assert json.loads(best_hyperparameters_json(result)) == data
    best = best_trial(result)
    assert best.number == int(result.trials.at[trial_id, "number"])
    assert best.weights == finished / f"trial_{trial_id}" / "checkpoint.weights.h5" and best.has_weights


def test_rebuilt_model_has_the_saved_weights(finished: Path) -> None:
    result = load_project(finished)
    trial_id, trial = oracle_best(finished)
    assert rebuild_reason(result) is None
    model = load_best_model(result)
    conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    assert conv.filters == trial["hyperparameters"]["values"]["filters"]
    with h5py.File(finished / f"trial_{trial_id}" / "checkpoint.weights.h5", "r") as saved:
        kernel, bias = saved["layers/conv2d/vars/0"][()], saved["layers/conv2d/vars/1"][()]
        dense = saved["layers/dense/vars/0"][()]
    np.testing.assert_array_equal(conv.kernel.numpy(), kernel)
    np.testing.assert_array_equal(conv.bias.numpy(), bias)
    np.testing.assert_array_equal(model.get_layer("class").kernel.numpy(), dense)
    assert not np.allclose(kernel, 0)


def test_test_set_is_the_one_the_search_kept_aside(finished: Path) -> None:
    config = search_config(load_project(finished))
    test_set = load_test_set(config)
    data = load_dataset(config.data)
    assert len(test_set) == config.data.test_size == 100
    assert test_set.class_names == SYNTHETIC_CLASSES and test_set.label == data.label
    np.testing.assert_array_equal(test_set.x, data.x_test)
    np.testing.assert_array_equal(test_set.y, data.y_test)
    assert np.bincount(test_set.y).tolist() == [10] * 10
    train = {image.tobytes() for image in np.concatenate([data.x_train, data.x_val])}
    assert not any(image.tobytes() in train for image in test_set.x)


def test_missing_weights_are_named_and_final_training_offered(search_copy: Path) -> None:
    result = load_project(search_copy)
    best = best_trial(result)
    best.weights.unlink()
    assert model_choices(result)[0].available is False
    with pytest.raises(MissingWeightsError) as caught:
        load_best_model(result)
    message = str(caught.value)
    assert f"best trial ({best.trial_id})" in message and "checkpoint.weights.h5" in message
    assert str(best.weights.parent) in message and "Train the best configuration again" in message


def test_weights_that_do_not_fit_the_model_are_refused(search_copy: Path) -> None:
    result = load_project(search_copy)
    best = best_trial(result)
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    other.save_weights(best.weights)
    with pytest.raises(SearchStateError, match="do not fit the model rebuilt from trial"):
        load_best_model(result)


def test_foreign_project_says_why_it_cannot_be_rebuilt(tmp_path: Path) -> None:
    result = load_project(make_project(tmp_path, n_trials=4))
    reason = rebuild_reason(result)
    assert reason is not None and "not made by Hyperparameter Explorer" in reason
    assert "code that builds the model" in reason and "Analyse page" in reason
    with pytest.raises(SearchNotFoundError, match="not made by Hyperparameter Explorer"):
        load_best_model(result)
    data = best_hyperparameters(result)  # still offered for any project
    assert data["trial_id"] == result.best_trial_id
    assert data["score"] == pytest.approx(float(result.trials.at[result.best_trial_id, "score"]))
    assert set(data["hyperparameters"]) <= set(result.hyperparameters) and data["hyperparameters"]


def test_search_without_a_completed_trial(tmp_path: Path) -> None:
    result = load_project(jobs.create_search(tiny_config(), tmp_path, "fresh"))
    assert (
        rebuild_reason(result)
        == f"No trial of {result.project_dir} has completed yet: there is no best model to rebuild."
    )
    with pytest.raises(SearchStateError, match=r"No trial of .* has completed yet"):
        best_trial(result)
