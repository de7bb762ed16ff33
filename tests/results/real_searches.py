"""Project folders made by real keras-tuner searches that train nothing (fast), or a tiny real model.

``FakeTrainingTuner.run_trial`` returns metrics computed from the hyperparameters, so a whole search takes
milliseconds while every file is written by Keras Tuner itself. The space has every kind of
hyperparameter: log-scale Float, Choice of strings, a conditional Float, Boolean, Fixed with a ``/`` in
its name, and Int; trials with 16 units fail.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras_tuner

SEED = 1


class SpaceModel(keras_tuner.HyperModel):
    """Declares the space; builds no model (the tuner below trains nothing)."""

    def build(self, hp: keras_tuner.HyperParameters) -> None:
        hp.Float("lr", 1e-4, 1e-1, sampling="log")
        hp.Choice("optimizer", ["adam", "sgd"])
        with hp.conditional_scope("optimizer", ["sgd"]):
            hp.Float("momentum", 0.0, 0.9, step=0.1)
        hp.Boolean("batch_norm", default=True)
        hp.Fixed("batch/size", 32)
        hp.Int("units", 8, 64, step=8)


class FakeTrainingTuner(keras_tuner.Tuner):
    """Reports metrics derived from the hyperparameters; a trial with 16 units fails."""

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        hp = trial.hyperparameters
        self.hypermodel.build(hp)
        if hp.get("units") == 16:
            raise ValueError("sixteen units are not allowed")
        lr = hp.get("lr")
        accuracy = 0.5 + 0.1 * math.log10(lr * 1e4) / 3 + 0.01 * hp.get("units") / 64
        return {
            "val_accuracy": accuracy,
            "accuracy": accuracy + 0.05,
            "val_loss": 1.6 - accuracy,
            "loss": 1.5 - accuracy,
        }


def oracle_for(tuner: str, *, objective: str = "val_accuracy") -> keras_tuner.Oracle:
    direction = "min" if "loss" in objective else "max"
    common: dict[str, Any] = {"objective": keras_tuner.Objective(objective, direction), "seed": SEED}
    if tuner == "hyperband":
        return keras_tuner.oracles.HyperbandOracle(max_epochs=3, factor=3, **common)
    oracles = {
        "random": keras_tuner.oracles.RandomSearchOracle,
        "bayesian": keras_tuner.oracles.BayesianOptimizationOracle,
        "grid": keras_tuner.oracles.GridSearchOracle,
    }
    return oracles[tuner](max_trials=5, **common)


def fake_search(directory: Path, name: str, tuner: str, *, objective: str = "val_accuracy") -> FakeTrainingTuner:
    """Run a whole search into ``directory/name``; returns the tuner (its oracle holds the truth)."""
    search = FakeTrainingTuner(
        oracle=oracle_for(tuner, objective=objective),
        hypermodel=SpaceModel(),
        directory=str(directory),
        project_name=name,
        overwrite=True,
    )
    search.search(verbose=0)
    return search


def tensorboard_search(directory: Path, name: str = "tb", *, epochs: int = 2) -> keras_tuner.Tuner:
    """A real tiny Keras model trained ``epochs`` epochs per trial, with the TensorBoard callback in
    ``directory/logs`` (the usual place: a ``logs`` folder beside the project)."""
    import keras
    import numpy as np

    def build(hp: keras_tuner.HyperParameters) -> keras.Model:
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(hp.Choice("units", [2, 4])), keras.layers.Dense(1, "sigmoid")]
        )
        lr = hp.Float("lr", 1e-3, 1e-1, sampling="log")
        model.compile(keras.optimizers.Adam(lr), loss="binary_crossentropy", metrics=["accuracy"])
        return model

    rng = np.random.default_rng(0)
    x = rng.random((64, 4), dtype="float32")
    y = (x[:, 0] > 0.5).astype("float32")
    search = keras_tuner.RandomSearch(
        build, objective="val_loss", max_trials=2, directory=str(directory), project_name=name, seed=SEED
    )
    logs = keras.callbacks.TensorBoard(str(directory / "logs"))
    search.search(x, y, epochs=epochs, validation_split=0.25, callbacks=[logs], verbose=0)
    return search
