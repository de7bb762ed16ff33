"""The search space: plain, JSON-serialisable, validated, immutable; turned into Keras Tuner HPs.

Each hyperparameter of the CIFAR-10 CNN is described once in ``HYPERPARAMETERS`` (kind, limits,
allowed values, condition, label, group). A ``SearchSpace`` gives each of them a ``Spec``: an
``IntRange``, a ``FloatRange``, a ``Choice`` or a ``Fixed`` value. Importing this module is light;
Keras Tuner (and TensorFlow with it) is imported only by the methods that need it.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tuning.errors import ConfigError
from tuning.space.hyperparameters import BY_NAME, GROUPS, HYPERPARAMETERS, HPInfo, check_spec, coerce
from tuning.space.specs import (
    Choice,
    Fixed,
    FloatRange,
    IntRange,
    Scalar,
    Spec,
    discrete_values,
    single_value,
    spec_from_dict,
    varies,
)

if TYPE_CHECKING:
    import keras_tuner

__all__ = [
    "BY_NAME",
    "GROUPS",
    "HYPERPARAMETERS",
    "MAX_GRID",
    "Choice",
    "Fixed",
    "FloatRange",
    "HPInfo",
    "IntRange",
    "SearchSpace",
    "Spec",
    "spec_from_dict",
    "unknown_name",
]

MAX_GRID = 10_000


def unknown_name(what: str, name: str, known: Iterable[str]) -> str:
    """A message for an unknown ``name``, suggesting the closest known one."""
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else "expected one of " + ", ".join(known)
    return f"unknown {what} {name!r}; {hint}"


@dataclass(frozen=True)
class SearchSpace:
    """One ``Spec`` per hyperparameter of the CNN; the defaults are a small first search on a CPU."""

    # Specs are frozen, so every SearchSpace can share these default instances.
    conv_blocks: Spec = field(default=IntRange(1, 3))
    filters: Spec = field(default=Choice((16, 32, 64)))
    filter_growth: Spec = field(default=Fixed("double"))
    kernel_size: Spec = field(default=Fixed(3))
    pooling: Spec = field(default=Fixed("max"))
    batch_norm: Spec = field(default=Fixed(True))
    dense_layers: Spec = field(default=Fixed(1))
    dense_units: Spec = field(default=Fixed(128))
    activation: Spec = field(default=Fixed("relu"))
    dropout: Spec = field(default=FloatRange(0.0, 0.5, step=0.1))
    weight_decay: Spec = field(default=Fixed(0.0))
    augment: Spec = field(default=Fixed(False))
    optimizer: Spec = field(default=Choice(("adam", "sgd")))
    learning_rate: Spec = field(default=FloatRange(1e-4, 1e-2, sampling="log"))
    momentum: Spec = field(default=Fixed(0.9))
    loss: Spec = field(default=Fixed("crossentropy"))
    label_smoothing: Spec = field(default=Fixed(0.1))
    focal_gamma: Spec = field(default=Fixed(2.0))
    batch_size: Spec = field(default=Fixed(64))
    epochs: Spec = field(default=Fixed(3))

    def specs(self) -> dict[str, Spec]:
        """Every hyperparameter's spec, in the registry's order."""
        return {info.name: getattr(self, info.name) for info in HYPERPARAMETERS}

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """A JSON-ready dict: ``{name: spec.to_dict()}``."""
        return {name: spec.to_dict() for name, spec in self.specs().items()}

    @classmethod
    def from_dict(cls, data: Any) -> SearchSpace:
        """The space described by ``data``; missing names keep their defaults, a bare value means Fixed."""
        if not isinstance(data, dict):
            raise ConfigError("space", f"expected an object of hyperparameters, found {data!r}")
        specs: dict[str, Spec] = {}
        for name, value in data.items():
            if name not in BY_NAME:
                raise ConfigError(f"space.{name}", unknown_name("hyperparameter", name, BY_NAME))
            is_spec = isinstance(value, dict)
            specs[name] = spec_from_dict(value, field=f"space.{name}") if is_spec else Fixed(value)
        return cls(**specs)

    def errors(self) -> list[ConfigError]:
        """Every problem of the space, at most one per hyperparameter (empty when valid)."""
        found = []
        for name, spec in self.specs().items():
            problem = check_spec(BY_NAME[name], spec)
            if problem:
                found.append(ConfigError(f"space.{name}", problem))
        return found

    def validate(self) -> None:
        """Raise the first problem of the space as a ``ConfigError`` naming ``space.<name>``."""
        errors = self.errors()
        if errors:
            raise errors[0]

    def never_active(self) -> list[str]:
        """Conditional hyperparameters whose parent's spec never takes an activating value."""
        names = []
        for info in HYPERPARAMETERS:
            if info.parent is None:
                continue
            parent_name, activating = info.parent
            parent_spec = getattr(self, parent_name)
            if check_spec(BY_NAME[parent_name], parent_spec):
                continue  # an invalid parent: nothing can be said
            possible = discrete_values(parent_spec)
            if possible is not None and not any(_in(v, activating) for v in possible):
                names.append(info.name)
        return names

    def tuned(self) -> list[str]:
        """Hyperparameters that take more than one value in this space (and can be active)."""
        idle = set(self.never_active())
        return [name for name, spec in self.specs().items() if varies(spec) and name not in idle]

    def count(self, *, include_epochs: bool = True) -> int:
        """How many configurations Keras Tuner's GridSearch enumerates (conditions respected).

        A float range without a step contributes 11 values there: its default (the minimum) and
        the 10 evenly spaced values Keras Tuner takes from it.
        """
        total = _tree_count(self.hyperparameters(include_epochs=include_epochs), _grid_values)
        assert total is not None
        return total

    def distinct_count(self, *, include_epochs: bool = True) -> int | None:
        """How many distinct configurations random sampling can draw; None if a tuned float is continuous."""
        return _tree_count(self.hyperparameters(include_epochs=include_epochs), _sampled_values)

    def declare(self, hp: keras_tuner.HyperParameters, *, include_epochs: bool = True) -> dict[str, Any]:
        """Register every hyperparameter on ``hp``; return ``{name: value}``, None for inactive ones."""
        self.validate()
        values: dict[str, Any] = {}
        for info in HYPERPARAMETERS:
            if info.name == "epochs" and not include_epochs:
                continue
            spec = getattr(self, info.name)
            if info.parent is None:
                values[info.name] = _register(hp, info, spec)
                continue
            parent_name, activating = info.parent
            with hp.conditional_scope(parent_name, list(activating)):
                values[info.name] = _register(hp, info, spec)
        return values

    def hyperparameters(self, *, include_epochs: bool = True) -> keras_tuner.HyperParameters:
        """A fresh Keras Tuner ``HyperParameters`` with the whole space declared."""
        import keras_tuner

        hp = keras_tuner.HyperParameters()
        self.declare(hp, include_epochs=include_epochs)
        return hp

    def with_values(self, **specs: Spec | dict[str, Any]) -> SearchSpace:
        """A copy with some specs replaced (a dict is read with ``spec_from_dict``)."""
        changes: dict[str, Spec] = {}
        for name, spec in specs.items():
            if name not in BY_NAME:
                raise ConfigError(f"space.{name}", unknown_name("hyperparameter", name, BY_NAME))
            changes[name] = spec_from_dict(spec, field=f"space.{name}") if isinstance(spec, dict) else spec
        return dataclasses.replace(self, **changes)


def _in(value: Scalar, values: Iterable[Scalar]) -> bool:
    return any(value == v and isinstance(value, bool) == isinstance(v, bool) for v in values)


def _register(hp: keras_tuner.HyperParameters, info: HPInfo, spec: Spec) -> Any:
    """Declare one hyperparameter on ``hp`` with the Keras Tuner type that fits its spec."""
    name = info.name
    if not varies(spec):
        return hp.Fixed(name, coerce(info, single_value(spec)))
    if isinstance(spec, IntRange):
        return hp.Int(name, spec.min, spec.max, step=spec.step)
    if isinstance(spec, FloatRange):
        top = _reachable_max(spec)
        return hp.Float(name, float(spec.min), top, step=spec.step, sampling=spec.sampling)
    assert isinstance(spec, Choice)
    values = [coerce(info, v) for v in spec.values]
    if info.kind == "bool":
        return hp.Boolean(name, default=values[0])
    return hp.Choice(name, values)


def _reachable_max(spec: FloatRange) -> float:
    """The max to give Keras Tuner so that its floor division still reaches ``spec.max``.

    Keras Tuner counts a linear range's values as ``(max - min) // step + 1``, and in floats
    ``0.5 // 0.1 == 4``: it would never try 0.5. We nudge max up by as few ulps as needed.
    """
    top = float(spec.max)
    if spec.step is None or spec.sampling != "linear":
        return top
    wanted = round((spec.max - spec.min) / spec.step)
    for _ in range(64):
        if (top - spec.min) // spec.step >= wanted:
            break
        top = math.nextafter(top, math.inf)
    return top


def _grid_values(hp: Any) -> list[Any]:
    """The values GridSearch walks through: the default first, then ``hp.values``."""
    values = list(hp.values)
    if hp.default not in values:
        values.insert(0, hp.default)
    return values


def _sampled_values(hp: Any) -> list[Any] | None:
    """The values random sampling can draw, or None for a continuous range."""
    if getattr(hp, "step", 0) is None:
        return None
    return list(hp.values)


def _tree_count(hps: Any, values_of: Callable[[Any], list[Any] | None]) -> int | None:
    """Configurations of a space whose conditional hyperparameters hang off unconditional parents."""
    children: dict[str, list[Any]] = {}
    roots = []
    for hp in hps.space:
        if hp.conditions:
            children.setdefault(hp.conditions[0].name, []).append(hp)
        else:
            roots.append(hp)
    total = 1
    for root in roots:
        root_values = values_of(root)
        sizes = [(kid, values_of(kid)) for kid in children.get(root.name, [])]
        if root_values is None or any(v is None for _, v in sizes):
            return None
        total *= sum(
            math.prod(len(v) for kid, v in sizes if kid.conditions[0].is_active({root.name: value}))
            for value in root_values
        )
    return total
