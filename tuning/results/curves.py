"""Learning curves in long format (``trial_id, execution, epoch, metric, value, source``), kept current.

Three sources, best first: this app's ``explorer/metrics.jsonl`` ("engine": every epoch of every
execution), TensorBoard event files ("tensorboard", see ``tuning.results.tblogs``), and the observations
Keras Tuner keeps in each ``trial.json`` ("best_epoch": only the best epoch, unless an old Keras Tuner
recorded every epoch). Executions are numbered from 0, epochs from 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

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


def curves_frame(points: list[Point], source: str) -> pd.DataFrame:
    """The long curves DataFrame of these points, all from ``source``."""
    if not points:
        return empty_curves()
    trial_ids, executions, epochs, metrics, values = zip(*points, strict=True)
    return pd.DataFrame(
        {
            "trial_id": pd.Series(list(trial_ids), dtype="str"),
            "execution": np.array(executions, dtype="int64"),
            "epoch": np.array(epochs, dtype="int64"),
            "metric": pd.Series(list(metrics), dtype="str"),
            "value": np.array(values, dtype="float64"),
            "source": pd.Series(source, index=range(len(points)), dtype="str"),
        }
    )


def empty_curves() -> pd.DataFrame:
    """A curves frame without rows, with the model's columns and dtypes."""
    dtypes = {"trial_id": "str", "execution": "int64", "epoch": "int64", "metric": "str", "value": "float64"}
    return pd.DataFrame({col: pd.array([], dtype=dtypes.get(col, "str")) for col in CURVE_COLUMNS})


class CurveTable:
    """Each trial's points and the frame of all of them, patched (never rebuilt) as curves grow or change."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._points: dict[str, list[Point]] = {}
        self._frame: pd.DataFrame | None = None
        self._pending: list[Point] = []
        self._replaced: set[str] = set()

    def has_points(self) -> bool:
        return any(self._points.values())

    def replace(self, trial_id: str, points: list[Point]) -> None:
        """Make ``points`` the whole curve of ``trial_id``."""
        if self._points.get(trial_id):
            self._replaced.add(trial_id)
            self._pending = [p for p in self._pending if p[0] != trial_id]
        self._points[trial_id] = list(points)
        self._pending.extend(points)

    def append(self, trial_id: str, points: list[Point]) -> None:
        """Add ``points`` to the curve of ``trial_id``."""
        self._points.setdefault(trial_id, []).extend(points)
        self._pending.extend(points)

    def frame(self) -> pd.DataFrame:
        """Every point, as a frame: the last one without replaced curves, plus the points added since."""
        if self._frame is None:
            self._frame = curves_frame([p for points in self._points.values() for p in points], self.source)
        else:
            frame = self._frame
            if self._replaced:
                frame = frame[~frame["trial_id"].isin(self._replaced)]
            if self._pending:
                frame = pd.concat([frame, curves_frame(self._pending, self.source)], ignore_index=True)
            elif self._replaced:
                frame = frame.reset_index(drop=True)
            self._frame = frame
        self._pending, self._replaced = [], set()
        return self._frame


class EngineCurves:
    """Folds ``metrics.jsonl`` lines into curves, keeping for each trial only its latest session's epochs."""

    def __init__(self) -> None:
        self.table = CurveTable("engine")
        self._session: dict[str, int] = {}

    def feed(self, records: Iterable[Mapping[str, Any]]) -> set[str]:
        """Take new lines; return the ids of trials whose curves changed."""
        changed: set[str] = set()
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
                self.table.replace(trial_id, points)
            else:
                self.table.append(trial_id, points)
            changed.add(trial_id)
        return changed


def _record_points(trial_id: str, epoch: int, record: Mapping[str, Any]) -> list[Point]:
    execution = _int(record.get("execution")) or 0
    return [
        (trial_id, execution, epoch, str(name), _float(value))
        for name, value in record.items()
        if name not in BOOKKEEPING and (value is None or _is_number(value))
    ]


def best_epoch_points(record: TrialRecord) -> list[Point]:
    """The observations Keras Tuner kept for one trial (its best epoch, at ``best_step + 1``)."""
    return [
        (record.trial_id, 0, step + 1, name, value)
        for name, history in record.metrics.items()
        for step, value in history.observations
    ]


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
