"""Importance: a hyperparameter that drives the score ranks first; encodings; too few trials."""

from __future__ import annotations

import numpy as np
import pytest

from tests.analysis.make import choice, floating, make_result, when
from tuning.analysis.common import scale_of
from tuning.analysis.importance import Importance, encode, importance, with_active
from tuning.results.model import HyperparameterInfo

A = floating("a", 0.0, 1.0)
B = floating("b", 0.0, 1.0)
C = choice("c", "x", "y", "z")


def driven_by_a(n: int, *, seed: int = 0) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(0, 1, n), rng.uniform(0, 1, n), rng.choice(["x", "y", "z"], n)
    score = 0.2 + 0.6 * a + rng.normal(0, 0.01, n)
    return [{"a": a[i], "b": b[i], "c": c[i], "score": score[i]} for i in range(n)]


def test_the_hyperparameter_that_drives_the_score_takes_most_of_the_importance() -> None:
    found = importance(make_result(driven_by_a(60), [A, B, C]))
    assert found.names[0] == "a"
    assert found.means[0] > 0.9
    assert sum(found.means) == pytest.approx(1.0)
    assert set(found.names) == {"a", "b", "c"}
    assert found.labels[0] == "A"
    assert all(s >= 0 for s in found.stds)
    assert (found.n_trials, found.notice, found.objective) == (60, "", "val_accuracy")


def test_importance_is_deterministic() -> None:
    result = make_result(driven_by_a(40, seed=3), [A, B, C])
    assert importance(result) == importance(result)


def test_below_the_minimum_of_completed_trials_the_result_is_empty_with_a_notice() -> None:
    rows = driven_by_a(9) + [{"a": 0.5, "b": 0.5, "c": "x", "status": "FAILED"}] * 3
    assert importance(make_result(rows, [A, B, C])) == Importance(
        "val_accuracy", 9, (), (), (), (), "Need at least 10 completed trials (have 9)."
    )
    assert importance(make_result(rows, [A, B, C]), min_trials=5).names[0] == "a"


def test_nothing_varies_gives_a_notice() -> None:
    fixed = HyperparameterInfo("epochs", "fixed", values=(3,))
    found = importance(make_result([{"epochs": 3, "score": 0.5}] * 12, [fixed]))
    assert (found.names, found.notice) == ((), "No hyperparameter varies in this search.")


def test_scores_that_do_not_depend_on_anything_give_no_importance() -> None:
    rows = [{**row, "score": 0.5} for row in driven_by_a(20)]
    found = importance(make_result(rows, [A, B, C]))
    assert found.means == (0.0, 0.0, 0.0)
    assert found.notice == "No hyperparameter explains the differences between the scores."


def test_encoding_uses_the_declared_scale_and_a_sentinel_for_not_used() -> None:
    lr = floating("lr", 1e-4, 1e-1, log=True, conditions=when("c", "x"))
    result = make_result([{"lr": 1e-3}, {"lr": None}, {"lr": 1e-1}], [C, lr])
    values, sentinel = encode(scale_of(lr), result.trials["hp:lr"])
    assert (values.tolist(), sentinel) == ([-3.0, -7.0, -1.0], -7.0)  # below -4 by the width (3)
    mode = choice("mode", "fast", "slow", conditions=when("c", "x"))
    result = make_result([{"mode": "slow"}, {"mode": None}, {"mode": "fast"}], [C, mode])
    values, sentinel = encode(scale_of(mode), result.trials["hp:mode"])
    assert (values.tolist(), sentinel) == ([1.0, -1.0, 0.0], -1.0)


def test_active_indicators_follow_the_conditional_columns() -> None:
    x = np.array([[0.5, -1.0], [0.2, 1.0]])
    assert with_active(x, (-9.0, -1.0), (1,)).tolist() == [[0.5, -1.0, 0.0], [0.2, 1.0, 1.0]]
    assert with_active(x, (-9.0, -1.0), ()).tolist() == x.tolist()


def test_a_conditional_hyperparameter_that_drives_the_score_when_used_ranks_first() -> None:
    rng = np.random.default_rng(1)
    optimizer = choice("optimizer", "adam", "sgd")
    momentum = floating("momentum", 0.0, 1.0, conditions=when("optimizer", "sgd"))
    rows = []
    for _ in range(80):
        sgd = bool(rng.random() < 0.5)
        value = float(rng.uniform(0, 1)) if sgd else None
        score = 0.3 + 0.6 * value if value is not None else 0.6
        rows.append({"optimizer": "sgd" if sgd else "adam", "momentum": value, "score": score, "a": rng.uniform(0, 1)})
    found = importance(make_result(rows, [optimizer, momentum, A]))
    assert found.names == ("momentum", "optimizer", "a")
    assert found.of("momentum") > 0.5
    assert found.of("nothing") is None
