"""Where an experiment's baseline comes from, for the experiments page and ``python -m tuning experiment``.

A baseline is ``defaults`` (the ready-made experiments' small CNN), ``preset:NAME`` (the middle of a
preset's ranges and the first of its choices, on the preset's data) or a search folder (its best trial's
values, on that search's data: "what if only the dropout of my best model changed?").
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tuning.design.forms import PRESETS
from tuning.errors import ConfigError
from tuning.results.model import HP_PREFIX, ProjectResult
from tuning.space.config import SearchConfig
from tuning.space.experiment import (
    MAX_VALUES,
    READY_BASELINE,
    Experiment,
    ReadyExperiment,
    baseline_of,
    experiment_config,
    parse_vary,
)
from tuning.space.hyperparameters import BY_NAME, check_value
from tuning.space.searchspace import unknown_name
from tuning.space.specs import Scalar, format_value

DEFAULTS = "defaults"
PRESET_PREFIX = "preset:"


@dataclass(frozen=True)
class Baseline:
    """Every hyperparameter's value, where they came from, and the search the experiment copies data from."""

    values: dict[str, Any]
    base: str
    template: SearchConfig


def default_baseline() -> Baseline:
    """The ready-made experiments' small CNN on 2,000 built-in images."""
    return Baseline(dict(READY_BASELINE), DEFAULTS, SearchConfig())


def ready_baseline(ready: ReadyExperiment) -> Baseline:
    """The baseline of a ready-made experiment, on its share of the built-in images."""
    experiment = ready.experiment()
    return Baseline(experiment.baseline, experiment.base, ready.template())


def preset_baseline(name: str) -> Baseline:
    """The middle of preset ``name``'s ranges, on its data; ConfigError naming the presets otherwise."""
    if name not in PRESETS:
        raise ConfigError("base", unknown_name("preset", name, PRESETS))
    preset = PRESETS[name]
    return Baseline(baseline_of(preset.space), PRESET_PREFIX + name, preset)


def trial_baseline(result: ProjectResult) -> Baseline:
    """The best trial of ``result``: its values (the ready-made baseline for what it lacks), on its data."""
    best = result.best_trial_id
    if best is None:
        raise ConfigError("base", f"{result.project_dir} has no completed trial to start from; pick another baseline.")
    row = result.trials.loc[best]
    values: dict[str, Any] = dict(READY_BASELINE)
    known = [name for name in result.hyperparameters if name in BY_NAME]
    if not known:
        raise ConfigError(
            "base",
            f"the trials of {result.project_dir} have none of this app's hyperparameters "
            f"({', '.join(result.hyperparameters[:5]) or 'none'}); start from defaults or a preset.",
        )
    for name in known:
        values[name] = _cell(row.get(HP_PREFIX + name), name)
    template = _template(result)
    number = row.get("number")
    return Baseline(values, f"trial {number} of {result.project_dir}", template)


def _cell(value: Any, name: str) -> Scalar | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    value = value.item() if hasattr(value, "item") else value
    if BY_NAME[name].kind == "float" and isinstance(value, int):
        value = float(value)
    return None if check_value(BY_NAME[name], value) else value


def _template(result: ProjectResult) -> SearchConfig:
    if result.config is None:
        return SearchConfig()
    try:
        return SearchConfig.from_dict(result.config)
    except ConfigError:
        return SearchConfig()


def resolve_base(text: str | None, *, load: Any = None) -> Baseline:
    """The baseline ``text`` names: None or "defaults", "preset:NAME", or a search folder (read with ``load``)."""
    if text is None or text == DEFAULTS:
        return default_baseline()
    if text.startswith(PRESET_PREFIX):
        return preset_baseline(text.removeprefix(PRESET_PREFIX))
    if load is None or not Path(text).is_dir():
        raise ConfigError(
            "base", f"{text!r} is neither defaults, preset:NAME ({', '.join(PRESETS)}) nor a search folder."
        )
    return trial_baseline(load(text))


def build_experiment(
    vary: dict[str, tuple[Scalar, ...]],
    baseline: Baseline,
    *,
    epochs: int | None = None,
    data: dict[str, Any] | None = None,
    workers: int | str | None = None,
    ready: str | None = None,
) -> SearchConfig:
    """The search configuration of the experiment: ``vary`` from ``baseline``, with optional changes."""
    values = dict(baseline.values)
    if epochs is not None:
        values["epochs"] = epochs
    template = baseline.template
    if data:
        template = template.with_overrides(**data)
    if workers is not None:
        template = dataclasses.replace(template, workers=workers)
    experiment = Experiment(vary=vary, baseline=values, base=baseline.base, ready=ready)
    config = experiment_config(experiment, template)
    config.validate()
    return config


def experiment_project_name(config: SearchConfig) -> str:
    """A folder name such as ``experiment-learning_rate-20261202-101500``."""
    varied = "-".join((config.experiment or {}).get("vary", {})) or "experiment"
    return time.strftime(f"experiment-{varied}-%Y%m%d-%H%M%S")


def suggested_values(name: str) -> str:
    """Values worth comparing for hyperparameter ``name``, as the text a form starts with."""
    info = BY_NAME[name]
    values = info.suggestions or info.values or ()
    return ", ".join(format_value(value) for value in values[:MAX_VALUES])


def experiment_from_form(form: dict[str, Any], *, load: Any = None) -> SearchConfig:
    """The experiment a page's form describes: ``vary`` (name -> "v1, v2" text), ``base``, ``dataset``,
    ``train_size``, ``epochs``; ConfigError naming the first problem."""
    vary: dict[str, tuple[Scalar, ...]] = {}
    for name, text in form.get("vary", {}).items():
        if name in vary:
            raise ConfigError("vary", f"{name} is chosen twice; choose two different hyperparameters.")
        vary[name] = parse_vary(f"{name}={text}")[1]
    baseline = resolve_base(form.get("base"), load=load)
    data = {key: form[key] for key in ("dataset", "train_size") if form.get(key) is not None}
    return build_experiment(vary, baseline, epochs=form.get("epochs"), data=data)
