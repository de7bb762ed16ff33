"""Every hyperparameter of the CIFAR-10 CNN, described once, and the check of a spec against it.

``HYPERPARAMETERS`` is the registry the app builds its controls from and the search space is
validated against: name, kind, group, label, help, unit, allowed values or hard limits, typical
values and the condition under which a hyperparameter is used at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from tuning.space.specs import Choice, Fixed, FloatRange, IntRange, Scalar, format_value

KINDS = ("int", "float", "categorical", "bool")
GROUPS = ("architecture", "regularisation", "optimisation", "training")
SAMPLINGS = ("linear", "log")
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class HPInfo:
    """What one hyperparameter is and which values it may take.

    ``kind`` is "int" or "float" (any number within ``min_value..max_value``), "categorical"
    (one of ``values``) or "bool". ``parent`` is ``(parent_name, activating_values)`` for a
    hyperparameter that is only used when its parent takes one of those values.
    """

    name: str
    kind: str
    group: str
    label: str
    help: str
    unit: str = ""
    values: tuple[Scalar, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    log_scale: bool = False
    suggestions: tuple[Scalar, ...] = ()
    parent: tuple[str, tuple[Scalar, ...]] | None = None

    @property
    def numeric(self) -> bool:
        """Whether values are numbers within hard limits (int and float kinds)."""
        return self.kind in ("int", "float")

    def condition_text(self) -> str:
        """When the hyperparameter is used, e.g. "only when optimizer is sgd or rmsprop" ("" if always)."""
        if self.parent is None:
            return ""
        name, values = self.parent
        return f"only when {name} is {' or '.join(format_value(v) for v in values)}"


def _int(name: str, group: str, label: str, help: str, lo: int, hi: int, **extra: Any) -> HPInfo:
    return HPInfo(name, "int", group, label, help, min_value=lo, max_value=hi, **extra)


def _float(name: str, group: str, label: str, help: str, lo: float, hi: float, **extra: Any) -> HPInfo:
    return HPInfo(name, "float", group, label, help, min_value=lo, max_value=hi, **extra)


def _cat(name: str, group: str, label: str, help: str, values: tuple[Scalar, ...], **extra: Any) -> HPInfo:
    return HPInfo(name, "categorical", group, label, help, values=values, **extra)


def _bool(name: str, group: str, label: str, help: str) -> HPInfo:
    return HPInfo(name, "bool", group, label, help, values=(True, False))


_ARCH, _REG, _OPT, _TRAIN = GROUPS
_POWERS_OF_TWO = (8, 16, 32, 64, 128, 256, 512)

HYPERPARAMETERS: tuple[HPInfo, ...] = (
    _int("conv_blocks", _ARCH, "Convolutional blocks",
         "Blocks of convolution + pooling; each halves the 32x32 image.", 1, 4, unit="blocks"),
    _int("filters", _ARCH, "Filters", "Filters of the first convolutional block.", 8, 128,
         unit="filters", suggestions=_POWERS_OF_TWO[:5]),
    _cat("filter_growth", _ARCH, "Filter growth",
         "Filters per block: the same in every block, or doubled after each block.", ("same", "double")),
    _cat("kernel_size", _ARCH, "Kernel size", "Side of the square convolution kernels.", (3, 5),
         unit="pixels"),
    _cat("pooling", _ARCH, "Pooling", "Downsampling after each convolutional block.", ("max", "average")),
    _bool("batch_norm", _ARCH, "Batch normalisation", "Batch normalisation after each convolution."),
    _int("dense_layers", _ARCH, "Dense layers", "Hidden fully connected layers before the output.", 0, 3,
         unit="layers"),
    _int("dense_units", _ARCH, "Dense units", "Units of each hidden dense layer.", 8, 1024, unit="units",
         suggestions=_POWERS_OF_TWO[2:], parent=("dense_layers", (1, 2, 3))),
    _cat("activation", _ARCH, "Activation", "Activation function of hidden layers.",
         ("relu", "elu", "gelu", "swish", "tanh", "sigmoid")),
    _float("dropout", _REG, "Dropout", "Fraction of units dropped before each dense layer.", 0.0, 0.8,
           suggestions=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5)),
    _float("weight_decay", _REG, "Weight decay", "Decoupled weight decay applied by the optimizer.",
           0.0, 0.1, log_scale=True, suggestions=(0.0, 1e-5, 1e-4, 1e-3, 1e-2)),
    _bool("augment", _REG, "Augmentation", "Random horizontal flips and small translations."),
    _cat("optimizer", _OPT, "Optimizer", "Optimisation algorithm.", ("sgd", "adam", "rmsprop", "adamw")),
    _float("learning_rate", _OPT, "Learning rate", "Step size of the optimizer.", 1e-6, 1.0,
           log_scale=True, suggestions=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2)),
    _float("momentum", _OPT, "Momentum", "Momentum of SGD or RMSprop.", 0.0, 0.99,
           suggestions=(0.0, 0.5, 0.9, 0.95, 0.99), parent=("optimizer", ("sgd", "rmsprop"))),
    _cat("loss", _TRAIN, "Loss", "Training loss: cross-entropy, with label smoothing, or focal.",
         ("crossentropy", "label_smoothing", "focal")),
    _float("label_smoothing", _TRAIN, "Label smoothing", "Probability mass spread over the other classes.",
           0.0, 0.5, suggestions=(0.05, 0.1, 0.2), parent=("loss", ("label_smoothing",))),
    _float("focal_gamma", _TRAIN, "Focal gamma", "Focusing exponent of the focal loss.", 0.0, 5.0,
           suggestions=(1.0, 2.0, 3.0), parent=("loss", ("focal",))),
    _int("batch_size", _TRAIN, "Batch size", "Images per training step.", 8, 1024, unit="images",
         suggestions=_POWERS_OF_TWO[1:]),
    _int("epochs", _TRAIN, "Epochs", "Passes over the training set (Hyperband decides them itself).", 1, 100,
         unit="epochs"),
)  # fmt: skip

BY_NAME: MappingProxyType[str, HPInfo] = MappingProxyType({hp.name: hp for hp in HYPERPARAMETERS})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _found(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def coerce(info: HPInfo, value: Scalar) -> Scalar:
    """``value`` as the Python type the model expects (floats for float hyperparameters)."""
    return float(value) if info.kind == "float" else value


def _check_limits(info: HPInfo, value: float, what: str) -> str | None:
    assert info.min_value is not None and info.max_value is not None
    if value < info.min_value:
        return f"{what} ({format_value(value)}) is below the lowest allowed value, {format_value(info.min_value)}"
    if value > info.max_value:
        return f"{what} ({format_value(value)}) is above the highest allowed value, {format_value(info.max_value)}"
    return None


def check_value(info: HPInfo, value: Any, *, what: str = "value") -> str | None:
    """Why ``value`` is not a valid value of ``info`` (None when it is)."""
    if info.kind == "bool":
        return None if isinstance(value, bool) else f"expected true or false, found {_found(value)}"
    if info.kind == "categorical":
        if any(value == v and type(value) is type(v) for v in info.values):
            return None
        allowed = ", ".join(format_value(v) for v in info.values)
        return f"expected one of {allowed}; found {_found(value)}"
    if info.kind == "int" and not _is_int(value):
        return f"expected an integer, found {_found(value)}"
    if not _is_number(value):
        return f"expected a number, found {_found(value)}"
    return _check_limits(info, value, what)


def _check_choice(info: HPInfo, spec: Choice) -> str | None:
    if not isinstance(spec.values, tuple):
        return f"a choice's values must be a list, found {_found(spec.values)}"
    if not spec.values:
        return "the choice is empty; list at least one value"
    for index, value in enumerate(spec.values):
        problem = check_value(info, value, what="choice value")
        if problem:
            return f"in the choice: {problem}" if problem.startswith("expected") else problem
        if value in spec.values[:index]:
            return f"the choice lists {format_value(value)} more than once"
    return None


def _check_step_fits(low: float, high: float, step: float, *, log: bool) -> str | None:
    """Why ``step`` does not divide ``low..high`` into whole steps (additive, or a factor if ``log``)."""
    word = "factor" if log else "step"
    if low == high:
        return None
    span = math.log(high / low) / math.log(step) if log else (high - low) / step
    if span < 1 - _TOLERANCE:
        return f"{word} ({format_value(step)}) is larger than the range {format_value(low)} to {format_value(high)}"
    if abs(span - round(span)) > _TOLERANCE * max(1.0, span):
        below = low * step ** math.floor(span) if log else low + step * math.floor(span)
        above = low * step ** math.ceil(span) if log else low + step * math.ceil(span)
        return (
            f"max ({format_value(high)}) is not reached from min ({format_value(low)}) in whole {word}s "
            f"of {format_value(step)}; use a max of {format_value(below)} or {format_value(above)}"
        )
    return None


def _check_bounds(info: HPInfo, low: Any, high: Any, *, log: bool = False) -> str | None:
    bounds = (("min", low), ("max", high))
    for what, value in bounds:
        if info.kind == "int" and not _is_int(value):
            return f"{what}: expected an integer, found {_found(value)}"
        if not _is_number(value):
            return f"{what}: expected a number, found {_found(value)}"
    if log and low <= 0:
        return f"a log range must stay above zero, found min {format_value(low)}; use a positive min or a linear range"
    if low > high:
        return f"min ({format_value(low)}) is above max ({format_value(high)})"
    for what, value in bounds:
        problem = _check_limits(info, value, what)
        if problem:
            return problem
    return None


def _check_int_range(info: HPInfo, spec: IntRange) -> str | None:
    problem = _check_bounds(info, spec.min, spec.max)
    if problem:
        return problem
    if not _is_int(spec.step):
        return f"step: expected an integer, found {_found(spec.step)}"
    if spec.step < 1:
        return f"step must be at least 1, found {spec.step}"
    return _check_step_fits(spec.min, spec.max, spec.step, log=False)


def _check_float_range(info: HPInfo, spec: FloatRange) -> str | None:
    if spec.sampling not in SAMPLINGS:
        return f"sampling must be linear or log, found {_found(spec.sampling)}"
    log = spec.sampling == "log"
    problem = _check_bounds(info, spec.min, spec.max, log=log)
    if problem:
        return problem
    if spec.step is None:
        return None
    if not _is_number(spec.step):
        return f"step: expected a number or null, found {_found(spec.step)}"
    if log and spec.step <= 1:
        return (
            "the step of a log range is the factor between neighbouring values and must be above 1, "
            f"found {format_value(spec.step)}"
        )
    if spec.step <= 0:
        return f"step must be above 0, found {format_value(spec.step)}"
    return _check_step_fits(spec.min, spec.max, spec.step, log=log)


_RANGE_NAMES = {"int": "an integer range", "float": "a float range"}


def check_spec(info: HPInfo, spec: Any) -> str | None:
    """Why ``spec`` is not a valid setting of ``info`` (None when it is)."""
    if isinstance(spec, Fixed):
        return check_value(info, spec.value)
    if isinstance(spec, Choice):
        return _check_choice(info, spec)
    own = _RANGE_NAMES.get(info.kind)
    if isinstance(spec, IntRange) and info.kind == "int":
        return _check_int_range(info, spec)
    if isinstance(spec, FloatRange) and info.kind == "float":
        return _check_float_range(info, spec)
    expected = f"{own}, a choice or a fixed value" if own else "a choice or a fixed value"
    if isinstance(spec, (IntRange, FloatRange)):
        return f"expected {expected}; found {_RANGE_NAMES[spec.to_dict()['type']]}"
    return f"expected {expected}; found {_found(spec)}"
