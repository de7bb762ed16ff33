"""Best so far by trial number and by wall time, for both directions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.analysis.make import LOSS, floating, make_result
from tuning.analysis.history import History, best_so_far, running_best

SPACE = [floating("dropout", 0.0, 0.5)]
NAN = math.nan


def test_best_so_far_by_number_for_a_max_objective_keeps_failed_and_running_trials_in_place() -> None:
    result = make_result(
        [
            {"score": 0.5},
            {"score": 0.4},
            {"status": "FAILED", "message": "OOM"},
            {"score": 0.7},
            {"status": "RUNNING"},
            {"score": 0.7},
            {"score": 0.6},
        ],
        SPACE,
    )
    assert best_so_far(result) == History(
        objective="val_accuracy",
        direction="max",
        x_kind="number",
        trial_ids=("0000", "0001", "0002", "0003", "0004", "0005", "0006"),
        numbers=(1, 2, 3, 4, 5, 6, 7),
        x=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0),
        statuses=("COMPLETED", "COMPLETED", "FAILED", "COMPLETED", "RUNNING", "COMPLETED", "COMPLETED"),
        scores=(0.5, 0.4, None, 0.7, None, 0.7, 0.6),
        best=(0.5, 0.5, 0.5, 0.7, 0.7, 0.7, 0.7),
        new_best=(True, False, False, True, False, False, False),
    )


def test_best_so_far_for_a_min_objective_starts_empty_and_ignores_scores_that_do_not_count() -> None:
    rows = [
        {"status": "FAILED"},
        {"score": 1.0},
        {"score": 1.2},
        {"score": NAN},  # completed, diverged
        {"status": "STOPPED", "score": 0.1},  # a score, but not a completed trial
        {"score": 0.8},
        {"score": math.inf},
        {"score": 0.9},
    ]
    history = best_so_far(make_result(rows, SPACE, objective=LOSS))
    assert history.direction == "min"
    assert history.scores == (None, 1.0, 1.2, None, 0.1, 0.8, None, 0.9)
    assert history.best == (None, 1.0, 1.0, 1.0, 1.0, 0.8, 0.8, 0.8)
    assert history.new_best == (False, True, False, False, False, True, False, False)
    assert history.best_score == 0.8


def test_trials_are_taken_in_number_order_whatever_the_table_order() -> None:
    rows = [{"number": 2, "score": 0.9}, {"number": 1, "score": 0.3}]
    history = best_so_far(make_result(rows, SPACE))
    assert (history.trial_ids, history.best) == (("0001", "0000"), (0.3, 0.9))


def test_best_so_far_by_time_orders_by_end_time_since_the_first_start() -> None:
    rows = [
        {"score": 0.5, "started_at": 100.0, "ended_at": 160.0},
        {"score": 0.6, "started_at": 110.0, "ended_at": 130.0},  # ends first: parallel workers
        {"status": "RUNNING", "started_at": 170.0},  # no end yet: placed at its start
        {"status": "FAILED"},  # nothing known: keeps its place after trial 3
        {"score": 0.8, "started_at": 175.0, "ended_at": 200.0},
    ]
    history = best_so_far(make_result(rows, SPACE), by="time")
    assert history.x_kind == "time"
    assert history.numbers == (2, 1, 3, 4, 5)
    assert history.x == (30.0, 60.0, 70.0, 70.0, 100.0)
    assert history.best == (0.6, 0.6, 0.6, 0.6, 0.8)
    assert history.new_best == (True, False, False, False, True)
    assert history.notice == ""


def test_by_time_falls_back_to_trial_numbers_when_no_time_is_known() -> None:
    history = best_so_far(make_result([{"score": 0.5}, {"score": 0.7}], SPACE), by="time")
    assert (history.x_kind, history.x, history.best) == ("number", (1.0, 2.0), (0.5, 0.7))
    assert history.notice == "No start or end times are known: trials are shown by number."


def test_empty_project_gives_an_empty_history() -> None:
    history = best_so_far(make_result([], SPACE), by="time")
    assert (history.trial_ids, history.best, history.best_score) == ((), (), None)


def test_unknown_order_is_refused() -> None:
    with pytest.raises(ValueError, match="by must be one of number, time; found 'epoch'"):
        best_so_far(make_result([], SPACE), by="epoch")


def test_running_best_on_arrays() -> None:
    scores = np.array([2.0, 1.0, 3.0, 0.5])
    best, improved = running_best(scores, np.array([True, True, False, True]), "min")
    assert best.tolist() == [2.0, 1.0, 1.0, 0.5]
    assert improved.tolist() == [True, True, False, True]
