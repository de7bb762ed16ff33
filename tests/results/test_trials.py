"""One trial.json -> ``TrialRecord``: best metric values, scores, messages, ids, in every Keras Tuner dialect."""

from __future__ import annotations

import json
import math

from tests.results.factories import TRACEBACK, trial_state
from tuning.results.trials import LAST_SHARED, MetricHistory, direction_of, last_line, parse_trial, trial_sort_key


def test_a_keras_tuner_trial() -> None:
    state = trial_state(
        "3",
        {"lr": 0.1, "tuner/epochs": 3},
        metrics={"val_accuracy": [0.6, 0.8], "loss": 0.3},
        best_step=2,
        message=None,
    )
    record = parse_trial(json.loads(json.dumps(state)), fallback_id="x")
    assert (record.trial_id, record.status, record.best_step, record.message) == ("3", "COMPLETED", 2, None)
    assert record.score == 0.7 and record.best_metrics == {"val_accuracy": 0.7, "loss": 0.3}
    assert record.hyperparameters == {"lr": 0.1} and record.tuner_values == {"tuner/epochs": 3}
    assert record.finished


def test_best_value_at_best_step_else_by_direction_else_last() -> None:
    history = MetricHistory("max", (0, 1, 2), (0.5, 0.9, 0.7))
    assert history.best_value(2, "min") == 0.7
    assert history.best_value(None, "min") == 0.9  # the stored direction wins over the name's
    assert MetricHistory(None, (0, 1), (0.5, 0.2)).best_value(5, "min") == 0.2
    assert math.isnan(MetricHistory(None, (0,), (math.nan,)).best_value(None, "max"))
    assert math.isnan(MetricHistory(None, (), ()).best_value(0, "max"))


def test_nan_infinity_and_missing_keys() -> None:
    text = '{"trial_id": "1", "score": NaN, "status": "running", "metrics": {"metrics": {"l": {"observations": [{"value": [Infinity], "step": 0}]}}}}'  # noqa: E501
    record = parse_trial(json.loads(text), fallback_id="1")
    assert math.isnan(record.score) and record.best_step is None and record.best_metrics == {"l": math.inf}
    assert record.status == "RUNNING" and not record.finished and record.values == {} and record.space == ()
    bare = parse_trial({}, fallback_id="folder")
    assert (bare.trial_id, bare.status, bare.metrics) == ("folder", "UNKNOWN", {})


def test_failure_message_is_the_last_line() -> None:
    assert last_line(TRACEBACK.format(message="boom")) == "ValueError: boom"
    assert last_line("  \n ") is None and last_line(None) is None and last_line(3) is None


def test_order_and_directions() -> None:
    ids = ["10", "9", "0a3f", "001", "ff"]
    assert sorted(ids, key=trial_sort_key) == ["001", "9", "10", "0a3f", "ff"]
    assert [direction_of(n) for n in ("val_loss", "mae", "val_mse", "error_rate", "val_accuracy", "auc")] == [
        "min", "min", "min", "min", "max", "max"
    ]  # fmt: skip


def test_trials_with_the_same_space_share_one_copy_and_only_equal_spaces_are_shared() -> None:
    def with_space(default: object) -> dict:
        space = [{"class_name": "Float", "config": {"name": "lr", "default": default, "min_value": 1e-4}}]
        return {"trial_id": "1", "hyperparameters": {"space": space, "values": {"lr": 0.1}}}

    spaces: dict = {}
    first, second = (parse_trial(with_space(None), fallback_id="1", spaces=spaces) for _ in range(2))
    assert first.space is second.space and _distinct(spaces) == 1
    # orjson writes NaN as null, so this space has the same JSON key as the ones above: it must keep its own
    odd = parse_trial(with_space(math.nan), fallback_id="2", spaces=spaces)
    assert math.isnan(odd.space[0]["config"]["default"]) and first.space[0]["config"]["default"] is None
    huge = parse_trial(with_space(2**70), fallback_id="3", spaces=spaces)  # not JSON orjson writes: its own copy
    assert huge.space[0]["config"]["default"] == 2**70 and _distinct(spaces) == 1
    alone = parse_trial(with_space(None), fallback_id="4")  # no shared spaces: a copy of its own
    assert alone.space == first.space and alone.space is not first.space


def _distinct(spaces: dict) -> int:
    """The distinct spaces kept (besides the note of the one shared last)."""
    return len([key for key in spaces if key != LAST_SHARED])
