"""The best trial of a search, its hyperparameters, and its model rebuilt with the weights Keras Tuner saved.

Only searches made by this app can be rebuilt: their ``explorer/config.json`` holds the search space and the
model-building code is ``tuning.engine.hypermodel``. Keras Tuner's own files give the rest: ``trial_<id>/trial.json``
(read with ``keras_tuner``'s ``Trial.load``) and the weights of the trial's best epoch,
``trial_<id>/checkpoint.weights.h5``. Weights are plain arrays (HDF5), never code; nothing here is unpickled.
The held-out test set is the one the search's data settings kept aside (``tuning.data.load_dataset``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tuning.errors import ConfigError, SearchNotFoundError, SearchStateError
from tuning.export.common import hp_values, plain
from tuning.export.script import best_epochs
from tuning.results.model import ProjectResult
from tuning.space.config import SearchConfig

if TYPE_CHECKING:
    import keras

    from tuning.data.rows import ImageRows

WEIGHTS_FILE = "checkpoint.weights.h5"


class MissingWeightsError(SearchStateError):
    """The best trial's saved weights are not on disk (pruned, deleted, or the trial never saved any)."""


@dataclass(frozen=True)
class BestTrial:
    """The best completed trial of a project: its id, number, score and hyperparameter values.

    ``hyperparameters`` holds the active values by plain name (inactive conditional ones left out);
    ``weights`` is where Keras Tuner keeps the weights of its best epoch (it may be missing).
    """

    project_dir: Path
    trial_id: str
    number: int | None
    objective: str
    direction: str
    score: float | None
    hyperparameters: dict[str, Any]
    weights: Path

    @property
    def has_weights(self) -> bool:
        return self.weights.is_file()


@dataclass(frozen=True, eq=False)
class HeldOutSet:
    """The held-out test images of a search (never used to choose hyperparameters) and their labels."""

    name: str
    label: str
    class_names: tuple[str, ...]
    x: np.ndarray | ImageRows  # uint8 (N, 32, 32, 3); CIFAR-10's stay in its memory-mapped cache
    y: np.ndarray  # int64 (N,)

    def __len__(self) -> int:
        return len(self.y)


def rebuild_reason(result: ProjectResult) -> str | None:
    """Why the best model of ``result`` cannot be rebuilt here, or None when it can."""
    if not result.made_by_us:
        return (
            f"{result.project_dir} was not made by Hyperparameter Explorer: Keras Tuner keeps only the "
            "hyperparameter values and weights, not the code that builds the model, so the model cannot be "
            "rebuilt or evaluated here. Its trials, scores and charts can still be analysed on the Analyse page, "
            "and its best hyperparameters downloaded as JSON."
        )
    if result.best_trial_id is None:
        return f"No trial of {result.project_dir} has completed yet: there is no best model to rebuild."
    return None


def best_trial(result: ProjectResult) -> BestTrial:
    """The best completed trial of any project (ours or not). ``SearchStateError`` when none has completed."""
    trial_id = result.best_trial_id
    if trial_id is None:
        raise SearchStateError(
            f"No trial of {result.project_dir} has completed yet, so there is no best trial. "
            "Wait for a trial to finish, or resume the search."
        )
    row = result.trials.loc[trial_id]
    number, score = plain(row.get("number")), plain(row.get("score"))
    return BestTrial(
        project_dir=result.project_dir,
        trial_id=trial_id,
        number=None if number is None else int(number),
        objective=result.objective.name,
        direction=result.objective.direction,
        score=None if score is None else float(score),
        hyperparameters=hp_values(result, trial_id),
        weights=result.project_dir / f"trial_{trial_id}" / WEIGHTS_FILE,
    )


def best_hyperparameters(result: ProjectResult) -> dict[str, Any]:
    """The best trial and its hyperparameter values as a JSON-able dict (any project, ours or not)."""
    best = best_trial(result)
    return {
        "project": result.name,
        "trial_id": best.trial_id,
        "trial_number": best.number,
        "objective": {"name": best.objective, "direction": best.direction},
        "score": best.score if best.score is not None and math.isfinite(best.score) else None,
        "hyperparameters": best.hyperparameters,
    }


def best_hyperparameters_json(result: ProjectResult) -> str:
    """``best_hyperparameters`` as indented JSON text (for a download)."""
    return json.dumps(best_hyperparameters(result), indent=2) + "\n"


def search_config(result: ProjectResult) -> SearchConfig:
    """The saved configuration of a search made by this app; ``SearchNotFoundError`` for any other project."""
    if not result.made_by_us or result.config is None:
        raise SearchNotFoundError(rebuild_reason(result) or f"{result.project_dir} has no configuration.")
    try:
        return SearchConfig.from_dict(result.config)
    except ConfigError as error:
        raise SearchStateError(
            f"The configuration of {result.project_dir} cannot be read ({error}); the model cannot be rebuilt."
        ) from None


def default_epochs(result: ProjectResult) -> int:
    """How many epochs the best trial trained to reach its best score: a sensible length for final training."""
    best = best_trial(result)
    return best_epochs(result, best.trial_id, hp_values(result, best.trial_id, inactive=True))[0]


def load_test_set(config: SearchConfig) -> HeldOutSet:
    """The held-out test set of a search's data settings: the very images the search kept aside."""
    from tuning.data import load_dataset

    data = load_dataset(config.data)
    return HeldOutSet(data.name, data.label, tuple(data.class_names), data.x_test, data.y_test)


def load_best_model(result: ProjectResult) -> keras.Model:
    """The best trial's model, rebuilt by this app's HyperModel from its ``trial.json``, with its saved weights.

    ``SearchNotFoundError`` for a project not made by this app; ``MissingWeightsError`` when the weights are
    gone; ``SearchStateError`` when no trial completed or the weights do not fit the rebuilt model.
    """
    import keras_tuner

    from tuning.engine.hypermodel import CifarHyperModel

    config = search_config(result)
    best = best_trial(result)
    if not best.has_weights:
        raise MissingWeightsError(
            f"The weights of the best trial ({best.trial_id}) are not in {best.weights.parent}: expected "
            f"{WEIGHTS_FILE}, which Keras Tuner saves at the trial's best epoch (they may have been deleted). "
            "Train the best configuration again (final training) to get a model to evaluate."
        )
    trial = keras_tuner.engine.trial.Trial.load(str(best.weights.parent / "trial.json"))
    hypermodel = CifarHyperModel(config.space, tune_epochs=config.tuner != "hyperband", seed=config.seed)
    model = hypermodel.build(trial.hyperparameters)
    model.optimizer.build(model.trainable_variables)  # the checkpoint holds the optimizer's state too
    try:
        model.load_weights(str(best.weights))
    except (ValueError, OSError, KeyError) as error:
        raise SearchStateError(
            f"The weights in {best.weights} do not fit the model rebuilt from trial {best.trial_id}'s "
            f"hyperparameters ({type(error).__name__}: {error}). Train the best configuration again instead."
        ) from None
    return model


def trial_table(best: BestTrial) -> pd.DataFrame:
    """The best trial's hyperparameters as a two-column table (name, value as text)."""
    rows = [(name, _text(value)) for name, value in best.hyperparameters.items()]
    return pd.DataFrame(rows, columns=["hyperparameter", "value"])


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
