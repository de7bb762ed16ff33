"""The synthetic set shows the well-known effects of hyperparameters, as CIFAR-10 does (issue 12).

Each test trains the engine's own ``build_model`` on ``load_dataset`` arrays through the real input
pipeline, at the quick demo's budget (2,000 images, validation split 0.2, 5 epochs) or smaller.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import pytest

from tuning.data import Dataset, DataSpec, load_dataset, make_tf_dataset
from tuning.engine.hypermodel import SMALL_CNN, build_model, one_hot

# The space's default: batch normalisation on, Adam at 1e-3.
SENSIBLE = SMALL_CNN | {"batch_norm": True, "learning_rate": 1e-3}
DEMO_EPOCHS = 5


def _train(values: dict[str, Any], data: Dataset, *, epochs: int, n_train: int | None = None) -> dict[str, list]:
    """Per-epoch ``accuracy``, ``val_accuracy`` and ``loss`` of ``values`` trained on ``data``."""
    keras.utils.set_random_seed(0)
    model = build_model(values, seed=0)
    x, y = data.x_train[:n_train], data.y_train[:n_train]
    batch = int(values["batch_size"])
    train = make_tf_dataset(x, one_hot(y), batch_size=batch, training=True, seed=0)
    val = make_tf_dataset(data.x_val, one_hot(data.y_val), batch_size=256, training=False)
    return model.fit(train, validation_data=val, epochs=epochs, shuffle=False, verbose=0).history


@pytest.fixture(scope="module")
def demo_data() -> Dataset:
    return load_dataset(DataSpec(name="synthetic", train_size=2000, validation_split=0.2, test_size=0, seed=0))


@pytest.fixture(scope="module")
def sensible(demo_data: Dataset) -> dict[str, list]:
    return _train(SENSIBLE, demo_data, epochs=DEMO_EPOCHS)


def test_a_sensible_cnn_learns_within_the_demo_budget_but_not_at_once(sensible: dict[str, list]) -> None:
    assert sensible["val_accuracy"][-1] >= 0.8
    assert sensible["val_accuracy"][0] < 0.7 and sensible["accuracy"][0] < 0.7  # the curves rise


def test_batch_normalisation_helps(demo_data: Dataset, sensible: dict[str, list]) -> None:
    plain = _train(SENSIBLE | {"batch_norm": False}, demo_data, epochs=2)
    assert sensible["val_accuracy"][1] >= plain["val_accuracy"][1] + 0.2


def test_batch_normalisation_tolerates_a_larger_learning_rate(demo_data: Dataset) -> None:
    # SGD with momentum, as in the batch normalisation paper: at 0.1 only the normalised network learns.
    fast = SENSIBLE | {"optimizer": "sgd", "momentum": 0.9, "learning_rate": 0.1}
    normalised = _train(fast, demo_data, epochs=DEMO_EPOCHS)
    plain = _train(fast | {"batch_norm": False}, demo_data, epochs=DEMO_EPOCHS)
    assert max(normalised["val_accuracy"]) >= 0.6
    assert max(plain["val_accuracy"][1:]) <= 0.2 or math.isnan(plain["loss"][-1])


def test_a_far_too_large_learning_rate_fails(demo_data: Dataset) -> None:
    history = _train(SENSIBLE | {"learning_rate": 1.0}, demo_data, epochs=2)
    assert math.isnan(history["loss"][-1]) or history["val_accuracy"][-1] <= 0.2


def test_a_far_too_small_learning_rate_crawls(demo_data: Dataset, sensible: dict[str, list]) -> None:
    history = _train(SENSIBLE | {"learning_rate": 1e-5}, demo_data, epochs=DEMO_EPOCHS)
    assert history["val_accuracy"][-1] <= sensible["val_accuracy"][-1] - 0.4


def _gap(history: dict[str, list]) -> float:
    return float(np.mean(history["accuracy"][-2:]) - np.mean(history["val_accuracy"][-2:]))


def test_dropout_narrows_the_gap_on_a_small_training_set(demo_data: Dataset) -> None:
    values = SENSIBLE | {"dense_units": 128}
    without = _train(values, demo_data, epochs=12, n_train=300)
    with_dropout = _train(values | {"dropout": 0.5}, demo_data, epochs=12, n_train=300)
    assert _gap(without) > 0.05  # over-fitting shows
    assert _gap(with_dropout) <= _gap(without) - 0.1
