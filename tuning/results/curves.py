"""Learning curves in long format (``trial_id, execution, epoch, metric, value, source``), kept current.

Three sources, best first: this app's ``explorer/metrics.jsonl`` ("engine": every epoch of every
execution), TensorBoard event files ("tensorboard", see ``tuning.results.tblogs``), and the observations
Keras Tuner keeps in each ``trial.json`` ("best_epoch": only the best epoch, unless an old Keras Tuner
recorded every epoch). Executions are numbered from 0, epochs from 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from itertools import chain, repeat
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from tuning.results.model import CURVE_COLUMNS
from tuning.results.trials import TrialRecord

Point = tuple[str, int, int, str, float]  # (trial_id, execution, epoch, metric, value)
BOOKKEEPING = frozenset({"trial_id", "session", "execution", "epoch", "time"})
BEST_EPOCH_NOTE = (
    "Keras Tuner keeps only each trial's best epoch; log with the TensorBoard callback or use this app's "
    "engine for full curves."
)


class Block(NamedTuple):
    """One trial's points as four columns: a few tuples per trial instead of one per point. A hundred thousand
    trials of twenty points each were two million tuples for the garbage collector to walk; tuples of plain
    values are no longer tracked after its first pass."""

    executions: tuple[int, ...] = ()
    epochs: tuple[int, ...] = ()
    metrics: tuple[str, ...] = ()
    values: tuple[float, ...] = ()

    @classmethod
    def of(cls, points: Iterable[Point]) -> Block:
        columns = tuple(zip(*points, strict=True))
        return cls(*columns[1:]) if columns else cls()

    def followed_by(self, other: Block) -> Block:
        """This block's points, then ``other``'s."""
        return Block(*(a + b for a, b in zip(self, other, strict=True)))


def curves_frame(points: list[Point], source: str) -> pd.DataFrame:
    """The long curves DataFrame of these points, in their order, all from ``source``."""
    runs: list[list[Point]] = []  # consecutive points of one trial
    for point in points:
        if not runs or runs[-1][0][0] != point[0]:
            runs.append([])
        runs[-1].append(point)
    return blocks_frame([(run[0][0], Block.of(run)) for run in runs], source)


def blocks_frame(blocks: list[tuple[str, Block]], source: str) -> pd.DataFrame:
    """The long curves DataFrame of these trials' blocks, in their order, all from ``source``.

    Columns are filled at C speed: numbers with ``np.fromiter`` over the chained lists, strings as codes
    into their few distinct values (``pd.factorize``), taken from a small array of the "str" dtype.
    """
    lengths = np.fromiter((len(block.values) for _, block in blocks), dtype=np.int64, count=len(blocks))
    total = int(lengths.sum())
    if not total:
        return empty_curves()

    def chained(column: int, dtype: Any) -> np.ndarray:
        return np.fromiter(chain.from_iterable(block[column] for _, block in blocks), dtype=dtype, count=total)

    metric_codes, metric_names = pd.factorize(chained(2, object))
    return pd.DataFrame(
        {
            "trial_id": _strings([trial_id for trial_id, _ in blocks], np.repeat(np.arange(len(blocks)), lengths)),
            "execution": chained(0, np.int64),
            "epoch": chained(1, np.int64),
            "metric": _strings(list(metric_names), metric_codes),
            "value": chained(3, np.float64),
            "source": _strings([source], np.zeros(total, dtype=np.intp)),
        }
    )


def _strings(distinct: list[str], codes: np.ndarray) -> pd.Series:
    """A "str" column of ``distinct[code]`` for each code."""
    return pd.Series(pd.array(distinct, dtype="str").take(codes))


def empty_curves() -> pd.DataFrame:
    """A curves frame without rows, with the model's columns and dtypes."""
    dtypes = {"trial_id": "str", "execution": "int64", "epoch": "int64", "metric": "str", "value": "float64"}
    return pd.DataFrame({col: pd.array([], dtype=dtypes.get(col, "str")) for col in CURVE_COLUMNS})


class CurveTable:
    """Each trial's points and the frame of all of them, patched (never rebuilt) as curves grow or change."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._blocks: dict[str, Block] = {}
        self._frame: pd.DataFrame | None = None
        self._pending: dict[str, Block] = {}  # points added since the last frame, by trial
        self._replaced: set[str] = set()

    def has_points(self) -> bool:
        return any(block.values for block in self._blocks.values())

    def replace(self, trial_id: str, points: list[Point] | Block) -> None:
        """Make ``points`` the whole curve of ``trial_id``."""
        block = points if isinstance(points, Block) else Block.of(points)
        if self._frame is not None:  # before the first frame, there is nothing to patch
            if self._blocks.get(trial_id, Block()).values:
                self._replaced.add(trial_id)
            self._pending.pop(trial_id, None)
            self._pending[trial_id] = block
        self._blocks[trial_id] = block

    def append(self, trial_id: str, points: list[Point]) -> None:
        """Add ``points`` to the curve of ``trial_id``."""
        block = Block.of(points)
        self._blocks[trial_id] = self._blocks.get(trial_id, Block()).followed_by(block)
        if self._frame is not None:
            self._pending[trial_id] = self._pending.get(trial_id, Block()).followed_by(block)

    def frame(self) -> pd.DataFrame:
        """Every point, as a frame: the last one without replaced curves, plus the points added since."""
        if self._frame is None:
            self._frame = blocks_frame(list(self._blocks.items()), self.source)
        else:
            frame = self._frame
            if self._replaced:
                frame = frame[~frame["trial_id"].isin(self._replaced)]
            if self._pending:
                frame = pd.concat([frame, blocks_frame(list(self._pending.items()), self.source)], ignore_index=True)
            elif self._replaced:
                frame = frame.reset_index(drop=True)
            self._frame = frame
        self._pending, self._replaced = {}, set()
        return self._frame


class EngineCurves:
    """Folds ``metrics.jsonl`` lines into curves, keeping for each trial only its latest session's epochs."""

    def __init__(self) -> None:
        self.table = CurveTable("engine")
        self._session: dict[str, int] = {}

    def feed(self, records: Iterable[Mapping[str, Any]]) -> set[str]:
        """Take new lines; return the ids of trials whose curves changed. The table gets one change per trial
        (its new curve, or the points to add to the one it has), however many lines there were."""
        started: dict[str, list[Point]] = {}  # trials whose latest session starts in these lines
        added: dict[str, list[Point]] = {}  # points that extend a trial's curve in the table
        for record in records:
            trial_id = record.get("trial_id")
            epoch = _int(record.get("epoch"))
            if trial_id is None or epoch is None:
                continue
            trial_id, session = str(trial_id), _int(record.get("session")) or 0
            latest = self._session.get(trial_id)
            if latest is not None and session < latest:
                continue
            points = _record_points(trial_id, epoch, record)
            if latest is None or session > latest:
                self._session[trial_id] = session
                started[trial_id] = points
                added.pop(trial_id, None)
            else:
                (started if trial_id in started else added).setdefault(trial_id, []).extend(points)
        for trial_id, points in started.items():
            self.table.replace(trial_id, points)
        for trial_id, points in added.items():
            self.table.append(trial_id, points)
        return set(started) | set(added)


def _record_points(trial_id: str, epoch: int, record: Mapping[str, Any]) -> list[Point]:
    execution = _int(record.get("execution")) or 0
    return [
        (trial_id, execution, epoch, str(name), _float(value))
        for name, value in record.items()
        if name not in BOOKKEEPING and (value is None or _is_number(value))
    ]


def best_epoch_points(record: TrialRecord) -> Block:
    """The observations Keras Tuner kept for one trial (its best epoch, at ``best_step + 1``)."""
    histories = record.metrics
    values = tuple(chain.from_iterable(history.values for history in histories.values()))
    return Block(
        executions=(0,) * len(values),
        epochs=tuple(step + 1 for history in histories.values() for step in history.steps),
        metrics=tuple(chain.from_iterable(repeat(name, len(history.values)) for name, history in histories.items())),
        values=values,
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float(value: Any) -> float:
    return float(value) if _is_number(value) else math.nan


def _int(value: Any) -> int | None:
    if not _is_number(value):
        return None
    try:
        return int(value)
    except (ValueError, OverflowError):
        return None
