"""Best score so far, trial after trial: by trial number or by wall time.

Only completed trials with a score can set a new best; failed, running and scoreless trials keep their
place in the sequence (and carry the best so far of the trials before them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tuning.analysis.common import floats, scores_of
from tuning.results.model import ProjectResult

BY = ("number", "time")


@dataclass(frozen=True)
class History:
    """Trials in the order they count, each with the best score known once it ended.

    ``x`` is the trial number (``x_kind == "number"``) or the seconds since the search started
    (``x_kind == "time"``). ``best`` is ``None`` until the first completed trial; ``new_best`` marks the
    trials that improved it.
    """

    objective: str
    direction: str
    x_kind: str
    trial_ids: tuple[str, ...]
    numbers: tuple[int, ...]
    x: tuple[float, ...]
    statuses: tuple[str, ...]
    scores: tuple[float | None, ...]
    best: tuple[float | None, ...]
    new_best: tuple[bool, ...]
    notice: str = ""

    @property
    def best_score(self) -> float | None:
        return self.best[-1] if self.best else None


def running_best(scores: np.ndarray, counts: np.ndarray, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """Best so far of ``scores`` where ``counts`` (NaN before the first), and where it improved."""
    usable = np.where(counts, scores, np.nan)
    accumulate = np.fmax.accumulate if direction == "max" else np.fmin.accumulate
    best = accumulate(usable) if len(usable) else usable
    previous = np.concatenate(([np.nan], best[:-1]))
    improved = ~np.isnan(usable) & (np.isnan(previous) | (best != previous))
    return best, improved


def end_times(trials: pd.DataFrame) -> np.ndarray:
    """Seconds since the search started at which each trial ended (in trial number order).

    A trial's time is ``ended_at``, or ``started_at`` while it has not ended. A trial with neither keeps its
    place in number order: it takes the time of the trial before it (or after it, for the first trials).
    All NaN when no time is known.
    """
    ends = pd.to_numeric(trials["ended_at"], errors="coerce").astype(float)
    starts = pd.to_numeric(trials["started_at"], errors="coerce").astype(float)
    times = ends.fillna(starts)
    if times.isna().all():
        return times.to_numpy()
    origin = starts.min() if starts.notna().any() else times.min()
    return (times.ffill().bfill() - min(origin, times.min())).to_numpy()


def best_so_far(result: ProjectResult, *, by: str = "number") -> History:
    """The best score so far after each trial, by trial number (``by="number"``) or wall time (``"time"``).

    Without any known start or end time, ``by="time"`` falls back to trial numbers and says so in ``notice``.
    """
    if by not in BY:
        raise ValueError(f"best_so_far: by must be one of {', '.join(BY)}; found {by!r}")
    trials = result.trials.sort_values("number", kind="stable")
    numbers = trials["number"].astype(int).to_numpy()
    x, notice, kind = numbers.astype(float), "", "number"
    if by == "time" and len(trials):
        times = end_times(trials)
        if np.isnan(times).all():
            notice = "No start or end times are known: trials are shown by number."
        else:
            order = np.lexsort((numbers, times))
            trials, numbers, x, kind = trials.iloc[order], numbers[order], times[order], "time"
    scores = scores_of(trials)
    statuses = trials["status"].astype(str).to_numpy()
    counts = np.isin(statuses, ("COMPLETED", "PRUNED")) & np.isfinite(scores)  # a pruned trial's score is real
    best, improved = running_best(scores, counts, result.objective.direction)
    return History(
        objective=result.objective.name,
        direction=result.objective.direction,
        x_kind=kind,
        trial_ids=tuple(str(t) for t in trials.index),
        numbers=tuple(int(n) for n in numbers),
        x=tuple(float(v) for v in x),
        statuses=tuple(statuses.tolist()),
        scores=floats(np.where(np.isfinite(scores), scores, np.nan)),
        best=floats(best),
        new_best=tuple(bool(b) for b in improved),
        notice=notice,
    )
