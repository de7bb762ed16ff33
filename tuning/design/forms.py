"""A plain mapping between the design page's widget values and the engine's ``SearchConfig``.

A form is a plain dict: one ``HPChoice`` per hyperparameter under ``"hp"`` and the tuner, budget and
data settings under their own names. ``config_from_form`` and ``form_from_config`` convert exactly,
so a page can keep widget values in a form and a test can check the mapping without Streamlit.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from tuning.data import DataSpec
from tuning.data.digits import DIGITS_TEST_SIZE
from tuning.space.config import SearchConfig
from tuning.space.hyperparameters import BY_NAME, HYPERPARAMETERS, HPInfo
from tuning.space.searchspace import SearchSpace
from tuning.space.specs import Choice, Fixed, FloatRange, IntRange, Scalar, Spec, single_value

MODES = ("fixed", "range", "choices")

# Form keys that map one to one onto SearchConfig fields (the rest are "hp" and the data settings).
CONFIG_KEYS = (
    "tuner",
    "objective",
    "max_trials",
    "executions_per_trial",
    "hyperband_max_epochs",
    "hyperband_factor",
    "hyperband_iterations",
    "early_stopping_patience",
    "seed",
    "keep_checkpoints",
    "max_consecutive_failures",
    "workers",
    "pruning",
    "mixed_precision",
)
AUTO_WORKERS_FORM = 0  # the design page's number for workers: "auto"
DATA_KEYS = {
    "dataset": "name",
    "data_path": "path",
    "train_size": "train_size",
    "validation_split": "validation_split",
    "test_size": "test_size",
    "data_seed": "seed",
}


@dataclass(frozen=True)
class HPChoice:
    """How one hyperparameter is set on the form.

    ``mode`` picks which fields count: "fixed" uses ``fixed``; "range" uses ``low``, ``high``,
    ``step`` (None: continuous float) and ``log``; "choices" uses ``values``. The other fields keep
    what the user last chose there, so switching modes back and forth loses nothing.
    """

    mode: str
    fixed: Scalar
    low: float = 0
    high: float = 0
    step: float | None = None
    log: bool = False
    values: tuple[Scalar, ...] = ()

    def to_spec(self, info: HPInfo) -> Spec:
        """The engine's spec for this choice (not validated: ``SearchConfig.errors`` does that)."""
        if self.mode == "range" and info.kind == "int":
            return IntRange(int(self.low), int(self.high), int(self.step or 1))
        if self.mode == "range":
            return FloatRange(self.low, self.high, self.step, "log" if self.log else "linear")
        if self.mode == "choices":
            return Choice(tuple(self.values))
        return Fixed(self.fixed)


def modes_for(info: HPInfo) -> tuple[str, ...]:
    """The modes a hyperparameter offers: numbers may also take a range."""
    return MODES if info.numeric else ("fixed", "choices")


def log_grid(low: float, high: float) -> list[float]:
    """Log-spaced values 1, 2, 3, 5 per decade from ``low`` to ``high`` (0 first when ``low`` is 0)."""
    found: list[float] = [0.0] if low <= 0 else []
    start = math.floor(math.log10(low if low > 0 else high * 1e-5))
    for exponent in range(start, math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 3, 5):
            value = float(f"{mantissa}e{exponent}")
            if max(low, 1e-300) <= value * (1 + 1e-9) and value <= high * (1 + 1e-9):
                found.append(value)
    return found


def options_for(info: HPInfo, *extra: Scalar) -> list[Scalar]:
    """The values a picker offers for ``info`` (plus ``extra`` current values), sorted when numeric."""
    if not info.numeric:
        return list(info.values)
    assert info.min_value is not None and info.max_value is not None
    lo, hi = info.min_value, info.max_value
    if info.log_scale:
        base: list[Scalar] = list(log_grid(lo, hi))
    elif info.kind == "int" and hi - lo <= 20:
        base = list(range(int(lo), int(hi) + 1))
    elif info.kind == "int" and info.suggestions:
        base = [int(lo), *(int(v) for v in info.suggestions), int(hi)]
    elif info.kind == "int":
        base = [*range(int(lo), int(lo) + 10), *_round_steps(int(lo), int(hi)), int(hi)]
    else:
        step = 0.05 if hi - lo <= 1 else 0.25
        base = [*(round(lo + i * step, 6) for i in range(int((hi - lo) / step) + 1)), hi, *info.suggestions]
    numbers = {float(v) if info.kind == "float" else v for v in [*base, *extra] if not isinstance(v, (bool, str))}
    return sorted(numbers)  # type: ignore[type-var]


def _round_steps(lo: int, hi: int) -> list[int]:
    return [v for v in (10, 15, 20, 30, 50, 100) if lo <= v <= hi]


def _default_choice(info: HPInfo) -> HPChoice:
    """Sensible values for every mode of ``info``, used where a spec says nothing."""
    if not info.numeric:
        return HPChoice("fixed", info.values[0], values=tuple(info.values[:2]))
    assert info.min_value is not None and info.max_value is not None
    kind = int if info.kind == "int" else float
    picks = [kind(v) for v in info.suggestions] or [kind(info.min_value), kind(info.max_value)]
    low, high = min(picks), max(picks)
    step = 1 if info.kind == "int" else None
    return HPChoice("fixed", picks[0], low, high, step, info.log_scale and low > 0, tuple(picks[:3]))


def choice_from_spec(info: HPInfo, spec: Spec) -> HPChoice:
    """The form's record of ``spec``; fields of the other modes take sensible defaults."""
    base = _default_choice(info)
    if isinstance(spec, Fixed):
        return dataclasses.replace(base, mode="fixed", fixed=spec.value)
    if isinstance(spec, Choice):
        return dataclasses.replace(base, mode="choices", fixed=spec.values[0], values=tuple(spec.values))
    fixed = single_value(spec)
    if isinstance(spec, IntRange):
        return dataclasses.replace(base, mode="range", fixed=fixed, low=spec.min, high=spec.max, step=spec.step)
    log = spec.sampling == "log"
    return dataclasses.replace(base, mode="range", fixed=fixed, low=spec.min, high=spec.max, step=spec.step, log=log)


def form_from_config(config: SearchConfig) -> dict[str, Any]:
    """The form that shows ``config`` (``config_from_form`` gives ``config`` back)."""
    specs = config.space.specs()
    form: dict[str, Any] = {"hp": {info.name: choice_from_spec(info, specs[info.name]) for info in HYPERPARAMETERS}}
    form.update({key: getattr(config, key) for key in CONFIG_KEYS})
    form["workers"] = AUTO_WORKERS_FORM if config.workers == "auto" else config.workers
    form.update({key: getattr(config.data, field) for key, field in DATA_KEYS.items()})
    return form


def config_from_form(form: dict[str, Any]) -> SearchConfig:
    """The configuration a form describes (not validated: see ``check``); missing keys take defaults."""
    default = form_from_config(SearchConfig())
    hp = {**default["hp"], **form.get("hp", {})}
    space = SearchSpace(**{name: hp[name].to_spec(BY_NAME[name]) for name in BY_NAME})
    data = _fit_test_size(DataSpec(**{field: form.get(key, default[key]) for key, field in DATA_KEYS.items()}))
    settings = {key: form.get(key, default[key]) for key in CONFIG_KEYS}
    if settings["workers"] in (AUTO_WORKERS_FORM, "auto"):
        settings["workers"] = "auto"
    return SearchConfig(space=space, data=data, **settings)


def _fit_test_size(data: DataSpec) -> DataSpec:
    """The page has no control for the test set's size: one that the digits cannot supply means all 300."""
    if data.name == "digits" and data.test_size is not None and data.test_size > DIGITS_TEST_SIZE:
        return dataclasses.replace(data, test_size=None)
    return data


def check(config: SearchConfig) -> dict[str, str]:
    """Every problem of ``config`` as ``{field: message}`` (``space.dropout``, ``data.train_size``...)."""
    return {error.field: error.message for error in config.errors()}


def _preset(trials: int, epochs: int, train_size: int, **space: Spec) -> SearchConfig:
    base = SearchSpace(epochs=Fixed(epochs))
    data = DataSpec(train_size=train_size, test_size=min(1000, train_size // 2))
    return SearchConfig(space=base.with_values(**space), data=data, tuner="random", max_trials=trials)


PRESETS: dict[str, SearchConfig] = {
    # About a minute on two CPU cores: 8 small models, 5 epochs each, on 2000 synthetic images. Most reach
    # 85-99% (chance is 10%) with curves that rise over the epochs; Adam near the top of the learning-rate
    # range learns slower (tests/tuning/test_data_effects.py pins the effects down on the data).
    "quick demo": _preset(
        8,
        5,
        2000,
        conv_blocks=IntRange(1, 2),
        filters=Choice((16, 32)),
        learning_rate=FloatRange(1e-3, 1e-2, sampling="log"),
    ),
    # Longer searches stop hopeless trials early: the median rule after two epochs, ASHA over 1-3-9 epochs.
    "standard": dataclasses.replace(
        _preset(20, 5, 4000), tuner="bayesian", early_stopping_patience=2, pruning="median"
    ),
    "thorough": dataclasses.replace(
        _preset(
            50,
            10,
            10000,
            conv_blocks=IntRange(1, 4),
            filters=Choice((16, 32, 64)),
            batch_norm=Choice((True, False)),
            dense_units=Choice((64, 128, 256)),
            optimizer=Choice(("adam", "sgd", "rmsprop", "adamw")),
            weight_decay=Choice((0.0, 1e-4, 1e-3)),
            augment=Choice((False, True)),
            batch_size=Choice((32, 64, 128)),
        ),
        tuner="bayesian",
        early_stopping_patience=3,
        pruning="asha",
    ),
}

PRUNING_HELP: dict[str, str] = {
    "none": "Every trial trains all its epochs.",
    "median": "Median rule: after 2 epochs, stop a trial doing worse than the median of finished trials then.",
    "asha": "ASHA: at epochs 1, 3, 9... keep only the best third of trials that got there; stop the rest.",
}

TUNER_HELP: dict[str, str] = {
    "random": "Random search: tries configurations drawn at random; simple and hard to beat.",
    "bayesian": "Bayesian optimisation: learns from finished trials which regions look promising.",
    "hyperband": "Hyperband: trains many configurations briefly and gives more epochs to the best.",
    "grid": "Grid search: tries every combination in order; only for small spaces.",
}

EXPLANATIONS: dict[str, str] = {
    "conv_blocks": (
        "How many layers of pattern detectors the network stacks; each one looks at larger shapes. "
        "Too few: it only sees edges and colours. Too many: slower, and the image shrinks to nothing. Typical: 2-3."
    ),
    "filters": (
        "How many different patterns the first block can look for. Too few: it misses details. "
        "Too many: slower and more prone to memorising. Typical: 16-64."
    ),
    "filter_growth": (
        "Whether later blocks look for the same number of patterns or twice as many. "
        "Doubling is the usual choice: deeper blocks see more complex shapes."
    ),
    "kernel_size": (
        "The size of the window each pattern detector looks through, in pixels. "
        "3 is the usual choice; 5 sees more at once but is slower."
    ),
    "pooling": (
        "How each block shrinks the image: keep the strongest signal (max) or the average. "
        "Max usually works better for recognising objects."
    ),
    "batch_norm": (
        "Rescales values inside the network while it learns. It usually makes training faster and more "
        "stable, and lets you use a larger learning rate."
    ),
    "dense_layers": (
        "How many fully connected layers come after the pattern detectors to combine what they found. "
        "0 is often enough; more can help but also memorise. Typical: 0-2."
    ),
    "dense_units": (
        "How many units each of those layers has. Too few: it cannot combine enough clues. "
        "Too many: slow and memorises. Typical: 64-256."
    ),
    "activation": (
        "The small function each unit applies to its input. relu is the usual, fast choice; "
        "elu, gelu and swish are smoother variants; tanh and sigmoid are older and often learn slower."
    ),
    "dropout": (
        "Switches off a random fraction of units during training so the network cannot rely on any one. "
        "Too little: it may memorise the training images. Too much: it learns slowly. Typical: 0.1-0.5."
    ),
    "weight_decay": (
        "Gently pulls the network's weights towards zero, which discourages memorising. "
        "0 turns it off; too large stops it learning. Typical: 0.0001-0.001."
    ),
    "augment": (
        "Shows slightly changed copies of the images (mirrored, shifted) while training. "
        "Helps against memorising, especially with few images, but learning takes more epochs."
    ),
    "optimizer": (
        "The method that adjusts the weights after each batch. adam and adamw work well out of the box; "
        "sgd (with momentum) can end up better but needs a well-chosen learning rate."
    ),
    "learning_rate": (
        "How big a step the optimizer takes each time. Too small: learning crawls. Too large: it jumps "
        "around and never settles (accuracy stays low). Typical: 0.0001-0.01; best explored on a log scale."
    ),
    "momentum": (
        "How much each step keeps going in the direction of the previous ones, smoothing the path. "
        "Too little: slow and jittery. Too much: overshoots. Typical: 0.9."
    ),
    "loss": (
        "What the network is told it got wrong. crossentropy is standard; label smoothing makes it less "
        "over-confident; focal loss concentrates on the hardest images."
    ),
    "label_smoothing": (
        "How much certainty is taken away from the correct answer during training. "
        "Too much: predictions become vague. Typical: 0.05-0.2."
    ),
    "focal_gamma": (
        "How strongly focal loss ignores easy images to focus on hard ones. "
        "0 is plain crossentropy; too large ignores too much. Typical: 1-3."
    ),
    "batch_size": (
        "How many images the network looks at before each adjustment. Small: noisy but often learns well, "
        "slower per epoch. Large: faster per epoch but may need a larger learning rate. Typical: 32-128."
    ),
    "epochs": (
        "How many times the network sees every training image. Too few: it has not finished learning. "
        "Too many: it starts memorising and takes longer. Typical here: 3-20."
    ),
}
