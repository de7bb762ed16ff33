"""One Keras Tuner ``trial.json`` as a plain record: status, score, metrics, hyperparameter values.

Copes with what older keras-tuner versions wrote (no ``message``, no ``best_step``, 32-character hash
ids, ``hyperparameters`` without ``space``, scalar observations) and with NaN and Infinity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from tuning.store.status import is_pruned

HYPERBAND_PREFIX = "tuner/"
FINISHED = frozenset({"COMPLETED", "PRUNED", "FAILED", "INVALID"})
LAST_SHARED = b""  # in ``spaces``: the space shared last (no JSON text is empty)
MAX_SHARED_SPACES = 64  # distinct spaces shared per project; a project with more keeps one copy per trial beyond
LOWER_IS_BETTER = ("loss", "error", "mae", "mse", "mape", "msle", "crossentropy", "hinge", "divergence")


class MetricHistory(NamedTuple):
    """A metric's observations (``steps``, and at each the mean over executions in ``values``) and the
    direction Keras Tuner stored, if any.

    A tuple of tuples of plain values: the garbage collector stops tracking it after its first pass, which
    matters at a hundred thousand trials of four metrics each (a tuple per observation made it walk millions).
    """

    direction: str | None
    steps: tuple[int, ...]
    values: tuple[float, ...]

    def best_value(self, best_step: int | None, fallback_direction: str) -> float:
        """The value at ``best_step`` if observed (its last observation), else the best by direction, else NaN."""
        values = self.values
        if not values:
            return math.nan
        if best_step is not None and best_step in self.steps:
            return values[len(self.steps) - 1 - self.steps[::-1].index(best_step)]
        finite = [v for v in values if v == v]  # NaN is the one float not equal to itself
        if not finite:
            return values[-1]
        return min(finite) if (self.direction or fallback_direction) == "min" else max(finite)


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """What one trial file says, ready to become a row of the trials table."""

    trial_id: str
    status: str
    score: float
    best_step: int | None
    message: str | None
    values: Mapping[str, Any]
    metrics: Mapping[str, MetricHistory]
    space: tuple[Any, ...] = ()
    best_metrics: Mapping[str, float] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def hyperparameters(self) -> dict[str, Any]:
        return {k: v for k, v in self.values.items() if not is_tuner_value(k)}

    @property
    def tuner_values(self) -> dict[str, Any]:
        return {k: v for k, v in self.values.items() if is_tuner_value(k)}


def is_tuner_value(name: str) -> bool:
    """Whether ``name`` is one of Hyperband's bookkeeping values (``tuner/epochs``...), not a hyperparameter."""
    return name.startswith(HYPERBAND_PREFIX)


@lru_cache(maxsize=4096)
def direction_of(name: str) -> str:
    """How a metric improves, judged from its name: "min" for losses and errors, else "max"."""
    lowered = name.lower()
    return "min" if any(word in lowered for word in LOWER_IS_BETTER) else "max"


def parse_trial(
    data: Mapping[str, Any], *, fallback_id: str, spaces: dict[bytes, tuple[Any, ...]] | None = None
) -> TrialRecord:
    """A ``TrialRecord`` from a trial.json object; ``fallback_id`` (from the folder name) when it has none.

    ``spaces``: the search spaces seen so far, by their JSON; a trial whose space is among them shares that
    tuple. Every trial of a search carries the same space, and one copy instead of one per trial spares the
    memory and the garbage collector's passes over a hundred thousand copies.
    """
    hps = data.get("hyperparameters")
    hps = hps if isinstance(hps, Mapping) else {}
    values = hps.get("values") if isinstance(hps.get("values"), Mapping) else {}
    space = hps.get("space")
    metrics = _metrics(data.get("metrics"))
    best_step = _int_or_none(data.get("best_step"))
    best = {name: history.best_value(best_step, direction_of(name)) for name, history in metrics.items()}
    status = str(data.get("status") or "UNKNOWN").upper()
    return TrialRecord(
        trial_id=str(data.get("trial_id") or fallback_id),
        status="PRUNED" if is_pruned(status, data.get("message")) else status,
        score=_float(data.get("score")),
        best_step=best_step,
        message=last_line(data.get("message")),
        values={str(name): _plain(value) for name, value in values.items()},
        metrics=metrics,
        space=_shared_space(space, spaces) if isinstance(space, list) else (),
        best_metrics=best,
    )


def _shared_space(space: list[Any], spaces: dict[bytes, tuple[Any, ...]] | None) -> tuple[Any, ...]:
    own = tuple(space)
    if spaces is None:
        return own
    last = spaces.get(LAST_SHARED)
    if last is not None and last == own:  # the usual case: the same space as the trial before
        return last
    try:
        key = orjson.dumps(space)
    except orjson.JSONEncodeError:  # integers beyond 64 bits: kept as its own copy
        return own
    shared = spaces.get(key)
    if shared is None:
        if len(spaces) < MAX_SHARED_SPACES:
            spaces[key] = spaces[LAST_SHARED] = own
        return own
    # Equal JSON is not always equal values (orjson writes NaN as null): share only what compares equal.
    if shared == own:
        spaces[LAST_SHARED] = shared
        return shared
    return own


def _metrics(block: Any) -> dict[str, MetricHistory]:
    """``{"metrics": {name: {"direction", "observations": [{"value": [...], "step"}]}}}`` (older: flat)."""
    if not isinstance(block, Mapping):
        return {}
    inner = block.get("metrics", block)
    found: dict[str, MetricHistory] = {}
    for name, history in (inner if isinstance(inner, Mapping) else {}).items():
        if not isinstance(history, Mapping):
            continue
        direction = history.get("direction")
        steps: list[int] = []
        values: list[float] = []
        found_observations = history.get("observations")
        # Parsed JSON holds exactly dicts and lists: ``type() is`` costs less than an ABC check per epoch.
        for obs in found_observations if type(found_observations) is list else ():
            if type(obs) is dict:
                step = _int_or_none(obs.get("step"))
                steps.append(0 if step is None else step)
                values.append(_mean(obs.get("value")))
        known = direction if direction in ("min", "max") else None
        found[str(name)] = MetricHistory(known, tuple(steps), tuple(values))
    return found


def _mean(value: Any) -> float:
    """The mean of one observation's values (one per execution); NaN when none is a number."""
    if type(value) is list and len(value) == 1 and type(value[0]) is float:  # one execution: the usual case
        return value[0]
    items = value if isinstance(value, list) else [value]
    numbers = [_float(v) for v in items]
    if not numbers:
        return math.nan
    try:
        return math.fsum(numbers) / len(numbers)
    except (OverflowError, ValueError):  # huge values, or inf and -inf together
        return sum(numbers) / len(numbers)


def _float(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        return float(value)
    except OverflowError:  # an integer of hundreds of digits
        return math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        return math.nan


def _int_or_none(value: Any) -> int | None:
    """An integer that fits 64 bits (steps, epochs), or None."""
    if type(value) is int:  # the usual case (not a bool, whose type is bool)
        return value if abs(value) < 2**63 else None
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if abs(number) < 2**63 else None


def _plain(value: Any) -> Any:
    """A hyperparameter's value as found, except an integer too large for 64 bits: a float (infinite beyond
    float range), so that every number in a column converts to float."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return _float(value)
    return value


def last_line(message: Any) -> str | None:
    """The last non-empty line of a traceback: the exception and what it said."""
    if not isinstance(message, str):
        return None
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else None


def trial_sort_key(trial_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order, then any others (hash ids) alphabetically."""
    return (0, int(trial_id), "") if trial_id.isdigit() else (1, 0, trial_id)
