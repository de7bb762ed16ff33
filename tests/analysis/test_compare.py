"""Comparing searches: best-so-far curves on shared axes, score distributions, refusals."""

from __future__ import annotations

import pytest

from tests.analysis.make import LOSS, floating, make_result
from tuning.analysis.compare import Comparison, ComparisonError, Curve, Ecdf, compare
from tuning.errors import TuningError

SPACE = [floating("dropout", 0.0, 0.5)]


def test_curves_by_number_and_time_and_score_distributions() -> None:
    timed = make_result(
        [
            {"score": 0.5, "started_at": 1000.0, "ended_at": 1010.0},
            {"status": "FAILED", "started_at": 1010.0, "ended_at": 1011.0},
            {"score": 0.75, "started_at": 1011.0, "ended_at": 1030.0},
        ],
        SPACE,
        name="random",
    )
    untimed = make_result([{"score": 0.25}, {"score": 1.0}, {"score": 0.5}, {"score": 0.5}], SPACE, name="bayes")
    assert compare([timed, untimed]) == Comparison(
        objective="val_accuracy",
        direction="max",
        curves=(
            Curve("random", "random", (1, 2, 3), (0.5, 0.5, 0.75), (10.0, 11.0, 30.0), (0.5, 0.5, 0.75)),
            Curve("bayes", "random", (1, 2, 3, 4), (0.25, 1.0, 1.0, 1.0), None, None),
        ),
        ecdfs=(
            Ecdf("random", (0.5, 0.75), (0.5, 1.0)),
            Ecdf("bayes", (0.25, 0.5, 0.5, 1.0), (0.25, 0.5, 0.75, 1.0)),
        ),
    )


def test_min_objectives_and_repeated_names() -> None:
    a = make_result([{"score": 2.0}, {"score": 1.0}], SPACE, objective=LOSS, name="search")
    b = make_result([{"score": 1.5}], SPACE, objective=LOSS, name="search")
    found = compare([a, b])
    assert [c.project for c in found.curves] == ["search", "search (2)"]
    assert found.curves[0].best_by_number == (2.0, 1.0)
    assert found.direction == "min"


def test_different_objectives_are_refused() -> None:
    accuracy = make_result([], SPACE, name="one")
    loss = make_result([], SPACE, objective=LOSS, name="two")
    with pytest.raises(ComparisonError, match="one maximises val_accuracy, two minimises val_loss") as caught:
        compare([accuracy, loss])
    assert isinstance(caught.value, TuningError) and isinstance(caught.value, ValueError)
    with pytest.raises(ComparisonError, match="at least one search"):
        compare([])
