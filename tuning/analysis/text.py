"""Words and numbers as people read them: hyperparameter labels, metric names, nicely rounded numbers."""

from __future__ import annotations

import math

import numpy as np

from tuning.space.hyperparameters import BY_NAME


def hp_label(name: str) -> str:
    """The hyperparameter's label ("Learning rate"), or its name made readable for unknown ones."""
    info = BY_NAME.get(name)
    return info.label if info is not None else name.replace("_", " ").capitalize()


def hp_phrase(name: str) -> str:
    """The label as used inside a sentence ("learning rate")."""
    label = hp_label(name)
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def metric_label(name: str) -> str:
    """A metric name in words: ``val_accuracy`` -> "validation accuracy", ``loss`` -> "loss"."""
    words = name.split("_")
    if words and words[0] == "val":
        words[0] = "validation"
    return " ".join("accuracy" if w == "acc" else w for w in words)


def direction_text(direction: str) -> str:
    """ "higher is better" or "lower is better"."""
    return "higher is better" if direction == "max" else "lower is better"


def score_title(name: str, direction: str) -> str:
    """An axis title for the objective, saying which way is better: "val_loss (lower is better)"."""
    return f"{name} ({direction_text(direction)})"


def number(value: float | None) -> str:
    """A number rounded for reading: 0.812, 0.00001, 2.3, 1,024, 12,346; "n/a" when missing."""
    if value is None or math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "infinite" if value > 0 else "minus infinite"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) < 1e-6:
        return f"{value:.1e}"
    return str(np.format_float_positional(value, precision=3, fractional=False, trim="-"))


def score_text(value: float | None, metric: str) -> str:
    """A score as people read it: accuracies as percentages (81.2%), other metrics as ``number``."""
    if value is not None and "acc" in metric and 0.0 <= value <= 1.0:
        return f"{100 * value:.1f}%"
    return number(value)


def percent(share: float) -> str:
    """A share as a percentage: "35%", "less than 1%"."""
    return "less than 1%" if 0 < share < 0.005 else f"{share:.0%}"


def duration(seconds: float) -> str:
    """A duration in the largest fitting unit: "45 s", "12 min", "2.5 h"."""
    if seconds < 120:
        return f"{number(round(seconds))} s"
    if seconds < 7200:
        return f"{number(round(seconds / 60))} min"
    return f"{number(round(seconds / 3600, 1))} h"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """ "1 trial", "3 trials"."""
    return f"{number(n)} {noun if n == 1 else plural or noun + 's'}"
