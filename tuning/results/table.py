"""The trials DataFrame (see ``tuning.results.model``), built once and then patched row by row.

A live search changes one or two trials between two polls; rebuilding ten thousand rows each time would
cost more than everything else a refresh does. ``TrialTable`` keeps the last frame and, when the columns
and the order of the earlier trials are unchanged, only rewrites changed rows and appends new ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat
from typing import Any

import pandas as pd

from tuning.results.model import HB_PREFIX, HP_PREFIX, METRIC_PREFIX
from tuning.results.space import column_dtype
from tuning.results.trials import TrialRecord

Times = tuple[float, float, float]  # (started_at, ended_at, duration_s), NaN when unknown
NO_TIMES: Times = (math.nan, math.nan, math.nan)
RowOf = Callable[[str], Sequence[Any]]  # a trial id -> its row
CORE_DTYPES: dict[str, str] = {
    "number": "Int64",
    "status": "str",
    "score": "float64",
    "best_step": "Int64",
    "duration_s": "float64",
    "started_at": "float64",
    "ended_at": "float64",
    "message": "object",
}
HB_KEYS: dict[str, str] = {  # column -> Keras Tuner's value name
    HB_PREFIX + "bracket": "tuner/bracket",
    HB_PREFIX + "round": "tuner/round",
    HB_PREFIX + "parent": "tuner/trial_id",
    HB_PREFIX + "epochs": "tuner/epochs",
    HB_PREFIX + "initial_epoch": "tuner/initial_epoch",
}


@dataclass(frozen=True)
class Columns:
    """The columns of a trials table and their dtypes, in order; a change means a full rebuild."""

    metrics: tuple[str, ...]
    hps: tuple[tuple[str, str], ...]  # (name, dtype)
    hyperband: bool

    @cached_property
    def hp_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.hps)

    def dtypes(self) -> dict[str, str]:
        dtypes = dict(CORE_DTYPES)
        dtypes.update({METRIC_PREFIX + name: "float64" for name in self.metrics})
        dtypes.update({HP_PREFIX + name: dtype for name, dtype in self.hps})
        if self.hyperband:
            dtypes.update({col: "string" if col.endswith(":parent") else "Int64" for col in HB_KEYS})
        return dtypes


def row_values(record: TrialRecord, number: int, times: Times, columns: Columns) -> tuple[Any, ...]:
    """The row of one trial, in the order of ``columns.dtypes()`` (a tuple of plain values, which the garbage
    collector stops tracking: the table keeps one per trial). Built with ``map`` over bound ``dict.get``: a
    hundred thousand rows at a time when a large project is opened."""
    started, ended, duration = times
    row = (
        number,
        record.status,
        record.score,
        record.best_step,
        duration,
        started,
        ended,
        record.message,
        *map(record.best_metrics.get, columns.metrics, repeat(math.nan)),
        *map(record.values.get, columns.hp_names),
    )
    if columns.hyperband:
        row += tuple(_hb_value(record.values.get(key), col) for col, key in HB_KEYS.items())
    return row


def _hb_value(value: Any, column: str) -> Any:
    if value is None:
        return None
    return str(value) if column.endswith(":parent") else value


def build_frame(ids: Sequence[str], rows: Sequence[Sequence[Any]], columns: Columns) -> tuple[pd.DataFrame, list[str]]:
    """The DataFrame of these rows, and the columns whose values did not fit their declared dtype."""
    index = pd.Index(list(ids), dtype=object, name="trial_id")
    data: dict[str, pd.Series] = {}
    misfits = []
    dtypes = columns.dtypes()
    by_column = list(zip(*rows, strict=True)) if rows else [()] * len(dtypes)
    for position, (name, dtype) in enumerate(dtypes.items()):
        values = list(by_column[position])
        array, fitted = _array(values, dtype)
        data[name] = pd.Series(array, index=index, dtype=array.dtype, copy=False)
        if not fitted:
            misfits.append(name)
    return pd.DataFrame(data, index=index, copy=False), misfits


def _array(values: list[Any], dtype: str) -> tuple[Any, bool]:
    if dtype == "object":
        return pd.array(values, dtype=object), True
    try:
        return pd.array(values, dtype=dtype), True
    except (TypeError, ValueError, OverflowError):
        pass
    if dtype == "Int64":
        try:
            return pd.array(values, dtype="Float64"), False
        except (TypeError, ValueError, OverflowError):
            pass
    return pd.array(values, dtype=object), False


class TrialTable:
    """The last trials frame, patched in place of a rebuild whenever possible."""

    def __init__(self) -> None:
        self.frame: pd.DataFrame | None = None
        self.columns: Columns | None = None
        self.order: list[str] = []
        self.misfits: list[str] = []
        self.rebuilds = 0
        self._rows: dict[str, Sequence[Any]] = {}  # the values each row was built from

    def update(
        self,
        order: list[str],
        changed: set[str],
        row_of: RowOf,
        columns: Columns,
    ) -> pd.DataFrame:
        """The frame for trials in ``order``; ``changed`` ids get new rows from ``row_of(id)``."""
        old = self.order
        if (
            self.frame is None
            or columns != self.columns
            or len(order) < len(old)
            or order[: len(old)] != old
            or self.misfits
        ):
            return self._rebuild(order, row_of, columns)
        added = order[len(old) :]
        known = set(old)
        patch = [i for i in changed if i in known]
        if len(patch) > max(len(old) // 10, 50):
            return self._rebuild(order, row_of, columns)
        if patch and not self._patch(patch, row_of, columns):
            return self._rebuild(order, row_of, columns)
        if added:
            rows = [row_of(i) for i in added]
            extra, misfits = build_frame(added, rows, columns)
            if misfits:
                return self._rebuild(order, row_of, columns)
            self._rows.update(zip(added, rows, strict=True))
            frame = pd.concat([self.frame, extra])
            frame.index = pd.Index(frame.index, dtype=object, name="trial_id")  # concat would infer "str"
            self.frame = frame
        self.order = list(order)
        return self.frame

    def _patch(self, ids: list[str], row_of: RowOf, columns: Columns) -> bool:
        """Rewrite the changed cells of the rows of ``ids``, in copies of their columns (frames handed out
        before stay as they were)."""
        assert self.frame is not None
        rows = [row_of(i) for i in ids]
        names = list(columns.dtypes())
        touched = sorted({j for i, row in zip(ids, rows, strict=True) for j in _differences(self._rows.get(i), row)})
        if not touched:
            return True
        small, misfits = build_frame(ids, rows, columns)
        if misfits or any(self.frame.dtypes[names[j]] != small.dtypes[names[j]] for j in touched):
            return False
        positions = self.frame.index.get_indexer(ids)
        frame = self.frame.copy(deep=False)
        for j in touched:
            array = frame[names[j]].array.copy()
            array[positions] = small[names[j]].array
            frame[names[j]] = pd.Series(array, index=frame.index, copy=False)
        self.frame = frame
        self._rows.update(zip(ids, rows, strict=True))
        return True

    def _rebuild(self, order: list[str], row_of: RowOf, columns: Columns) -> pd.DataFrame:
        rows = [row_of(i) for i in order]
        self._rows = dict(zip(order, rows, strict=True))
        self.frame, self.misfits = build_frame(order, rows, columns)
        self.columns = columns
        self.order = list(order)
        self.rebuilds += 1
        return self.frame


def hp_columns(space: Sequence[Any]) -> tuple[tuple[str, str], ...]:
    """(name, dtype) of each hyperparameter's column."""
    return tuple((info.name, column_dtype(info)) for info in space)


def _differences(old: Sequence[Any] | None, new: Sequence[Any]) -> list[int]:
    """Positions where two rows differ (NaN equals NaN); every position when there is no old row."""
    if old is None or len(old) != len(new):
        return list(range(len(new)))
    return [j for j, (a, b) in enumerate(zip(old, new, strict=True)) if not _same(a, b)]


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b) or (a != a and b != b)
    except (TypeError, ValueError):
        return False
