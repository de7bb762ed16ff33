"""Keras Tuner's saved search space (``hyperparameters.space`` configs) as ``HyperparameterInfo`` records.

The JSON configs are parsed directly (no keras_tuner import, so no TensorFlow): ``Float``, ``Int``,
``Choice``, ``Boolean`` and ``Fixed``, with their sampling, step, values, default and conditions, as
written by keras-tuner 1.0 to 1.4 (older ``parent_name``/``parent_values`` conditions included).
Hyperband's own ``tuner/*`` values are not hyperparameters and are left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from tuning.results.model import Condition, HyperparameterInfo
from tuning.results.trials import is_tuner_value

_KINDS = {"float": "float", "int": "int", "choice": "choice", "boolean": "boolean", "fixed": "fixed"}
_SAMPLINGS = ("linear", "log", "reverse_log")


def parse_hyperparameter(item: Mapping[str, Any]) -> HyperparameterInfo | None:
    """One ``{"class_name": ..., "config": ...}`` entry; None when it is not a hyperparameter we know."""
    config = item.get("config")
    kind = _KINDS.get(str(item.get("class_name", "")).lower())
    if kind is None or not isinstance(config, Mapping) or not isinstance(config.get("name"), str):
        return None
    name = config["name"]
    conditions = _conditions(config)
    if kind == "fixed":
        value = scalar(config.get("value"))
        return HyperparameterInfo(name, "fixed", values=(value,), default=value, conditions=conditions)
    if kind == "boolean":
        default = config.get("default") is True
        return HyperparameterInfo(name, "boolean", values=(False, True), default=default, conditions=conditions)
    if kind == "choice":
        values = _scalars(config.get("values"))
        default = scalar(config.get("default"))
        default = values[0] if default is None and values else default
        return HyperparameterInfo(name, "choice", values=values, default=default, conditions=conditions)
    return _numeric(name, kind, config, conditions)


def scalar(value: Any) -> Any:
    """A JSON value as a hyperparameter's value: None, bool, str, or a number within float range; None for
    anything else (a list, an object, an integer too large for a float)."""
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else None
    return None


def _scalars(values: Any) -> tuple[Any, ...]:
    """The scalar items of a JSON list (see ``scalar``); () when it is not a list."""
    return tuple(v for v in values if v is None or scalar(v) is not None) if isinstance(values, list) else ()


def _number(value: Any) -> float | int | None:
    """A finite number, or None (a string, a list, NaN, a huge integer...)."""
    value = scalar(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def _numeric(name: str, kind: str, config: Mapping[str, Any], conditions: tuple[Condition, ...]) -> HyperparameterInfo:
    low, high = _number(config.get("min_value")), _number(config.get("max_value"))
    step = _number(config.get("step"))
    if kind == "int" and step is None:
        step = 1
    sampling = str(config.get("sampling") or "linear").lower()
    default = scalar(config.get("default"))
    return HyperparameterInfo(
        name,
        kind,
        min=low,
        max=high,
        step=step,
        sampling=sampling if sampling in _SAMPLINGS else "linear",
        default=low if default is None else default,
        conditions=conditions,
    )


def _conditions(config: Mapping[str, Any]) -> tuple[Condition, ...]:
    found = []
    items = config.get("conditions")
    for item in items if isinstance(items, list) else ():
        cond = item.get("config", {}) if isinstance(item, Mapping) else {}
        if isinstance(cond, Mapping) and isinstance(cond.get("name"), str):
            found.append(Condition(cond["name"], _scalars(cond.get("values"))))
    if isinstance(config.get("parent_name"), str) and config["parent_name"]:  # keras-tuner before 1.0
        found.append(Condition(config["parent_name"], _scalars(config.get("parent_values"))))
    return tuple(found)


def parse_space(items: Iterable[Any]) -> tuple[HyperparameterInfo, ...]:
    """The hyperparameters of a saved space, in declaration order, each name once, ``tuner/*`` left out."""
    found: dict[str, HyperparameterInfo] = {}
    for item in items if isinstance(items, (list, tuple)) else ():
        info = parse_hyperparameter(item) if isinstance(item, Mapping) else None
        if info is not None and not is_tuner_value(info.name) and info.name not in found:
            found[info.name] = info
    return tuple(found.values())


def merge_spaces(*spaces: Iterable[HyperparameterInfo]) -> tuple[HyperparameterInfo, ...]:
    """The union of several spaces: each name once, as the first space that declares it says."""
    found: dict[str, HyperparameterInfo] = {}
    for space in spaces:
        for info in space:
            found.setdefault(info.name, info)
    return tuple(found.values())


def infer_from_values(name: str, values: list[Any]) -> HyperparameterInfo:
    """A hyperparameter whose declaration was not saved (old projects), described from its observed values.

    Numbers give a range (int or float), anything else the choice of the values seen; the default is unknown.
    """
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return HyperparameterInfo(name, "boolean", values=(False, True))
    numbers = [v for v in present if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if present and len(numbers) == len(present):
        kind = "int" if all(isinstance(v, int) for v in numbers) else "float"
        return HyperparameterInfo(name, kind, min=min(numbers), max=max(numbers), step=1 if kind == "int" else None)
    distinct = sorted({_hashable(v) for v in present}, key=lambda v: (type(v).__name__, str(v)))
    return HyperparameterInfo(name, "choice", values=tuple(distinct))


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return str(value)
    return value


def column_dtype(info: HyperparameterInfo) -> str:
    """The pandas dtype of the hyperparameter's column: Float64, Int64, boolean, string or object."""
    if info.kind == "float":
        return "Float64"
    if info.kind == "int":
        return "Int64"
    if info.kind == "boolean":
        return "boolean"
    values = [v for v in info.values if v is not None]
    if not values:
        return "object"
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "Int64"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "Float64"
    if all(isinstance(v, str) for v in values):
        return "string"
    return "object"
