"""Narrow a search space to the ranges spanned by chosen trials, to search again where it looked good.

``narrow_config(result, trial_ids)`` starts from the search's own configuration (searches made by this app)
or from ``SearchConfig()`` (any other Keras Tuner project) and, for every hyperparameter of this app's
engine that the trials recorded, sets its spec from the values the chosen trials used:

* a range (Keras Tuner ``Int``/``Float``): the lowest to the highest value used, keeping the declared
  sampling (log stays log) and the declared step when the new ends still lie on its grid; a continuous
  float range is rounded outward to three significant digits, so the design page shows readable ends;
* a choice or a Boolean: the values used, in the declared order;
* one value only: that value, fixed.

A hyperparameter that none of the chosen trials used (an inactive conditional one) keeps its base spec.
A narrowed spec the engine would refuse (a value outside its limits, a wrong type) is not applied: the
base spec is kept and a note says why. Hyperparameters the engine does not know are left out and named
in ``Narrowed.ignored``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tuning.errors import ConfigError, TuningError
from tuning.export.common import plain
from tuning.results.model import HyperparameterInfo, ProjectResult
from tuning.space.config import SearchConfig
from tuning.space.hyperparameters import BY_NAME, HPInfo, check_spec
from tuning.space.specs import Choice, Fixed, FloatRange, IntRange, Scalar, Spec, varies

__all__ = ["NarrowError", "Narrowed", "best_trials", "narrow_config"]

DIGITS = 3  # significant digits of the ends of a continuous float range


class NarrowError(TuningError, ValueError):
    """Trials that cannot give a narrower search (none chosen, unknown ids, an invalid result)."""


@dataclass(frozen=True)
class Narrowed:
    """The narrower configuration and what was done to get it.

    ``changed``: ``{name: (old, new)}`` (the specs described) for each hyperparameter whose spec changed;
    ``ignored``: the
    hyperparameters of the project that this app's engine does not know; ``notes``: plain-language lines
    (what was kept and why, where the configuration came from).
    """

    config: SearchConfig
    project: str
    trial_ids: tuple[str, ...]
    changed: dict[str, tuple[str, str]]
    ignored: tuple[str, ...]
    notes: tuple[str, ...]


def best_trials(result: ProjectResult, k: int) -> tuple[str, ...]:
    """The ids of the ``k`` best completed trials, best first (fewer when fewer completed)."""
    if k < 1:
        raise NarrowError(f"Choose at least 1 trial to narrow the search to; found {k}.")
    scores = result.completed["score"]
    ordered = scores.sort_values(ascending=result.objective.direction == "min", kind="stable")
    return tuple(str(i) for i in ordered.index[:k])


def narrow_config(result: ProjectResult, trial_ids: Sequence[str], *, base: SearchConfig | None = None) -> Narrowed:
    """A configuration whose space spans only what the trials ``trial_ids`` of ``result`` used.

    ``base`` gives every other setting (default: the search's own configuration when this app made it,
    else ``SearchConfig()``). The result passes the engine's own validation, or ``NarrowError`` says why not.
    """
    chosen = _chosen(result, trial_ids)
    start, notes = _base(result, base)
    space = start.space
    changed: dict[str, tuple[str, str]] = {}
    for info in result.space:
        if info.name not in BY_NAME or info.column not in chosen.columns:
            continue
        old = getattr(space, info.name)
        spec, note = _narrowed_spec(info, BY_NAME[info.name], chosen[info.column], old)
        if note:
            notes.append(note)
        if spec != old:
            changed[info.name] = (old.describe(), spec.describe())
            space = space.with_values(**{info.name: spec})
    config = dataclasses.replace(start, space=space)
    problems = config.errors()
    if problems:
        raise NarrowError(f"The narrowed search is not valid: {problems[0]}. Choose other trials.")
    ignored = tuple(name for name in result.hyperparameters if name not in BY_NAME)
    if ignored:
        notes.append(f"Not hyperparameters of this app's model, so left out: {', '.join(ignored)}.")
    return Narrowed(config, result.name, tuple(chosen.index), changed, ignored, tuple(notes))


def _chosen(result: ProjectResult, trial_ids: Sequence[str]) -> pd.DataFrame:
    ids = list(dict.fromkeys(str(t) for t in trial_ids))
    if not ids:
        raise NarrowError("No trial chosen: select the trials to narrow the search to, or use the best ones.")
    unknown = [t for t in ids if t not in result.trials.index]
    if unknown:
        raise NarrowError(
            f"No trial {', '.join(map(repr, unknown))} in {result.name}; expected ids such as "
            f"{', '.join(map(repr, result.trials.index[:3]))}."
        )
    return result.trials.loc[ids]


def _base(result: ProjectResult, base: SearchConfig | None) -> tuple[SearchConfig, list[str]]:
    if base is not None:
        return base, []
    if result.config is None:
        note = f"{result.name} was not made by this app: the other settings are this app's defaults."
        return SearchConfig(), [note]
    try:
        return SearchConfig.from_dict(result.config), []
    except ConfigError as error:
        return SearchConfig(), [f"The saved configuration of {result.name} cannot be read ({error}); using defaults."]


def _narrowed_spec(declared: HyperparameterInfo, info: HPInfo, column: pd.Series, old: Spec) -> tuple[Spec, str]:
    """The spec spanning ``column``'s values, or ``old`` and a note saying why it was kept."""
    values = [plain(v) for v in column.dropna().tolist()]
    if not values:
        if not varies(old):
            return old, ""
        why = f" (it applies {info.condition_text()})" if info.parent else ""
        return old, f"{info.name}: not used by the chosen trials{why}; kept as it was."
    try:
        values = [_as_engine_value(info, v) for v in values]
    except ValueError as error:
        return old, f"{info.name}: kept as it was: {error}."
    spec = _spec_for(declared, info, values)
    problem = check_spec(info, spec)
    if problem and isinstance(spec, FloatRange) and spec.step is not None:
        spec = dataclasses.replace(spec, step=None)  # off the declared grid: keep the range, drop the step
        problem = check_spec(info, spec)
    if problem:
        return old, f"{info.name}: kept as it was: the chosen trials give {spec.describe()}, but {problem}."
    return spec, ""


def _as_engine_value(info: HPInfo, value: Any) -> Scalar:
    """``value`` as the Python type the engine expects for ``info`` (``ValueError`` if it cannot be)."""
    if info.kind == "bool":
        if isinstance(value, bool):
            return value
    elif info.kind == "categorical":
        return value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if info.kind == "float":
            return float(value)
        if float(value).is_integer():
            return int(value)
    raise ValueError(f"the trials used {value!r}, not a valid {info.kind} value")


def _spec_for(declared: HyperparameterInfo, info: HPInfo, values: list[Scalar]) -> Spec:
    seen = list(dict.fromkeys(values))
    if len(seen) == 1:
        return Fixed(seen[0])
    if declared.kind in ("int", "float") and info.numeric:
        low, high = min(seen), max(seen)  # type: ignore[type-var]
        if info.kind == "int":
            return IntRange(int(low), int(high), _int_step(declared, int(low), int(high)))
        return _float_range(declared, info, float(low), float(high))
    order = [v for v in (*declared.values, *info.values) if v in seen]
    ordered = list(dict.fromkeys([*order, *sorted(seen, key=str)]))
    return Choice(tuple(ordered))


def _int_step(declared: HyperparameterInfo, low: int, high: int) -> int:
    step = declared.step
    if step and float(step).is_integer() and step >= 1 and (high - low) % int(step) == 0:
        return int(step)
    return 1


def _float_range(declared: HyperparameterInfo, info: HPInfo, low: float, high: float) -> FloatRange:
    sampling = "log" if declared.is_log and low > 0 else "linear"
    if declared.step is not None:
        return FloatRange(_round(low, round), _round(high, round), float(declared.step), sampling)
    bottom, top = _round(low, math.floor), _round(high, math.ceil)
    if info.min_value is not None and bottom < info.min_value <= low:
        bottom = float(info.min_value)  # rounding must not step over the engine's limits
    if info.max_value is not None and top > info.max_value >= high:
        top = float(info.max_value)
    return FloatRange(bottom, top, None, sampling)


def _round(value: float, direction: Any) -> float:
    """``value`` to ``DIGITS`` significant digits, rounded with ``direction`` (math.floor, math.ceil, round);
    ``round`` keeps 12 digits, to drop float noise such as 0.30000000000000004."""
    if value == 0:
        return 0.0
    digits = 12 if direction is round else DIGITS
    scale = 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)
    return float(f"{direction(value / scale) * scale:.{digits}g}")
