"""The four kinds of setting a hyperparameter can have in a search space, as plain immutable records.

``IntRange``, ``FloatRange``, ``Choice`` and ``Fixed`` each turn into a JSON-ready dict with a
``"type"`` key and back (``spec_from_dict``). They hold values only; whether those values suit a
given hyperparameter is checked by ``tuning.space.hyperparameters.check_spec``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from tuning.errors import ConfigError

Scalar = bool | int | float | str


def format_value(value: Any) -> str:
    """A value as people write it: ``0.0001``, ``1e-06``, ``adam``, ``True``."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class IntRange:
    """Every integer from ``min`` to ``max`` (both included) in steps of ``step``."""

    min: int
    max: int
    step: int = 1

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "int", "min": ..., "max": ..., "step": ...}``."""
        return {"type": "int", "min": self.min, "max": self.max, "step": self.step}

    def describe(self) -> str:
        """A short phrase such as ``1 to 9, step 2``."""
        if self.min == self.max:
            return format_value(self.min)
        text = f"{format_value(self.min)} to {format_value(self.max)}"
        return text if self.step == 1 else f"{text}, step {format_value(self.step)}"


@dataclass(frozen=True)
class FloatRange:
    """Numbers from ``min`` to ``max``: continuous without ``step``, else evenly spaced.

    With ``sampling="log"`` values are spread evenly on a log scale and ``step``, if any, is the
    factor between neighbours (e.g. 10 for 1e-4, 1e-3, 1e-2), as in Keras Tuner.
    """

    min: float
    max: float
    step: float | None = None
    sampling: str = "linear"

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "float", "min": ..., "max": ..., "step": ..., "sampling": ...}``."""
        return {
            "type": "float",
            "min": self.min,
            "max": self.max,
            "step": self.step,
            "sampling": self.sampling,
        }

    def describe(self) -> str:
        """A short phrase such as ``0.0001 to 0.01, log``."""
        if self.min == self.max:
            return format_value(self.min)
        parts = [f"{format_value(self.min)} to {format_value(self.max)}"]
        if self.step is not None:
            parts.append(f"{'factor' if self.sampling == 'log' else 'step'} {format_value(self.step)}")
        if self.sampling != "linear":
            parts.append(str(self.sampling))
        return ", ".join(parts)


@dataclass(frozen=True)
class Choice:
    """One of a few listed values (all strings, all booleans, or all numbers)."""

    values: tuple[Scalar, ...]

    def __post_init__(self) -> None:
        if isinstance(self.values, (list, tuple)):
            object.__setattr__(self, "values", tuple(self.values))

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "choice", "values": [...]}``."""
        return {"type": "choice", "values": list(self.values)}

    def describe(self) -> str:
        """The values separated by commas."""
        return ", ".join(format_value(v) for v in self.values)


@dataclass(frozen=True)
class Fixed:
    """A single value that the search does not tune."""

    value: Scalar

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "fixed", "value": ...}``."""
        return {"type": "fixed", "value": self.value}

    def describe(self) -> str:
        """The value."""
        return format_value(self.value)


Spec = IntRange | FloatRange | Choice | Fixed
SPEC_TYPES: dict[str, type] = {"int": IntRange, "float": FloatRange, "choice": Choice, "fixed": Fixed}


def spec_from_dict(data: Any, *, field: str = "spec") -> Spec:
    """The spec that ``data`` (as written by ``to_dict``) describes; ``field`` names it in errors."""
    if not isinstance(data, dict):
        raise ConfigError(field, f"expected an object with a 'type' key, found {data!r}")
    kind = data.get("type")
    if kind not in SPEC_TYPES:
        raise ConfigError(field, f"type must be one of int, float, choice, fixed; found {kind!r}")
    cls = SPEC_TYPES[kind]
    fields = dataclasses.fields(cls)
    known = [f.name for f in fields]
    keys = [key for key in data if key != "type"]
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise ConfigError(field, f"unknown key {unknown[0]!r} in a {kind} spec; expected {', '.join(known)}")
    missing = [f.name for f in fields if f.default is dataclasses.MISSING and f.name not in data]
    if missing:
        raise ConfigError(field, f"a {kind} spec needs {' and '.join(missing)}; found none")
    if kind == "choice" and not isinstance(data["values"], (list, tuple)):
        raise ConfigError(field, f"a choice's values must be a list, found {data['values']!r}")
    return cls(**{key: data[key] for key in keys})


def single_value(spec: Spec) -> Scalar:
    """The one value of a spec that does not vary (see ``varies``)."""
    if isinstance(spec, Fixed):
        return spec.value
    if isinstance(spec, Choice):
        return spec.values[0]
    return spec.min


def varies(spec: Spec) -> bool:
    """Whether the spec allows more than one value (a one-value choice or empty range does not)."""
    if isinstance(spec, Fixed):
        return False
    if isinstance(spec, Choice):
        return len(spec.values) > 1
    return spec.min != spec.max


def discrete_values(spec: Spec) -> tuple[Scalar, ...] | None:
    """Every value a spec can take, or None for a float range."""
    if isinstance(spec, Fixed):
        return (spec.value,)
    if isinstance(spec, Choice):
        return spec.values
    if isinstance(spec, IntRange):
        return tuple(range(spec.min, spec.max + 1, max(spec.step, 1)))
    return None
