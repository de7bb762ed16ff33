"""The pruning rules on hand-written histories: the median stopping rule and ASHA's rungs."""

from __future__ import annotations

import pytest

from tuning.engine.pruning import Decision, History, HistoryFile, decide
from tuning.space.config import SearchConfig
from tuning.space.pruning import PruningSettings, check_pruning, epochs_saved_range, rungs
from tuning.store.paths import SearchPaths, append_jsonl

MEDIAN = PruningSettings(rule="median", warmup_epochs=2, min_trials=3)
ASHA = PruningSettings(rule="asha", factor=3, min_epochs=1)


def history(curves: dict[str, list[float]], *, finished: set[str] | None = None) -> History:
    found = History()
    for trial_id, values in curves.items():
        for epoch, value in enumerate(values, start=1):
            found.add_epoch(trial_id, 1, epoch, value)
    found.finished = set(curves) if finished is None else finished
    return found


def test_median_stops_a_trial_below_the_median_of_finished_trials_at_the_same_epoch() -> None:
    done = {"a": [0.2, 0.5, 0.6, 0.7], "b": [0.3, 0.4, 0.5, 0.6], "c": [0.1, 0.6, 0.7, 0.8]}
    found = history({**done, "x": [0.1, 0.3]}, finished=set(done))
    decision = decide(MEDIAN, found, "x", 2, 4, maximize=True)
    assert decision == Decision("median", 2, 4, 0.3, 0.5, 3)  # best so far 0.3 < median(0.5, 0.4, 0.6)
    assert decision.message("val_accuracy") == (
        "Pruned at epoch 2 of 4: val_accuracy 0.3000 < median 0.5000 of 3 finished trials"
    )
    assert decide(MEDIAN, history({**done, "y": [0.1, 0.55]}, finished=set(done)), "y", 2, 4, maximize=True) is None


def test_median_waits_for_the_warm_up_and_enough_finished_trials_and_never_stops_at_the_last_epoch() -> None:
    done = {"a": [0.5, 0.5, 0.5], "b": [0.5, 0.5, 0.5], "c": [0.5, 0.5, 0.5]}
    found = history({**done, "x": [0.1, 0.1, 0.1]}, finished=set(done))
    assert decide(MEDIAN, found, "x", 1, 3, maximize=True) is None  # warm-up: 2 epochs
    assert decide(MEDIAN, found, "x", 2, 3, maximize=True) is not None
    assert decide(MEDIAN, found, "x", 3, 3, maximize=True) is None  # the last epoch: nothing to save
    two = history({"a": [0.5, 0.5], "b": [0.5, 0.5], "x": [0.1, 0.1]}, finished={"a", "b"})
    assert decide(MEDIAN, two, "x", 2, 3, maximize=True) is None  # only 2 finished trials, 3 needed


def test_median_for_a_loss_stops_the_higher_values() -> None:
    done = {"a": [2.0, 1.0], "b": [2.0, 1.2], "c": [2.0, 0.8]}
    assert decide(MEDIAN, history({**done, "x": [2.3, 2.2]}, finished=set(done)), "x", 2, 5, maximize=False)
    assert decide(MEDIAN, history({**done, "y": [2.3, 0.9]}, finished=set(done)), "y", 2, 5, maximize=False) is None


def test_asha_rungs_grow_by_the_factor_below_the_last_epoch() -> None:
    assert rungs(ASHA, 10) == [1, 3, 9]
    assert rungs(ASHA, 9) == [1, 3]
    assert rungs(PruningSettings(rule="asha", factor=2, min_epochs=2), 9) == [2, 4, 8]
    assert rungs(ASHA, 1) == []


def test_asha_keeps_the_best_third_at_a_rung_and_waits_for_enough_values() -> None:
    two = history({"a": [0.9], "x": [0.1]}, finished=set())
    assert decide(ASHA, two, "x", 1, 9, maximize=True) is None  # 2 values at the rung, 3 needed
    six = history({t: [v] for t, v in zip("abcdex", [0.9, 0.8, 0.2, 0.3, 0.4, 0.85], strict=True)}, finished=set())
    assert decide(ASHA, six, "x", 1, 9, maximize=True) is None  # top 2 of 6: 0.9, 0.85
    decision = decide(ASHA, six, "e", 1, 9, maximize=True)
    assert decision == Decision("asha", 1, 9, 0.4, 0.85, 6, 3)
    assert "the best 1/3 of 6 trials at this rung" in decision.message("val_accuracy")
    assert decide(ASHA, six, "e", 2, 9, maximize=True) is None  # epoch 2 is not a rung


def test_a_rerun_replaces_the_lost_attempts_epochs() -> None:
    found = History()
    found.add_epoch("t", 1, 1, 0.9)
    found.add_epoch("t", 1, 2, 0.95)
    found.add_epoch("t", 2, 1, 0.2)  # resumed after a kill: session 2 starts the trial again
    assert found.values["t"] == {1: 0.2}
    found.add_epoch("t", 1, 3, 0.99)  # a late line of the old attempt is ignored
    assert found.values["t"] == {1: 0.2}
    assert found.best_up_to("t", 5, maximize=True) == 0.2


def test_history_file_reads_metrics_and_events_incrementally(tmp_path) -> None:
    paths = SearchPaths.of(tmp_path / "p")
    paths.ours.mkdir(parents=True)
    reader = HistoryFile(paths, "val_accuracy")
    append_jsonl(paths.metrics, {"trial_id": "0", "session": 1, "execution": 0, "epoch": 1, "val_accuracy": 0.5})
    append_jsonl(paths.metrics, {"trial_id": "0", "session": 1, "execution": 1, "epoch": 1, "val_accuracy": 0.9})
    append_jsonl(paths.events, {"event": "trial_end", "trial_id": "0", "status": "PRUNED"})
    found = reader.refresh()
    assert found.values == {"0": {1: 0.5}} and found.finished == {"0"}
    append_jsonl(paths.metrics, {"trial_id": "1", "session": 1, "execution": 0, "epoch": 1, "val_accuracy": None})
    append_jsonl(paths.events, {"event": "trial_end", "trial_id": "1", "status": "FAILED"})
    assert reader.refresh().finished == {"0"}


def test_epochs_saved_range_is_the_planners_range() -> None:
    assert epochs_saved_range(PruningSettings(), [10], 20) == (200, 200)
    assert epochs_saved_range(MEDIAN, [10], 20) == (3 * 10 + 17 * 2, 200)
    assert epochs_saved_range(ASHA, [9], 20) == (2 * 9 + 18 * 1, 180)
    assert epochs_saved_range(MEDIAN, [5, 10], 2) == (20, 20)  # both protected by the warm-up of 3 trials


def test_bad_pruning_settings_say_what_is_allowed() -> None:
    assert [str(e) for e in check_pruning(PruningSettings(rule="often"), tuner="random", executions=1)] == [
        "pruning: must be one of none, median, asha, got 'often'"
    ]
    errors = check_pruning(PruningSettings(rule="median"), tuner="hyperband", executions=2)
    assert [e.field for e in errors] == ["pruning", "pruning"]
    assert "Hyperband already stops trials early" in str(errors[0])
    assert "executions_per_trial 1" in str(errors[1])
    assert check_pruning(PruningSettings(rule="asha", factor=1), tuner="grid", executions=1)[0].field == "asha_factor"
    with pytest.raises(Exception, match="pruning"):
        SearchConfig(pruning="median", tuner="hyperband").validate()
