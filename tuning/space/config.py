"""The whole configuration of a search: space, data, tuner and budget; validated, JSON round-trip exact.

``SearchConfig`` is what the app and the command line build, what the runner reads from the search
folder, and what ``plan`` prices in trials and epochs before anything runs.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tuning.data import DataSpec
from tuning.data.digits import DIGITS_TEST_SIZE, DIGITS_TRAIN_SIZE
from tuning.errors import ConfigError
from tuning.space.hyperparameters import BY_NAME
from tuning.space.plan import (
    BracketPlan,
    RoundPlan,
    SearchPlan,
    bayesian_initial_points,
    epochs_range,
    hyperband_num_brackets,
    plan,
)
from tuning.space.pruning import PRUNING_SETTINGS, PruningSettings, check_pruning
from tuning.space.searchspace import MAX_GRID, Fixed, SearchSpace, unknown_name
from tuning.space.specs import FloatRange, format_value, varies

__all__ = [
    "AUTO_WORKERS",
    "CONFIG_VERSION",
    "KEEP_CHECKPOINTS",
    "MAX_WORKERS",
    "OBJECTIVES",
    "TUNERS",
    "BracketPlan",
    "RoundPlan",
    "SearchConfig",
    "SearchPlan",
    "plan",
]

TUNERS = ("random", "bayesian", "hyperband", "grid")
OBJECTIVES = MappingProxyType({"val_accuracy": "max", "val_loss": "min"})
KEEP_CHECKPOINTS = ("best", "all")
CONFIG_VERSION = 1

# setting -> (lowest, highest or None)
_INT_LIMITS: dict[str, tuple[int, int | None]] = {
    "max_trials": (1, None),
    "executions_per_trial": (1, None),
    "hyperband_max_epochs": (1, int(BY_NAME["epochs"].max_value or 100)),
    "hyperband_factor": (2, None),
    "hyperband_iterations": (1, None),
    "seed": (0, 2**32 - 1),
    "max_consecutive_failures": (1, None),
}
MAX_WORKERS = 64
AUTO_WORKERS = "auto"
_ONE_OF = {"tuner": TUNERS, "objective": tuple(OBJECTIVES), "keep_checkpoints": KEEP_CHECKPOINTS}
_LOSS_SETTINGS = ("loss", "label_smoothing", "focal_gamma")

# with_overrides key -> DataSpec field
_DATA_OVERRIDES = {
    "dataset": "name",
    "data_path": "path",
    "train_size": "train_size",
    "validation_split": "validation_split",
    "test_size": "test_size",
}


@dataclass(frozen=True)
class SearchConfig:
    """Everything a search needs: what to tune, on which data, with which tuner and budget."""

    space: SearchSpace = field(default_factory=SearchSpace)
    data: DataSpec = field(default_factory=DataSpec)
    tuner: str = "random"
    objective: str = "val_accuracy"
    max_trials: int = 10
    executions_per_trial: int = 1
    hyperband_max_epochs: int = 9
    hyperband_factor: int = 3
    hyperband_iterations: int = 1
    early_stopping_patience: int | None = None
    seed: int = 0
    keep_checkpoints: str = "best"
    max_consecutive_failures: int = 5
    workers: int | str = "auto"
    pruning: str = "none"
    pruning_warmup_epochs: int = 2
    pruning_min_trials: int = 3
    asha_factor: int = 3
    asha_min_epochs: int = 1
    mixed_precision: bool = False
    experiment: dict[str, Any] | None = None  # set by tuning.space.experiment for a controlled experiment

    @property
    def pruning_settings(self) -> PruningSettings:
        """The pruning rule and its settings."""
        return PruningSettings(
            rule=self.pruning,
            warmup_epochs=self.pruning_warmup_epochs,
            min_trials=self.pruning_min_trials,
            factor=self.asha_factor,
            min_epochs=self.asha_min_epochs,
        )

    @property
    def direction(self) -> str:
        """ "max" or "min": how the objective improves."""
        return OBJECTIVES.get(self.objective, "max")

    def errors(self) -> list[ConfigError]:
        """Every problem of the configuration (empty when valid); the grid size only for a valid space."""
        found = [problem for name in _SETTINGS if (problem := _check_setting(self, name))]
        found += check_pruning(self.pruning_settings, tuner=self.tuner, executions=self.executions_per_trial)
        space_errors = self.space.errors()
        found += space_errors
        try:
            self.data.validate()
        except ConfigError as error:
            found.append(error)
        if self.tuner == "grid" and not space_errors:
            size = self.space.count()
            if size > MAX_GRID:
                found.append(
                    ConfigError(
                        "space",
                        f"the grid has {size:,} configurations; the limit is {MAX_GRID:,}. "
                        "Fix more hyperparameters or add steps.",
                    )
                )
        return found

    def validate(self) -> None:
        """Raise the first problem as a ``ConfigError`` naming its setting."""
        errors = self.errors()
        if errors:
            raise errors[0]

    def plan(self) -> SearchPlan:
        """The trials and epochs this configuration costs (see ``tuning.space.plan.plan``)."""
        return plan(self)

    def warnings(self) -> list[str]:
        """Plain-language notices about a valid configuration that do not block it (empty if invalid)."""
        if self.errors():
            return []
        search_plan = plan(self)
        found = [*_budget_warnings(self, search_plan), *_space_warnings(self)]
        found += _early_stopping_warnings(self)
        found += _worker_warnings(self, search_plan)
        return found

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with a ``version`` key; ``from_dict`` reads it back exactly."""
        data: dict[str, Any] = {"version": CONFIG_VERSION}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            data[item.name] = value.to_dict() if item.name in ("space", "data") else value
        return data

    @classmethod
    def from_dict(cls, data: Any) -> SearchConfig:
        """The configuration ``data`` describes; missing settings take their defaults."""
        if not isinstance(data, dict):
            raise ConfigError("config", f"expected an object of settings, found {data!r}")
        version = data.get("version", CONFIG_VERSION)
        if version != CONFIG_VERSION:
            raise ConfigError(
                "version", f"expected {CONFIG_VERSION}, found {version!r}; the file was written by another version"
            )
        known = [item.name for item in dataclasses.fields(cls)]
        settings: dict[str, Any] = {}
        for key, value in data.items():
            if key == "version":
                continue
            if key not in known:
                raise ConfigError(key, unknown_name("setting", key, known))
            settings[key] = value
        if "space" in settings:
            settings["space"] = SearchSpace.from_dict(settings["space"])
        if "data" in settings:
            if not isinstance(settings["data"], dict):
                raise ConfigError("data", f"expected an object of data settings, found {settings['data']!r}")
            settings["data"] = DataSpec.from_dict(settings["data"])
        return cls(**settings)

    def to_json(self) -> str:
        """The configuration as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "config") -> SearchConfig:
        """The configuration in JSON ``text``; ``source`` names it in errors about the JSON itself."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(
                source, f"not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}"
            ) from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SearchConfig:
        """The configuration saved in the JSON file ``path``."""
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise ConfigError(where, f"cannot read the configuration file: {reason}") from None
        try:
            return cls.from_json(text, source=where)
        except ConfigError as error:
            if error.field == where:
                raise
            raise ConfigError(error.field, f"{error.message} (in {where})") from None

    def with_overrides(self, **flat: Any) -> SearchConfig:
        """A copy with command-line style settings replaced; None leaves a setting unchanged.

        Keys: any top-level setting, plus ``epochs`` (fixes ``space.epochs``), ``seed`` (also the
        data seed), ``dataset``, ``data_path``, ``train_size``, ``validation_split``, ``test_size``.
        """
        top = {item.name for item in dataclasses.fields(self)} - {"space", "data"}
        changes: dict[str, Any] = {}
        data_changes: dict[str, Any] = {}
        space = self.space
        for key, value in flat.items():
            if value is None:
                continue
            if key in top:
                changes[key] = value
            elif key in _DATA_OVERRIDES:
                data_changes[_DATA_OVERRIDES[key]] = value
            elif key == "epochs":
                space = space.with_values(epochs=Fixed(value))
            else:
                raise ConfigError(key, unknown_name("setting", key, sorted(top | set(_DATA_OVERRIDES) | {"epochs"})))
            if key == "seed":
                data_changes["seed"] = value
        data = dataclasses.replace(self.data, **_fitting(self.data, data_changes)) if data_changes else self.data
        return dataclasses.replace(self, space=space, data=data, **changes)

    def differences(self, other: SearchConfig) -> list[str]:
        """The settings that differ from ``other``, e.g. ``"max_trials: 10 -> 20"``."""
        mine, theirs = _flatten(self), _flatten(other)
        return [
            f"{key}: {mine.get(key, '(none)')} -> {theirs.get(key, '(none)')}"
            for key in dict.fromkeys([*mine, *theirs])
            if mine.get(key) != theirs.get(key)
        ]


_SETTINGS = [item.name for item in dataclasses.fields(SearchConfig) if item.name not in ("space", "data")]


def _fitting(data: DataSpec, changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` to ``data``; a switch to the digits (1,497 + 300 images) takes all of them unless sizes
    are given, where the sizes kept from before ask for more than there are."""
    if changes.get("name") != "digits":
        return changes
    fitted = dict(changes)
    for field_name, available in (("train_size", DIGITS_TRAIN_SIZE), ("test_size", DIGITS_TEST_SIZE)):
        kept = getattr(data, field_name)
        if field_name not in changes and kept is not None and kept > available:
            fitted[field_name] = None
    return fitted


def _check_setting(config: SearchConfig, name: str) -> ConfigError | None:
    """The problem with one top-level setting, or None."""
    value = getattr(config, name)
    if name in _ONE_OF:
        if value not in _ONE_OF[name]:
            return ConfigError(name, f"must be one of {', '.join(_ONE_OF[name])}, got {value!r}")
        return None
    if name == "early_stopping_patience" and value is None:
        return None
    if name == "workers":
        return _check_workers(value)
    if name in PRUNING_SETTINGS:
        return None  # checked together by check_pruning
    if name == "mixed_precision":
        return None if isinstance(value, bool) else ConfigError(name, f"must be true or false, got {value!r}")
    if name == "experiment":
        ok = value is None or (isinstance(value, dict) and isinstance(value.get("vary"), dict))
        return None if ok else ConfigError(name, f"expected an object with 'vary' or null, got {value!r}")
    lowest, highest = _INT_LIMITS.get(name, (0, None))
    if not isinstance(value, int) or isinstance(value, bool):
        return ConfigError(name, f"must be a whole number, got {value!r} ({type(value).__name__})")
    if value < lowest:
        return ConfigError(name, f"must be at least {lowest}, got {value}")
    if highest is not None and value > highest:
        return ConfigError(name, f"must be at most {highest}, got {value}")
    return None


def _check_workers(value: Any) -> ConfigError | None:
    """Worker processes: "auto" (as many as pay off here), 1 (one process), N > 1 (N workers beside a chief)."""
    if value == AUTO_WORKERS:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_WORKERS:
        return ConfigError(
            "workers",
            f'expected "auto" (as many processes as pay off on this machine) or a whole number of worker '
            f"processes from 1 (one process, no chief) to {MAX_WORKERS}, found {value!r}.",
        )
    return None


def _flatten(config: SearchConfig) -> dict[str, str]:
    """Every setting as ``dotted.name -> readable value``."""
    flat: dict[str, str] = {}
    for key, value in config.to_dict().items():
        if key == "space":
            flat.update({f"space.{name}": spec.describe() for name, spec in config.space.specs().items()})
        elif key == "data" and isinstance(value, dict):
            flat.update({f"data.{name}": format_value(item) for name, item in value.items()})
        else:
            flat[key] = format_value(value)
    return flat


def _budget_warnings(config: SearchConfig, search_plan: SearchPlan) -> list[str]:
    space = config.space
    found = []
    if config.tuner == "hyperband":
        fewest = search_plan.brackets[0].rounds[0].epochs
        found.append(
            f"Hyperband decides the number of epochs of each trial ({fewest} to {config.hyperband_max_epochs} "
            f"here); the epochs setting in the search space ({space.epochs.describe()}) is not used."
        )
        if hyperband_num_brackets(config.hyperband_max_epochs, config.hyperband_factor) == 1:
            found.append(
                f"hyperband_max_epochs ({config.hyperband_max_epochs}) is below hyperband_factor "
                f"({config.hyperband_factor}), so Hyperband has a single bracket: a random search of "
                f"{search_plan.trials} trials."
            )
    elif config.tuner == "grid":
        size = search_plan.configurations or 0
        if config.max_trials > size:
            found.append(f"max_trials ({config.max_trials}) is more than the grid's {size:,} configurations.")
        elif config.max_trials < size:
            found.append(
                f"max_trials ({config.max_trials}) covers only part of the grid's {size:,} configurations: "
                "grid search tries them in order, so the last hyperparameters vary and the first barely do."
            )
    elif search_plan.trials < config.max_trials:
        found.append(
            f"The space has only {search_plan.configurations:,} distinct configurations, fewer than max_trials "
            f"({config.max_trials}); the search stops when it cannot find new ones."
        )
    elif config.tuner == "bayesian" and config.max_trials <= (start := bayesian_initial_points(space)):
        found.append(
            f"Bayesian optimisation picks its first {start} trials at random (3 per hyperparameter), so with "
            f"max_trials {config.max_trials} it works as a random search."
        )
    return found


def _space_warnings(config: SearchConfig) -> list[str]:
    space = config.space
    found = []
    idle = set(space.never_active())
    for name, spec in space.specs().items():
        if name in idle and varies(spec):
            info = BY_NAME[name]
            parent = info.parent[0] if info.parent else ""
            found.append(
                f"{name} varies but is never used: it applies {info.condition_text()}, and {parent} is "
                f"{getattr(space, parent).describe()}."
            )
        if config.tuner == "grid" and isinstance(spec, FloatRange) and spec.step is None and varies(spec):
            found.append(
                f"{name} has no step, so grid search tries 11 of its values: its minimum and 10 evenly spaced ones."
            )
    tuned_loss = [name for name in _LOSS_SETTINGS if name in space.tuned()]
    if config.objective == "val_loss" and tuned_loss:
        found.append(
            f"The objective is val_loss but {', '.join(tuned_loss)} varies: losses computed differently are not "
            "comparable. Use val_accuracy."
        )
    return found


def _early_stopping_warnings(config: SearchConfig) -> list[str]:
    patience = config.early_stopping_patience
    if not patience:
        return []
    longest = config.hyperband_max_epochs if config.tuner == "hyperband" else epochs_range(config.space)[1]
    if patience < longest:
        return []
    return [
        f"early_stopping_patience ({patience}) is not below the longest training ({longest} epochs), "
        "so early stopping never ends a trial."
    ]


def _worker_warnings(config: SearchConfig, search_plan: SearchPlan) -> list[str]:
    if not isinstance(config.workers, int) or config.workers == 1:
        return []
    found = []
    cores = os.cpu_count() or 1
    if config.workers > cores:
        found.append(
            f"{config.workers} workers on {cores} CPU cores: they share the cores and each trial runs slower; "
            f"use at most {cores} workers here unless each has its own GPU."
        )
    if config.tuner != "hyperband" and search_plan.trials < config.workers:
        found.append(
            f"Only {search_plan.trials} trials for {config.workers} workers: "
            f"{config.workers - search_plan.trials} of them will have nothing to do."
        )
    return found
