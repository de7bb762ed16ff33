"""End-to-end searches run in this process: every tuner, real training on a few hundred images."""

from __future__ import annotations

import json
from pathlib import Path

import keras_tuner
import pytest

from searches import diverging_space, read_lines, tiny_config, tiny_space, trial_files
from tuning.engine.hypermodel import CifarHyperModel
from tuning.engine.jobs import create_search
from tuning.engine.launch import run_search
from tuning.errors import SearchNotFoundError, SearchStateError
from tuning.space.plan import plan
from tuning.space.specs import Choice, Fixed, FloatRange
from tuning.store.paths import SearchPaths
from tuning.store.status import read_status


def _check_search_files(project_dir: Path, *, trials: int, epochs_per_trial: dict[str, int]) -> None:
    paths = SearchPaths.of(project_dir)
    status = read_status(project_dir)
    assert status.state == "completed", status
    assert status.trials_done == trials
    assert status.trials_by_status == {"completed": trials}
    assert status.error is None and status.current_trial is None
    assert status.ended_at is not None and status.ended_at >= status.started_at

    files = trial_files(project_dir)
    assert sorted(files) == sorted(epochs_per_trial)
    assert all(t["status"] == "COMPLETED" and t["score"] is not None for t in files.values())

    metrics = read_lines(paths.metrics)
    by_trial: dict[str, list[int]] = {}
    for record in metrics:
        by_trial.setdefault(record["trial_id"], []).append(record["epoch"])
        for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "duration_s"):
            assert isinstance(record[key], float), (key, record)
    for trial_id, expected in epochs_per_trial.items():
        first = expected[0] if isinstance(expected, tuple) else 1
        last = expected[1] if isinstance(expected, tuple) else expected
        assert by_trial[trial_id] == list(range(first, last + 1)), trial_id

    # The best epoch Keras Tuner kept is one of the epochs we recorded.
    objective = status.objective["name"]
    for trial_id, trial in files.items():
        recorded = {round(r[objective], 6) for r in metrics if r["trial_id"] == trial_id}
        assert round(trial["score"], 6) in recorded
    events = read_lines(paths.events)
    assert [e["event"] for e in events].count("trial_end") == trials


@pytest.mark.parametrize("tuner", ["random", "bayesian", "grid"])
def test_each_tuner_runs_a_real_search(tmp_path: Path, tuner: str) -> None:
    config = tiny_config(tuner=tuner, max_trials=2)
    project_dir = create_search(config, tmp_path, "search")
    final = run_search(project_dir, resume=False)
    assert final.state == "completed"
    ids = sorted(trial_files(project_dir))
    _check_search_files(project_dir, trials=2, epochs_per_trial={i: 1 for i in ids})
    # Keras Tuner itself reloads the project and agrees on the best trial.
    reloaded = keras_tuner.RandomSearch(
        hypermodel=CifarHyperModel(config.space),
        objective=keras_tuner.Objective("val_accuracy", "max"),
        max_trials=2,
        directory=str(tmp_path),
        project_name="search",
        overwrite=False,
    )
    assert len(reloaded.oracle.trials) == 2
    assert reloaded.oracle.get_best_trials(1)[0].trial_id == read_status(project_dir).best["trial_id"]
    # Only the best trial keeps its weights.
    kept = sorted(p.parent.name for p in project_dir.glob("trial_*/checkpoint.weights.h5"))
    assert kept == [f"trial_{read_status(project_dir).best['trial_id']}"]


def test_hyperband_promotes_trials_with_their_parents_weights(tmp_path: Path) -> None:
    space = tiny_space(filters=Choice((8, 16, 32)))
    config = tiny_config(tuner="hyperband", hyperband_max_epochs=3, hyperband_factor=3, space=space)
    project_dir = create_search(config, tmp_path, "hb")
    search_plan = plan(config)
    run_search(project_dir, resume=False)
    files = trial_files(project_dir)
    assert len(files) == search_plan.trials == 6
    promoted = {i: t for i, t in files.items() if "tuner/trial_id" in t["hyperparameters"]["values"]}
    assert len(promoted) == 1
    epochs = {}
    for trial_id, trial in files.items():
        values = trial["hyperparameters"]["values"]
        epochs[trial_id] = (values["tuner/initial_epoch"] + 1, values["tuner/epochs"])
    _check_search_files(project_dir, trials=6, epochs_per_trial=epochs)
    metrics = read_lines(SearchPaths.of(project_dir).metrics)
    assert len(metrics) == search_plan.epochs_total == 11
    assert "epochs" not in next(iter(files.values()))["hyperparameters"]["values"]


def test_failed_trials_are_recorded_and_the_search_goes_on(tmp_path: Path) -> None:
    # A learning rate of 1.0 with SGD and strong momentum diverges; the other trials still run.
    space = diverging_space(learning_rate=Choice((1.0, 0.001)), dropout=Choice((0.0, 0.1)))
    config = tiny_config(tuner="grid", max_trials=4, space=space)
    project_dir = create_search(config, tmp_path, "diverge")
    run_search(project_dir, resume=False)
    files = trial_files(project_dir)
    failed = {i: t for i, t in files.items() if t["status"] == "FAILED"}
    completed = {i: t for i, t in files.items() if t["status"] == "COMPLETED"}
    assert len(files) == 4
    assert failed and completed
    for trial in failed.values():
        assert trial["hyperparameters"]["values"]["learning_rate"] == 1.0
        assert "diverged" in trial["message"]
    events = [e for e in read_lines(SearchPaths.of(project_dir).events) if e["event"] == "trial_end"]
    assert {e["trial_id"]: e["status"] for e in events} == {i: t["status"] for i, t in files.items()}
    assert all("diverged" in e["message"] for e in events if e["status"] == "FAILED")
    status = read_status(project_dir)
    assert status.state == "completed"
    assert status.trials_by_status == {"completed": len(completed), "failed": len(failed)}


def test_too_many_failures_in_a_row_ends_the_search_as_failed(tmp_path: Path) -> None:
    space = diverging_space(learning_rate=Fixed(1.0), dropout=FloatRange(0.0, 0.5))
    config = tiny_config(tuner="random", max_trials=5, space=space, max_consecutive_failures=2)
    project_dir = create_search(config, tmp_path, "all-fail")
    final = run_search(project_dir, resume=False)
    assert final.state == "failed"
    assert "2 trials in a row failed" in final.error and "diverged" in final.error
    assert [t["status"] for t in trial_files(project_dir).values()] == ["FAILED", "FAILED"]
    oracle = json.loads((project_dir / "oracle.json").read_text())
    assert oracle["end_order"] == sorted(trial_files(project_dir))


def test_run_refuses_a_folder_that_is_not_a_search_and_a_search_that_already_ran(tmp_path: Path) -> None:
    with pytest.raises(SearchNotFoundError, match="not a search made by this app"):
        run_search(tmp_path / "nothing", resume=False)
    project_dir = create_search(tiny_config(max_trials=1), tmp_path, "once")
    run_search(project_dir, resume=False)
    with pytest.raises(SearchStateError, match=r"already run .*Use resume"):
        run_search(project_dir, resume=False)


def test_each_execution_of_a_trial_has_its_own_learning_curve(tmp_path: Path) -> None:
    config = tiny_config(tuner="random", max_trials=1, executions_per_trial=2, space=tiny_space(epochs=Fixed(2)))
    project_dir = create_search(config, tmp_path, "twice")
    assert run_search(project_dir, resume=False).state == "completed"
    metrics = read_lines(SearchPaths.of(project_dir).metrics)
    assert [(m["execution"], m["epoch"]) for m in metrics] == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert read_status(project_dir).epochs_done == 4


def test_settings_edited_after_the_search_started_are_refused_on_resume(tmp_path: Path) -> None:
    project_dir = create_search(tiny_config(max_trials=2), tmp_path, "edited")
    assert run_search(project_dir, resume=False).state == "completed"
    config_file = SearchPaths.of(project_dir).config
    original = config_file.read_bytes()
    edited = json.loads(original)
    edited["max_trials"] = 3
    edited["space"]["dropout"] = {"type": "float", "min": 0.0, "max": 0.8, "step": 0.2, "sampling": "linear"}
    config_file.write_text(json.dumps(edited))
    before = {p: p.read_bytes() for p in project_dir.glob("trial_*/trial.json")}

    final = run_search(project_dir, resume=True)
    assert final.state == "failed"
    assert "settings were changed after it started" in final.error and "dropout" in final.error
    assert {p: p.read_bytes() for p in project_dir.glob("trial_*/trial.json")} == before

    config_file.write_bytes(original.replace(b'"max_trials": 2', b'"max_trials": 3'))
    assert run_search(project_dir, resume=True).state == "completed"
    assert len(trial_files(project_dir)) == 3
