"""``to_python``: a standalone script that rebuilds, trains and saves the best configuration of a search.

Only searches made by this app can be exported so: the script rebuilds the model with
``tuning.engine.hypermodel.build_model`` and the data with ``tuning.data.load_dataset``, from the best trial's values
and the search's saved data settings. A directory made elsewhere does not hold its model-building code.
"""

from __future__ import annotations

import math
import pprint
import string
import time
from pathlib import Path
from typing import Any

import pandas as pd

import tuning
from tuning.errors import ExportError
from tuning.export.common import hp_values, plain
from tuning.results.model import ProjectResult
from tuning.space.config import SearchConfig

OUTPUT = "best_model.keras"

_TEMPLATE = string.Template('''\
r"""Rebuild, train and save the best model of the search "$name".

Written by Hyperparameter Explorer on $date from $project_dir.
Best trial: $trial_label (id $trial_id), $objective = $score.

This script imports Hyperparameter Explorer's `tuning` package (its model-building code and dataset
loader). Run it from the repository's root folder, where `tuning/` is:

    python best_model.py [OUTPUT.keras]

It loads the same data as the search ($dataset), trains the best configuration for $epochs epochs
($epochs_why), prints the validation metrics, evaluates the model on the held-out test set (never used
to choose hyperparameters) and saves it to OUTPUT.keras (default: $output).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Where Hyperparameter Explorer was when this script was written; used only if `tuning` cannot be imported.
EXPLORER_ROOT = $root
try:
    import tuning  # noqa: F401
except ImportError:
    sys.path.insert(0, EXPLORER_ROOT)

import keras

from tuning.data import DataSpec, load_dataset, make_tf_dataset
from tuning.engine.hypermodel import build_model, one_hot

# The best trial's hyperparameter values (None: not used by this configuration).
HYPERPARAMETERS = $values

# The search's data settings: dataset, sizes of the training+validation and test subsets, seed.
DATA = $data

SEED = $seed
EPOCHS = $epochs
OUTPUT = "$output"


def dataset(x, y, n_classes: int, *, training: bool):
    batch_size = int(HYPERPARAMETERS["batch_size"])
    return make_tf_dataset(x, one_hot(y, n_classes), batch_size=batch_size, training=training, seed=SEED)


def main(argv: list[str]) -> int:
    output = Path(argv[1]) if len(argv) > 1 else Path(OUTPUT)
    data = load_dataset(DataSpec.from_dict(DATA))
    n_classes = len(data.class_names)
    print(f"{data.label}: {len(data.y_train)} training, {len(data.y_val)} validation, {len(data.y_test)} test images")
    keras.utils.set_random_seed(SEED)
    model = build_model(HYPERPARAMETERS, num_classes=n_classes, seed=SEED)
    train = dataset(data.x_train, data.y_train, n_classes, training=True)
    validation = dataset(data.x_val, data.y_val, n_classes, training=False)
    model.fit(train, validation_data=validation, epochs=EPOCHS, verbose=2)
    if len(data.y_test):
        test = dataset(data.x_test, data.y_test, n_classes, training=False)
        scores = model.evaluate(test, verbose=0, return_dict=True)
        print("Held-out test set: " + ", ".join(f"{name} {value:.4f}" for name, value in scores.items()))
    else:
        print("No held-out test set (its size is 0): nothing to evaluate.")
    model.save(output)
    print(f"Saved the trained model to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
''')


def _config(result: ProjectResult) -> SearchConfig:
    if not result.made_by_us:
        raise ExportError(
            f"Cannot write a Python script for {result.project_dir}: this search was not made by Hyperparameter "
            "Explorer: its model-building code is not in the directory, only the hyperparameter values. "
            "Export csv, json or html instead."
        )
    return SearchConfig.from_dict(result.config)


def best_epochs(result: ProjectResult, trial_id: str, values: dict[str, Any]) -> tuple[int, str]:
    """How many epochs to train from scratch to reach the best trial's best epoch, and why.

    Keras Tuner's ``best_step`` counts from the trial's first epoch (``hb:initial_epoch`` for a Hyperband
    trial that continued another one's training).
    """
    row = result.trials.loc[trial_id]
    initial = plain(row.get("hb:initial_epoch")) or 0
    trained = plain(row.get("hb:epochs")) or plain(values.get("epochs"))
    step = plain(row.get("best_step"))
    if step is None:
        epochs = int(trained or 1)
        return epochs, f"as many as trial {trial_id} trained"
    epochs = int(initial) + int(step) + 1
    if trained:
        epochs = min(epochs, int(trained))
    of = f" of {int(trained)}" if trained else ""
    return epochs, f"trial {trial_id} scored its best {result.objective.name} at epoch {epochs}{of}"


def _text(value: Any) -> str:
    """``value`` made safe inside the script's docstring."""
    return str(value).replace('"' * 3, "'" * 3)


def _literal(value: Any) -> str:
    """A Python literal of ``value`` that evaluates back to it (floats kept exact)."""
    return pprint.pformat(value, indent=4, width=100, sort_dicts=False)


def _package_root() -> str:
    return str(Path(tuning.__file__).resolve().parent.parent)


def to_python(result: ProjectResult) -> str:
    """A script that trains the best configuration on the search's data, tests it and saves it.

    Raises ``ExportError`` for a directory not made by this app, or one without a completed trial.
    """
    config = _config(result)
    trial_id = result.best_trial_id
    if trial_id is None:
        raise ExportError(f"Cannot write a Python script for {result.project_dir}: no trial has completed yet.")
    values = hp_values(result, trial_id, inactive=True)
    epochs, why = best_epochs(result, trial_id, values)
    score = float(result.trials.at[trial_id, "score"])
    number = result.trials.at[trial_id, "number"]
    return _TEMPLATE.substitute(
        name=_text(result.name),
        date=time.strftime("%Y-%m-%d %H:%M"),
        project_dir=_text(result.project_dir),
        trial_label="trial ?" if pd.isna(number) else f"trial {number}",
        trial_id=trial_id,
        objective=result.objective.name,
        score=f"{score:.6g}" if math.isfinite(score) else score,
        dataset=config.data.name,
        epochs=epochs,
        epochs_why=why,
        output=OUTPUT,
        root=repr(_package_root()),
        values=_literal(values),
        data=_literal(config.data.to_dict()),
        seed=config.seed,
    )
