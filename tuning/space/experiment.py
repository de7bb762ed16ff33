"""Controlled experiments: vary one hyperparameter (or two, as a small grid) and hold every other one fixed.

An ``Experiment`` names the varied hyperparameters and their values, and the baseline the others stay at.
``experiment_config`` turns it into an ordinary ``SearchConfig`` (Keras Tuner's grid search over the varied
values, every other hyperparameter ``Fixed``), so an experiment runs, stops, resumes and is read like any
search; the ``experiment`` entry of its configuration marks it as one. ``READY`` holds the ready-made
experiments the app offers with one click, each sized to finish in about a minute on two CPU cores.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from tuning.data.spec import DataSpec
from tuning.errors import ConfigError
from tuning.space.config import SearchConfig
from tuning.space.hyperparameters import BY_NAME, HPInfo, check_value, coerce
from tuning.space.searchspace import SearchSpace, unknown_name
from tuning.space.specs import Choice, Fixed, FloatRange, IntRange, Scalar, Spec, format_value

MAX_VARIED = 2
MAX_VALUES = 8
MAX_RUNS = 24  # trials of a two-hyperparameter grid
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True)
class Experiment:
    """Which hyperparameters vary over which values, and the baseline every other one is held at.

    ``baseline`` maps every hyperparameter to its value (None for one that the baseline makes inactive);
    ``base`` says where the baseline came from ("defaults", "preset:quick demo", "trial 7 of runs/x");
    ``ready`` is the ready-made experiment's key, if it is one.
    """

    vary: dict[str, tuple[Scalar, ...]]
    baseline: dict[str, Any]
    base: str = "defaults"
    ready: str | None = None

    @property
    def varied(self) -> tuple[str, ...]:
        return tuple(self.vary)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``from_dict`` reads it back)."""
        return {
            "varied": list(self.vary),  # the order, which JSON objects written with sorted keys lose
            "vary": {name: list(values) for name, values in self.vary.items()},
            "baseline": dict(self.baseline),
            "base": self.base,
            "ready": self.ready,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Experiment:
        """The experiment ``data`` describes; ConfigError (field ``experiment``) when it is malformed."""
        if not isinstance(data, dict) or not isinstance(data.get("vary"), dict) or not data["vary"]:
            raise ConfigError("experiment", f"expected an object with 'vary' and 'baseline'; found {data!r}")
        order = [name for name in data.get("varied") or [] if name in data["vary"]] or list(data["vary"])
        vary = {str(name): tuple(data["vary"][name]) for name in order if isinstance(data["vary"][name], list)}
        baseline = data.get("baseline")
        if len(vary) != len(data["vary"]) or not isinstance(baseline, dict):
            raise ConfigError("experiment", "expected lists of values in 'vary' and an object in 'baseline'")
        ready = data.get("ready")
        return cls(vary=vary, baseline=dict(baseline), base=str(data.get("base", "defaults")), ready=ready)


def parse_value(info: HPInfo, text: str) -> Scalar:
    """The value of ``info`` written as ``text`` (``1e-3``, ``true``, ``adam``); ConfigError if it is none."""
    text = text.strip()
    field_name = f"vary.{info.name}"
    if info.kind == "bool":
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise ConfigError(field_name, f"expected true or false, found {text!r}")
    numeric_choice = info.kind == "categorical" and all(isinstance(v, int) for v in info.values)
    try:
        if info.kind == "int" or numeric_choice:
            return int(text)
        if info.kind == "float":
            return float(text)
    except ValueError:
        kind = "an integer" if info.kind == "int" or numeric_choice else "a number"
        raise ConfigError(field_name, f"expected {kind}, found {text!r}") from None
    return text


def parse_vary(text: str) -> tuple[str, tuple[Scalar, ...]]:
    """``NAME=V1,V2,...`` as the hyperparameter's name and its values, each checked against what it allows."""
    name, sep, values_text = text.partition("=")
    name = name.strip()
    if not sep or not name or not values_text.strip():
        raise ConfigError("vary", f"expected NAME=V1,V2,... (e.g. learning_rate=1e-4,1e-3,1e-2); found {text!r}")
    if name not in BY_NAME:
        raise ConfigError("vary", unknown_name("hyperparameter", name, BY_NAME))
    info = BY_NAME[name]
    values = tuple(parse_value(info, part) for part in values_text.split(",") if part.strip())
    return name, values


def baseline_of(space: SearchSpace) -> dict[str, Any]:
    """One value per hyperparameter of ``space``: the fixed value, a choice's first value, a range's middle.

    The middle of a log range is its geometric middle, of an integer range the nearest step to the middle.
    """
    return {name: _middle(spec) for name, spec in space.specs().items()}


def _middle(spec: Spec) -> Scalar:
    if isinstance(spec, Fixed):
        return spec.value
    if isinstance(spec, Choice):
        return spec.values[0]
    if isinstance(spec, IntRange):
        return spec.min + spec.step * round((spec.max - spec.min) / spec.step / 2)
    assert isinstance(spec, FloatRange)
    if spec.sampling == "log" and spec.min > 0:
        return float(f"{math.sqrt(spec.min * spec.max):.2g}")
    return float(f"{(spec.min + spec.max) / 2:.3g}")


def check_experiment(vary: dict[str, tuple[Scalar, ...]], baseline: dict[str, Any]) -> None:
    """Raise a one-line ConfigError saying what is allowed when ``vary`` cannot run from ``baseline``."""
    if not 1 <= len(vary) <= MAX_VARIED:
        listed = f" ({', '.join(vary)})" if vary else ""
        raise ConfigError("vary", f"vary one or two hyperparameters; found {len(vary)}{listed}.")
    for name, values in vary.items():
        _check_values(BY_NAME[name], values)
    for name in vary:
        _check_active(BY_NAME[name], vary, baseline)
    runs = math.prod(len(values) for values in vary.values())
    if runs > MAX_RUNS:
        raise ConfigError("vary", f"{runs} combinations is too many for an experiment; keep it to {MAX_RUNS}.")


def _check_values(info: HPInfo, values: tuple[Scalar, ...]) -> None:
    field_name = f"vary.{info.name}"
    if not 2 <= len(values) <= MAX_VALUES:
        raise ConfigError(field_name, f"give 2 to {MAX_VALUES} values to compare; found {len(values)}.")
    for value in values:
        problem = check_value(info, value)
        if problem:
            raise ConfigError(field_name, f"{problem} ({_allowed(info)}).")
    if len(set(values)) < len(values):
        raise ConfigError(field_name, "a value is listed twice; list each value once.")


def _allowed(info: HPInfo) -> str:
    if info.kind in ("int", "float"):
        return f"{info.label.lower()} takes {format_value(info.min_value)} to {format_value(info.max_value)}"
    return f"{info.label.lower()} takes {', '.join(format_value(v) for v in info.values)}"


def _check_active(info: HPInfo, vary: dict[str, tuple[Scalar, ...]], baseline: dict[str, Any]) -> None:
    if info.parent is None:
        return
    parent, activating = info.parent
    possible = vary.get(parent, (baseline.get(parent),))
    if not any(value in activating for value in possible):
        raise ConfigError(
            f"vary.{info.name}",
            f"{info.name} is used {info.condition_text()}, and the baseline's {parent} is "
            f"{format_value(baseline.get(parent))}; vary {parent} too, or start from a baseline that uses it.",
        )


def experiment_config(experiment: Experiment, template: SearchConfig) -> SearchConfig:
    """The grid search that runs ``experiment``: its data, seed and workers come from ``template``.

    Every hyperparameter not varied is ``Fixed`` at the baseline (an inactive one at its default); no
    pruning and no early stopping, so that every value trains for the same epochs.
    """
    check_experiment(experiment.vary, experiment.baseline)
    defaults = SearchSpace().specs()
    specs: dict[str, Spec] = {}
    for name, info in BY_NAME.items():
        if name in experiment.vary:
            specs[name] = Choice(tuple(coerce(info, v) for v in experiment.vary[name]))
        elif experiment.baseline.get(name) is not None:
            specs[name] = Fixed(coerce(info, experiment.baseline[name]))
        else:
            specs[name] = defaults[name]
    space = SearchSpace(**specs)
    runs = space.count()
    return dataclasses.replace(
        template,
        space=space,
        tuner="grid",
        max_trials=runs,
        executions_per_trial=1,
        early_stopping_patience=None,
        pruning="none",
        experiment=experiment.to_dict(),
    )


@dataclass(frozen=True)
class ReadyExperiment:
    """A ready-made experiment: a question, what varies, and the baseline and data it runs on."""

    key: str
    question: str
    prompt: str  # the home page's button: "Show me what the learning rate does"
    vary: dict[str, tuple[Scalar, ...]]
    shows: str
    epochs: int = 5
    train_size: int = 2000
    changes: dict[str, Scalar] = field(default_factory=dict)

    def experiment(self) -> Experiment:
        """The experiment, from the ready-made baseline with this experiment's changes."""
        baseline = {**READY_BASELINE, **self.changes, "epochs": self.epochs}
        for name in self.vary:
            baseline[name] = self.vary[name][0]
        return Experiment(vary=dict(self.vary), baseline=baseline, base="ready-made baseline", ready=self.key)

    def template(self) -> SearchConfig:
        """The search it copies data and settings from: this experiment's share of the built-in images."""
        return SearchConfig(data=DataSpec(train_size=self.train_size, test_size=200))

    def config(self) -> SearchConfig:
        """The experiment's search, as it is offered."""
        return experiment_config(self.experiment(), self.template())


# A small CNN that learns the built-in images well in five epochs: the point every ready-made experiment
# moves one or two hyperparameters away from.
READY_BASELINE: dict[str, Scalar | None] = {
    "conv_blocks": 2, "filters": 16, "filter_growth": "double", "kernel_size": 3, "pooling": "max",
    "batch_norm": True, "dense_layers": 1, "dense_units": 64, "activation": "relu", "dropout": 0.0,
    "weight_decay": 0.0, "augment": False, "optimizer": "adam", "learning_rate": 3e-3, "momentum": None,
    "loss": "crossentropy", "label_smoothing": None, "focal_gamma": None, "batch_size": 64, "epochs": 5,
}  # fmt: skip

READY: dict[str, ReadyExperiment] = {
    ready.key: ready
    for ready in (
        ReadyExperiment(
            "learning_rate",
            "What does the learning rate do?",
            "Show me what the learning rate does",
            {"learning_rate": (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)},
            "too small crawls, a good one learns fast, far too large never learns (or diverges)",
        ),
        ReadyExperiment(
            "batch_size",
            "What does the batch size do?",
            "Show me what the batch size does",
            {"batch_size": (16, 64, 256)},
            "small batches take more, noisier steps per epoch; large ones fewer, smoother steps",
        ),
        ReadyExperiment(
            "dropout",
            "What does dropout do against over-fitting?",
            "Show me how dropout fights over-fitting",
            {"dropout": (0.0, 0.3, 0.6)},
            "on few images, dropout narrows the gap between training and validation accuracy",
            epochs=12,
            train_size=300,
            changes={"dense_units": 256, "batch_norm": False, "learning_rate": 1e-3},
        ),
        ReadyExperiment(
            "network_size",
            "Does a bigger network learn better?",
            "Show me what a bigger network does",
            {"conv_blocks": (1, 2, 3), "filters": (8, 32)},
            "more blocks and filters see more, at the cost of time",
        ),
        ReadyExperiment(
            "hidden_layers",
            "What do hidden layers and units add?",
            "Show me what hidden layers add",
            {"dense_layers": (0, 1, 2), "dense_units": (16, 128)},
            "the layers after the pattern detectors that combine what they found",
        ),
        ReadyExperiment(
            "optimizer",
            "Which optimizer learns fastest?",
            "Show me which optimizer learns fastest",
            {"optimizer": ("sgd", "adam", "rmsprop"), "momentum": (0.0, 0.9)},
            "plain SGD, SGD with momentum, Adam and RMSprop at the same learning rate",
        ),
        ReadyExperiment(
            "activation",
            "What does the activation function change?",
            "Show me what the activation does",
            {"activation": ("relu", "tanh", "sigmoid")},
            "sigmoid saturates and learns slowly; relu and tanh learn fast",
            changes={"batch_norm": False},
        ),
        ReadyExperiment(
            "loss",
            "Does the loss function matter?",
            "Show me whether the loss matters",
            {"loss": ("crossentropy", "label_smoothing", "focal")},
            "three training losses for the same classifier",
            changes={"label_smoothing": 0.1, "focal_gamma": 2.0},
        ),
        ReadyExperiment(
            "epochs",
            "How many epochs are enough?",
            "Show me how many epochs are enough",
            {"epochs": (2, 6, 20)},
            "too few under-fit: the curves still rise when training stops; on few images training runs ahead",
            train_size=300,
            changes={"dense_units": 256, "batch_norm": False, "learning_rate": 1e-3},
        ),
    )
}


def ready_experiment(key: str) -> ReadyExperiment:
    """The ready-made experiment ``key``; ConfigError listing the known ones otherwise."""
    if key not in READY:
        raise ConfigError("ready", unknown_name("ready-made experiment", key, READY))
    return READY[key]
