"""Objective and tuner inference: from evidence only."""

from __future__ import annotations

from collections import Counter

from tests.results.factories import TUNER_KEYS, trial_state
from tuning.results.infer import infer_objective, infer_tuner, matching_metrics, ours_objective
from tuning.results.model import Objective
from tuning.results.trials import parse_trial


def _record(metrics: dict[str, float], score: float | None = None, status: str = "COMPLETED") -> object:
    state = trial_state("0", {}, metrics=metrics, score=score, status=status, objective="val_loss")
    return parse_trial(state, fallback_id="0")


def test_the_metric_equal_to_the_score() -> None:
    assert matching_metrics(_record({"loss": 0.2, "val_loss": 0.3})) == ("val_loss",)  # type: ignore[arg-type]
    assert matching_metrics(_record({"loss": 0.3, "val_loss": 0.3})) == ("loss", "val_loss")  # type: ignore[arg-type]
    assert matching_metrics(_record({"val_loss": 0.3}, status="RUNNING")) == ()  # type: ignore[arg-type]


def test_objective_from_counts() -> None:
    objective, notice = infer_objective(Counter({"val_loss": 3, "loss": 1}), 3, {"val_loss": "min"})
    assert objective == Objective("val_loss", "min", inferred=True)
    assert notice == "objective inferred: val_loss (min), equal to the score in 3 of 3 completed trials"
    objective, notice = infer_objective(Counter({"loss": 2, "val_loss": 2}), 2, {})
    assert objective.name == "val_loss" and notice.endswith("(so are loss)")
    objective, _ = infer_objective(Counter({"auc": 2}), 2, {})
    assert objective == Objective("auc", "max", inferred=True)


def test_objective_without_evidence() -> None:
    objective, notice = infer_objective(Counter(), 0, {"val_accuracy": "max"})
    assert objective == Objective("val_accuracy", "max", inferred=True) and "until a trial completes" in notice
    assert infer_objective(Counter(), 0, {})[0] == Objective("val_loss", "min", inferred=True)
    objective, notice = infer_objective(Counter({"loss": 0}), 4, {})
    assert objective == Objective("score", "min", inferred=True) and "several objectives" in notice


def test_our_objective() -> None:
    assert ours_objective({"objective": "val_loss"}, None) == Objective("val_loss", "min")
    status = {"objective": {"name": "val_accuracy", "direction": "max"}}
    assert ours_objective({"objective": "val_accuracy"}, status) == Objective("val_accuracy", "max")
    assert ours_objective(None, status) is None


def test_tuner_from_the_oracle_keys() -> None:
    base = {"ongoing_trials": {}, "start_order": []}
    assert infer_tuner({**base, **TUNER_KEYS["hyperband"]}, hyperband_values=False, config=None)[:2] == (
        "hyperband",
        True,
    )
    assert infer_tuner(base, hyperband_values=True, config=None)[0] == "hyperband"
    assert infer_tuner({**base, **TUNER_KEYS["bayesian"]}, hyperband_values=False, config=None)[0] == "bayesian"
    assert infer_tuner({**base, **TUNER_KEYS["grid_ours"]}, hyperband_values=False, config=None)[0] == "grid"
    tuner, inferred, notice = infer_tuner(base, hyperband_values=False, config=None)
    assert (tuner, inferred) == ("unknown", True) and "random search" in (notice or "")
    assert infer_tuner(base, hyperband_values=True, config={"tuner": "grid"}) == ("grid", False, None)
