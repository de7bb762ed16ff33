"""Findings: each kind, its evidence and (for a few) its exact words."""

from __future__ import annotations

import math
import time

import numpy as np

from tests.analysis.make import LOSS, big, choice, floating, make_result
from tuning.analysis.findings import (
    AVOID,
    EARLY_STOPS,
    EDGE,
    KINDS,
    LITTLE_EFFECT,
    MANY_FAILURES,
    TOO_FEW,
    Finding,
    Thresholds,
    findings,
)
from tuning.analysis.importance import Importance

LR = floating("learning_rate", 1e-4, 1e-1, log=True)
OPTIMIZER = choice("optimizer", "adam", "sgd")


def kinds(found: tuple[Finding, ...]) -> list[tuple[str, str | None]]:
    return [(f.kind, f.hyperparameter) for f in found]


def test_too_few_completed_trials() -> None:
    rows = [{"learning_rate": 1e-3, "score": 0.5}] * 3 + [{"learning_rate": 1e-3, "status": "RUNNING"}]
    assert findings(make_result(rows, [LR])) == (
        Finding(
            TOO_FEW,
            "info",
            "Only 3 trials finished with a score. Let the search run to at least 10 trials before drawing conclusions.",
            None,
            {"completed": 3, "needed": 10},
        ),
    )


def test_many_failures_name_the_most_common_error() -> None:
    rows = [{"learning_rate": 1e-3, "score": 0.5 + i / 100} for i in range(10)]
    rows += [{"learning_rate": 1e-3, "status": "FAILED", "message": "Out of memory"}] * 3
    rows += [{"learning_rate": 1e-3, "status": "INVALID", "message": "Bad shape"}, {"learning_rate": 1e-3}]
    rows += [{"learning_rate": 1e-3, "status": "RUNNING"}]  # not finished: not counted
    found = [f for f in findings(make_result(rows, [LR])) if f.kind == MANY_FAILURES]
    assert found == [
        Finding(
            MANY_FAILURES,
            "warning",
            "5 of 15 finished trials (33%) failed or ended without a score. The most common error was: “Out of "
            "memory”. Look into the failures before running more trials: they take time and teach nothing.",
            None,
            {
                "failed": 5,
                "finished": 15,
                "share": 5 / 15,
                "top_message": "Out of memory",
                "trial_ids": ("0010", "0011", "0012", "0013", "0014"),
            },
        )
    ]


def test_every_trial_above_a_learning_rate_failed_or_stayed_at_chance() -> None:
    values = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1, 3e-2, 7e-2]
    scores = [0.5, 0.55, 0.6, 0.65, 0.7, 0.72, 0.74, 0.73, 0.1, 0.1, math.nan, 0.105]
    rows = [{"learning_rate": v, "score": s} for v, s in zip(values, scores, strict=True)]
    rows[10]["status"] = "FAILED"
    assert findings(make_result(rows, [LR])) == (
        Finding(
            AVOID,
            "warning",
            "Every trial with learning rate 0.03 or higher went wrong: 1 failed and 3 scored no better than "
            "chance (11.0%). Keep the learning rate at or below 0.02.",
            "learning_rate",
            {
                "side": "above",
                "threshold": 0.03,
                "last_good": 0.02,
                "trials": 4,
                "failed": 1,
                "no_score": 0,
                "at_chance": 3,
                "chance": 0.11,
                "trial_ids": ("0008", "0009", "0010", "0011"),
            },
        ),
    )


def test_diverged_trials_below_a_value_for_a_loss_objective() -> None:
    warmup = floating("warmup", 0.0, 1.0)
    rows = [{"warmup": v / 10, "score": 1.0 - v / 20} for v in range(3, 11)]
    rows += [{"warmup": 0.0, "score": math.nan}, {"warmup": 0.1, "score": math.inf}, {"warmup": 0.2, "score": math.nan}]
    found = [f for f in findings(make_result(rows, [warmup], objective=LOSS)) if f.kind == AVOID]
    assert [f.evidence | {"trial_ids": ()} for f in found] == [
        {
            "side": "below",
            "threshold": 0.2,
            "last_good": 0.3,
            "trials": 3,
            "failed": 0,
            "no_score": 3,
            "at_chance": 0,
            "chance": None,
            "trial_ids": (),
        }
    ]
    assert found[0].text == (
        "Every trial with warmup 0.2 or lower went wrong: 3 ended without a score. Keep the warmup at or above 0.3."
    )


def test_a_chosen_chance_level() -> None:
    values = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1]
    scores = [0.5, 0.55, 0.6, 0.65, 0.7, 0.72, 0.74, 0.25, 0.2, 0.28]
    result = make_result([{"learning_rate": v, "score": s} for v, s in zip(values, scores, strict=True)], [LR])
    assert AVOID not in [f.kind for f in findings(result)]
    found = findings(result, thresholds=Thresholds(chance=0.3))
    assert [(f.kind, f.evidence["threshold"], f.evidence["at_chance"]) for f in found if f.kind == AVOID] == [
        (AVOID, 0.02, 3)
    ]


def rising(name: str, values: np.ndarray, *, noise: int = 0) -> list[dict[str, object]]:
    """Trials whose score rises with ``name``, and an optimizer that makes no difference."""
    rows = []
    for i, v in enumerate(values):
        rows.append({name: float(v), "optimizer": ("adam", "sgd")[i % 2], "score": 0.3 + 0.5 * i / len(values)})
    return rows


def test_best_value_at_the_top_of_a_log_range_is_widened_within_hard_limits() -> None:
    lr = floating("learning_rate", 1e-5, 0.5, log=True)
    rows = rising("learning_rate", np.geomspace(1e-5, 0.45, 20))
    found = [f for f in findings(make_result(rows, [lr, OPTIMIZER])) if f.kind == EDGE]
    assert found == [
        Finding(
            EDGE,
            "suggestion",
            "The best trial used learning rate 0.45, near the top of the range searched (0.00001 to 0.5). "
            "Higher values may work even better: widen the range, for example up to 1.",
            "learning_rate",
            {
                "trial_id": "0019",
                "value": 0.45,
                "low": 1e-5,
                "high": 0.5,
                "share_of_range": found[0].evidence["share_of_range"],
                "side": "top",
                "log": True,
                "suggested": 1.0,
            },  # x10 is 5, the learning rate's hard limit is 1
        )
    ]
    assert 0.99 < found[0].evidence["share_of_range"] < 1


def test_best_value_at_the_bottom_of_a_linear_range() -> None:
    alpha = floating("alpha", 0.2, 1.0)
    rows = rising("alpha", np.linspace(1.0, 0.21, 20))
    found = [f for f in findings(make_result(rows, [alpha, OPTIMIZER])) if f.kind == EDGE]
    assert [(f.evidence["side"], f.evidence["value"], f.evidence["suggested"]) for f in found] == [
        ("bottom", 0.21, 0.0)
    ]
    assert found[0].text.endswith("Lower values may work even better: widen the range, for example down to 0.")


def test_no_edge_finding_at_a_hard_limit_or_inside_the_range() -> None:
    dropout = floating("dropout", 0.0, 0.8)
    assert EDGE not in [f.kind for f in findings(make_result(rising("dropout", np.linspace(0, 0.79, 20)), [dropout]))]
    middle = rising("dropout", np.linspace(0, 0.5, 20))
    assert EDGE not in [f.kind for f in findings(make_result(middle, [floating("dropout", 0.0, 0.9)]))]


def test_a_choice_that_makes_little_difference_can_be_fixed() -> None:
    rows = rising("alpha", np.linspace(0.2, 0.8, 20))
    found = [
        f for f in findings(make_result(rows, [floating("alpha", 0.0, 1.0), OPTIMIZER])) if f.kind == LITTLE_EFFECT
    ]
    assert [(f.hyperparameter, f.evidence["suggested"]) for f in found] == [("optimizer", "sgd")]
    assert found[0].evidence["means"] == {"adam": 0.525, "sgd": 0.55}
    assert found[0].text == (
        "Changing the optimizer made little difference to the validation accuracy: its average ranged only from "
        "52.5% (adam) to 55.0% (sgd). You could fix it at sgd and let the search spend its trials on other settings."
    )


def test_given_importances_are_used_for_numeric_hyperparameters() -> None:
    rows = rising("alpha", np.linspace(0.2, 0.8, 20))
    given = Importance("val_accuracy", 20, ("optimizer", "alpha"), ("Optimizer", "Alpha"), (0.98, 0.02), (0.0, 0.0))
    found = findings(make_result(rows, [floating("alpha", 0.0, 1.0), OPTIMIZER]), importances=given)
    assert [f.evidence for f in found if f.hyperparameter == "alpha"] == [
        {"importance": 0.02, "importance_threshold": 0.05, "suggested": "0.8"}
    ]


def test_hyperband_gave_most_trials_one_or_two_epochs() -> None:
    rows = [{"learning_rate": 1e-3, "score": 0.5, "hb:epochs": e} for e in (1, 1, 1, 1, 2, 2, 4, 9)]
    found = [f for f in findings(make_result(rows, [LR], tuner="hyperband")) if f.kind == EARLY_STOPS]
    assert found[0].evidence == {"short": 6, "total": 8, "short_epochs": 2, "min_epochs": 1, "max_epochs": 9}
    assert found[0].text.startswith("Hyperband stopped most trials early: 6 of 8 trials trained for only 1–2 epochs.")


def test_kinds_are_listed() -> None:
    assert KINDS == (TOO_FEW, MANY_FAILURES, AVOID, EDGE, LITTLE_EFFECT, EARLY_STOPS, "pruned_trials")


def test_ten_thousand_trials_in_time() -> None:
    start = time.perf_counter()
    found = findings(big())
    assert time.perf_counter() - start < 5.0
    assert (EDGE, "learning_rate") in kinds(found)
    assert (EARLY_STOPS, None) in kinds(found)
