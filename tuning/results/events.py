"""When each trial started and ended: from this app's ``explorer/events.jsonl``, else Keras Tuner's display.

A trial interrupted in one session runs again in the next: its times are those of the latest session that
has a ``trial_begin`` or ``trial_end`` line for it. Keras Tuner itself only keeps each trial's start
(``oracle.json``'s ``display.trial_start``, local time), used when this app's events are absent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from tuning.results.table import NO_TIMES, Times


class TrialTimes:
    """Trial begin/end events folded per trial, keeping the latest session of each."""

    def __init__(self) -> None:
        self._session: dict[str, int] = {}
        self._times: dict[str, list[float]] = {}  # [started_at, ended_at, duration_s]

    def feed(self, records: Iterable[Mapping[str, Any]]) -> set[str]:
        """Take new event lines; return the ids of trials whose times changed."""
        changed: set[str] = set()
        for record in records:
            kind, trial_id = record.get("event"), record.get("trial_id")
            if kind not in ("trial_begin", "trial_end") or trial_id is None:
                continue
            trial_id = str(trial_id)
            session = _int(record.get("session"))
            latest = self._session.get(trial_id)
            if latest is not None and session < latest:
                continue
            if latest is None or session > latest:
                self._session[trial_id] = session
                self._times[trial_id] = [math.nan, math.nan, math.nan]
            times = self._times[trial_id]
            when = _float(record.get("time"))
            if kind == "trial_begin":
                times[0] = when
            else:
                times[1] = when
                duration = _float(record.get("duration_s"))
                times[2] = duration if not math.isnan(duration) else when - times[0]
            changed.add(trial_id)
        return changed

    def get(self, trial_id: str) -> Times:
        times = self._times.get(trial_id)
        return (times[0], times[1], times[2]) if times else NO_TIMES


class DisplayStarts:
    """Keras Tuner's own record of when each trial started (``oracle.json``'s ``display.trial_start``)."""

    def __init__(self) -> None:
        self._text: dict[str, Any] = {}
        self.times: dict[str, float] = {}

    def update(self, oracle: Mapping[str, Any] | None) -> set[str]:
        """Take a new oracle state; return the ids of trials whose start time changed."""
        display = (oracle or {}).get("display")
        starts = display.get("trial_start") if isinstance(display, Mapping) else None
        text = starts if isinstance(starts, dict) else {}
        if text == self._text:
            return set()
        old = self._text
        changed = {i for i, v in text.items() if old.get(i) != v} | (old.keys() - text.keys())
        for trial_id in changed:
            when = _timestamp(text.get(trial_id))
            if when is None:
                self.times.pop(trial_id, None)
            else:
                self.times[trial_id] = when
        self._text = dict(text)
        return {str(i) for i in changed}


def _timestamp(text: Any) -> float | None:
    """Epoch seconds of a naive local ISO time, as Keras Tuner writes them."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float:
    try:
        return math.nan if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return math.nan
