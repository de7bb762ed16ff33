"""The best model of a search: rebuilt with its saved weights, evaluated on the held-out test set, trained again.

- ``tuning.bestmodel.source``: the best trial, its hyperparameters (JSON), the model rebuilt from Keras Tuner's
  ``trial.json`` and ``checkpoint.weights.h5``, the search's test set; why a foreign project cannot be rebuilt.
- ``tuning.bestmodel.evaluate``: accuracy, loss, per-class scores, confusion matrix; a gallery of test images.
- ``tuning.bestmodel.models``: the models a search offers (best trial's, final) and evaluating one of them.
- ``tuning.bestmodel.final``: final training on the whole training set as a background job (start, stop,
  status, the saved ``.keras`` model, loaded in safe mode); ``tuning.bestmodel.trainer`` is that job's process.

TensorFlow is imported only by the functions that build, load or run a model.

May import: the wings below the pages (``engine``, ``results``, ``export``, ``space``, ``data``, ``store``).
"""

from __future__ import annotations

from tuning.bestmodel.evaluate import ClassScores, Evaluation, GalleryItem, evaluate, gallery
from tuning.bestmodel.final import (
    FinalHandle,
    FinalPaths,
    FinalStatus,
    final_model_path,
    load_final_model,
    read_final_metrics,
    read_final_status,
    start_final_training,
    stop_final_training,
)
from tuning.bestmodel.models import ModelChoice, Which, evaluate_saved, model_choices
from tuning.bestmodel.source import (
    BestTrial,
    HeldOutSet,
    MissingWeightsError,
    best_hyperparameters,
    best_hyperparameters_json,
    best_trial,
    default_epochs,
    load_best_model,
    load_test_set,
    rebuild_reason,
    search_config,
    trial_table,
)

__all__ = [
    "BestTrial",
    "ClassScores",
    "Evaluation",
    "FinalHandle",
    "FinalPaths",
    "FinalStatus",
    "GalleryItem",
    "HeldOutSet",
    "MissingWeightsError",
    "ModelChoice",
    "Which",
    "best_hyperparameters",
    "best_hyperparameters_json",
    "best_trial",
    "default_epochs",
    "evaluate",
    "evaluate_saved",
    "final_model_path",
    "gallery",
    "load_best_model",
    "load_final_model",
    "load_test_set",
    "model_choices",
    "read_final_metrics",
    "read_final_status",
    "rebuild_reason",
    "search_config",
    "start_final_training",
    "stop_final_training",
    "trial_table",
]
