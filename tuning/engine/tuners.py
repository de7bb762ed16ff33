"""Keras Tuner's four tuners, made safe to stop, kill and resume.

We extend Keras Tuner through its own hooks and fix three of its pitfalls here, in one place:

* its JSON files are written in place; ours write the same content atomically, so a kill mid-write
  cannot leave a truncated ``oracle.json`` or ``trial.json`` behind;
* ``tuner0.json`` is first written at the end of trial 0, so a kill during the first trial made the next
  run start over; we save it when the search begins;
* ``GridSearchOracle`` keeps its position in the grid outside its saved state, so resuming a grid search
  raised ``KeyError`` (keras-tuner 1.4.8); we save and restore that position.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras_tuner
from keras_tuner.src.tuners.gridsearch import LinkedList

from tuning.engine.hypermodel import CifarHyperModel
from tuning.errors import SearchStateError
from tuning.store.paths import write_text_atomic

if TYPE_CHECKING:
    from tuning.engine.recorder import Recorder
    from tuning.space.config import SearchConfig


class AtomicOracleMixin:
    """Writes ``oracle.json`` and every ``trial.json`` atomically, with Keras Tuner's exact content."""

    def save(self) -> None:
        write_text_atomic(self._get_oracle_fname(), json.dumps(self.get_state()))

    def _save_trial(self, trial: keras_tuner.engine.trial.Trial) -> None:
        fname = Path(self._get_trial_dir(trial.trial_id)) / "trial.json"
        write_text_atomic(fname, json.dumps(trial.get_state()))


class RandomOracle(AtomicOracleMixin, keras_tuner.oracles.RandomSearchOracle):
    pass


class BayesianOracle(AtomicOracleMixin, keras_tuner.oracles.BayesianOptimizationOracle):
    pass


class HyperbandOracle(AtomicOracleMixin, keras_tuner.oracles.HyperbandOracle):
    def trials_still_needed(self) -> set[str]:
        """Trials of unfinished brackets: their weights may still be promoted to the next round."""
        needed: set[str] = set()
        for bracket in self._brackets:
            rounds = bracket["rounds"]
            last = len(rounds) - 1
            if len(rounds[last]) == self._get_size(bracket["bracket_num"], last):
                continue
            needed.update(info["id"] for round_ in rounds for info in round_)
        return needed


class GridOracle(AtomicOracleMixin, keras_tuner.oracles.GridSearchOracle):
    """Grid search whose position in the grid survives a restart."""

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state["ordered_ids"] = _linked_list_items(self._ordered_ids)
        state["populate_next"] = list(self._populate_next)
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self._ordered_ids = LinkedList()
        for trial_id in state.get("ordered_ids", []):
            self._ordered_ids.insert(trial_id)
        self._populate_next = list(state.get("populate_next", []))


def _linked_list_items(linked: LinkedList) -> list[Any]:
    items = []
    index = linked._next_index[None]
    while index is not None:
        items.append(linked._memory[index])
        index = linked._next_index[index]
    return items


class EngineTunerMixin:
    """Forwards Keras Tuner's hooks to the recorder, and saves the tuner state from the start."""

    recorder: Recorder

    def save(self) -> None:
        if not self._is_worker():
            self.oracle.save()
        write_text_atomic(self._get_tuner_fname(), json.dumps(self.get_state()))

    def on_search_begin(self) -> None:
        super().on_search_begin()
        self.save()

    def pre_create_trial(self) -> None:
        super().pre_create_trial()
        self.recorder.before_trial(self)

    def on_trial_begin(self, trial: Any) -> None:
        super().on_trial_begin(trial)
        self.recorder.trial_begin(self, trial)

    def on_epoch_begin(self, trial: Any, model: Any, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_begin(trial, model, epoch, logs)
        self.recorder.epoch_begin(trial, model, epoch)

    def on_batch_end(self, trial: Any, model: Any, batch: int, logs: dict | None = None) -> None:
        super().on_batch_end(trial, model, batch, logs)
        self.recorder.batch_end(trial, batch, logs)

    def on_epoch_end(self, trial: Any, model: Any, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_end(trial, model, epoch, logs)
        self.recorder.epoch_end(trial, model, epoch, logs)

    def on_trial_end(self, trial: Any) -> None:
        self.recorder.prepare_trial_end(trial)
        super().on_trial_end(trial)
        self.recorder.trial_end(self, trial)


class EngineTuner(EngineTunerMixin, keras_tuner.Tuner):
    pass


class EngineHyperband(EngineTunerMixin, keras_tuner.Hyperband):
    """Hyperband's trial logic (epochs from the bracket, weights from the parent) with our oracle."""

    def __init__(self, *, oracle: HyperbandOracle, **kwargs: Any) -> None:
        keras_tuner.Tuner.__init__(self, oracle=oracle, **kwargs)

    def _build_hypermodel(self, hp: keras_tuner.HyperParameters) -> Any:
        """Like Hyperband's, but a promoted trial also gets its parent's optimizer state back."""
        model = keras_tuner.Tuner._build_hypermodel(self, hp)
        parent = hp.values.get("tuner/trial_id")
        if parent is not None:
            model.optimizer.build(model.trainable_variables)
            model.load_weights(self._get_checkpoint_fname(parent))
        return model


def make_oracle(config: SearchConfig) -> keras_tuner.Oracle:
    """The oracle for the configuration's tuner, objective, budget and seed."""
    common: dict[str, Any] = {
        "objective": keras_tuner.Objective(config.objective, config.direction),
        "seed": config.seed,
        # Consecutive failures are counted by the recorder, after each trial is saved.
        "max_consecutive_failed_trials": 10**9,
    }
    if config.tuner == "hyperband":
        return HyperbandOracle(
            max_epochs=config.hyperband_max_epochs,
            factor=config.hyperband_factor,
            hyperband_iterations=config.hyperband_iterations,
            **common,
        )
    oracle_class = {"random": RandomOracle, "bayesian": BayesianOracle, "grid": GridOracle}[config.tuner]
    return oracle_class(max_trials=config.max_trials, **common)


def make_tuner(
    config: SearchConfig, project_dir: Path, recorder: Recorder, *, trains: bool = True
) -> keras_tuner.Tuner:
    """A tuner on ``project_dir`` (reloaded if it holds a saved search) that reports to ``recorder``.

    ``trains=False``: a tuner whose hypermodel only declares the space (a group's leader, which never trains).
    """
    hyperband = config.tuner == "hyperband"
    hypermodel = CifarHyperModel(config.space, tune_epochs=not hyperband, seed=config.seed, declare_only=not trains)
    tuner_class = EngineHyperband if hyperband else EngineTuner
    tuner = tuner_class(
        oracle=make_oracle(config),
        hypermodel=hypermodel,
        executions_per_trial=config.executions_per_trial,
        directory=str(project_dir.parent),
        project_name=project_dir.name,
        overwrite=False,
    )
    tuner.recorder = recorder
    oracle_file = project_dir / "oracle.json"
    if oracle_file.exists() and not tuner.oracle.trials:
        # Killed before tuner0.json existed (older projects): reload the oracle ourselves.
        tuner.oracle.reload()
    check_unchanged(tuner.oracle, config)
    return tuner


def check_unchanged(oracle: keras_tuner.Oracle, config: SearchConfig) -> None:
    """Refuse settings that differ from what Keras Tuner saved for this search.

    Keras Tuner silently keeps the saved search space (and Hyperband's settings) on reload, whatever the
    code now says; a ``config.json`` edited after the search started would be ignored without a word.
    """
    hyperband = config.tuner == "hyperband"
    saved = {hp.name: hp.get_config() for hp in oracle.hyperparameters.space}
    wanted = {hp.name: hp.get_config() for hp in config.space.hyperparameters(include_epochs=not hyperband).space}
    changes = [
        f"{name}: {saved.get(name)} -> {wanted.get(name)}"
        for name in {*saved, *wanted}
        if saved.get(name) != wanted.get(name)
    ]
    if hyperband:
        settings = {
            "max_epochs": config.hyperband_max_epochs,
            "factor": config.hyperband_factor,
            "hyperband_iterations": config.hyperband_iterations,
        }
        changes += [
            f"hyperband {k}: {getattr(oracle, k)} -> {v}" for k, v in settings.items() if getattr(oracle, k) != v
        ]
    if changes:
        raise SearchStateError(
            "The search's settings were changed after it started (" + "; ".join(sorted(changes)) + "). "
            "Keras Tuner would ignore them; restore config.json or start a new search."
        )
