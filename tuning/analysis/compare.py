"""Several searches side by side (e.g. random vs Bayesian vs Hyperband) on the same objective.

Each project gets its best-so-far curve by trial number and by wall time since its own start, and the
empirical distribution (ECDF) of its completed trials' scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tuning.analysis.common import scored, scores_of
from tuning.analysis.history import best_so_far
from tuning.errors import TuningError
from tuning.results.model import ProjectResult


class ComparisonError(TuningError, ValueError):
    """Projects that cannot be compared (different objectives, or none at all)."""


@dataclass(frozen=True)
class Curve:
    """One project's best score so far after each trial (``None`` before its first completed trial).

    ``seconds`` is the time since the project's first trial started, or ``None`` when unknown.
    """

    project: str
    tuner: str
    numbers: tuple[int, ...]
    best_by_number: tuple[float | None, ...]
    seconds: tuple[float, ...] | None
    best_by_time: tuple[float | None, ...] | None


@dataclass(frozen=True)
class Ecdf:
    """Sorted scores and the share of completed trials scoring at most each of them."""

    project: str
    scores: tuple[float, ...]
    shares: tuple[float, ...]


@dataclass(frozen=True)
class Comparison:
    objective: str
    direction: str
    curves: tuple[Curve, ...]
    ecdfs: tuple[Ecdf, ...]


def check_comparable(results: Sequence[ProjectResult]) -> None:
    """Raise ``ComparisonError`` unless all projects optimise the same objective in the same direction."""
    if not results:
        raise ComparisonError("Nothing to compare: choose at least one search.")
    first = results[0].objective
    for result in results[1:]:
        if (result.objective.name, result.objective.direction) != (first.name, first.direction):
            raise ComparisonError(
                f"Searches optimise different objectives: {results[0].name} {first.direction}imises "
                f"{first.name}, {result.name} {result.objective.direction}imises {result.objective.name}. "
                "Compare searches that optimise the same objective."
            )


def unique_names(results: Sequence[ProjectResult]) -> tuple[str, ...]:
    """Project names, with " (2)", " (3)"... added to repeated ones."""
    names: list[str] = []
    for result in results:
        name, k = result.name, 2
        while name in names:
            name, k = f"{result.name} ({k})", k + 1
        names.append(name)
    return tuple(names)


def curve(result: ProjectResult, name: str) -> Curve:
    """The best-so-far curves of one project."""
    by_number = best_so_far(result)
    by_time = best_so_far(result, by="time")
    timed = by_time.x_kind == "time"
    return Curve(
        project=name,
        tuner=result.tuner,
        numbers=by_number.numbers,
        best_by_number=by_number.best,
        seconds=by_time.x if timed else None,
        best_by_time=by_time.best if timed else None,
    )


def ecdf(result: ProjectResult, name: str) -> Ecdf:
    """The empirical distribution of one project's completed scores."""
    scores = np.sort(scores_of(scored(result)))
    shares = np.arange(1, len(scores) + 1) / max(len(scores), 1)
    return Ecdf(name, tuple(float(s) for s in scores), tuple(float(s) for s in shares))


def compare(results: Sequence[ProjectResult]) -> Comparison:
    """Best-so-far curves and score distributions of ``results``, which must share their objective."""
    check_comparable(results)
    names = unique_names(results)
    return Comparison(
        objective=results[0].objective.name,
        direction=results[0].objective.direction,
        curves=tuple(curve(r, n) for r, n in zip(results, names, strict=True)),
        ecdfs=tuple(ecdf(r, n) for r, n in zip(results, names, strict=True)),
    )
