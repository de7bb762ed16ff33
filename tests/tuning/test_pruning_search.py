"""Real searches with pruning: trials stopped early are first-class everywhere, and survive a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import keras_tuner
import pytest

from searches import read_lines, tiny_config, tiny_space, wait_for
from tuning.analysis.findings import findings
from tuning.engine.jobs import create_search, resume_search
from tuning.engine.launch import run_search
from tuning.export import summary, to_csv, to_json
from tuning.results import load_project
from tuning.space.specs import Choice, Fixed
from tuning.store.status import read_status

CRAWL, GOOD = 1e-6, 2e-3  # a learning rate that leaves the model at chance, and one that learns by epoch 2


def pruning_config(**fields):
    space = tiny_space(
        learning_rate=Choice((GOOD, CRAWL)), filters=Choice((8, 16)), dropout=Fixed(0.0), optimizer=Fixed("adam"),
        epochs=Fixed(4),
    )  # fmt: skip
    settings = {"tuner": "grid", "max_trials": 4, "pruning": "median", "pruning_warmup_epochs": 2}
    settings |= {"pruning_min_trials": 1, "workers": 1, **fields}
    return tiny_config(train_size=600, space=space, **settings)


@pytest.fixture(scope="module")
def pruned_search(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = create_search(pruning_config(), tmp_path_factory.mktemp("pruning"), "median")
    assert run_search(project, resume=False).state == "completed"
    return project


def _by_status(project: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    events = project / "explorer" / "events.jsonl"
    for line in read_lines(events) if events.exists() else []:
        if line["event"] == "trial_end":
            found.setdefault(line["status"], []).append(line["trial_id"])
    return found


def test_hopeless_trials_are_pruned_and_the_rest_complete(pruned_search: Path) -> None:
    ended = _by_status(pruned_search)
    assert ended.get("PRUNED") and ended.get("COMPLETED"), ended
    epochs: dict[str, int] = {}
    for line in read_lines(pruned_search / "explorer" / "metrics.jsonl"):
        epochs[line["trial_id"]] = max(epochs.get(line["trial_id"], 0), line["epoch"])
    for trial_id in ended["PRUNED"]:
        saved = json.loads((pruned_search / f"trial_{trial_id}" / "trial.json").read_text())
        assert saved["hyperparameters"]["values"]["learning_rate"] == CRAWL  # only the crawling ones
        assert saved["status"] == "COMPLETED" and saved["score"] is not None  # still a readable Keras Tuner trial
        assert saved["message"].startswith(f"Pruned at epoch {epochs[trial_id]} of 4: val_accuracy ")
        assert "< median" in saved["message"] and epochs[trial_id] < 4
    assert all(epochs[t] == 4 for t in ended["COMPLETED"])
    status = read_status(pruned_search)
    assert status.trials_by_status == {"completed": len(ended["COMPLETED"]), "pruned": len(ended["PRUNED"])}
    assert status.workers_in_use == 1 and status.device.startswith("CPU: ")


def test_pruned_trials_read_back_everywhere(pruned_search: Path) -> None:
    result = load_project(pruned_search)
    pruned = set(_by_status(pruned_search)["PRUNED"])
    assert set(result.pruned.index) == pruned
    assert not pruned & set(result.completed.index)
    assert summary(result)["trials"]["pruned"] == len(pruned)
    rows = {line.split(",")[0]: line for line in to_csv(result).splitlines()[1:]}
    assert all(",PRUNED," in rows[t] for t in pruned)
    exported = json.loads(to_json(result))
    assert {t["trial_id"] for t in exported["trials"] if t["status"] == "PRUNED"} == pruned
    (finding,) = [f for f in findings(result) if f.kind == "pruned_trials"]
    assert finding.evidence["pruned"] == len(pruned) and finding.evidence["epochs_saved"] > 0


def test_stock_keras_tuner_reloads_a_pruned_search(pruned_search: Path) -> None:
    tuner = keras_tuner.GridSearch(
        hypermodel=lambda hp: None, objective=keras_tuner.Objective("val_accuracy", "max"), max_trials=4,
        directory=str(pruned_search.parent), project_name=pruned_search.name, overwrite=False,
    )  # fmt: skip
    tuner.reload()
    assert len(tuner.oracle.trials) == 4
    assert {t.status for t in tuner.oracle.trials.values()} == {"COMPLETED"}
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.hyperparameters.values["learning_rate"] == GOOD


def test_resume_after_kill_keeps_every_pruning_decision(tmp_path: Path) -> None:
    config = pruning_config(max_trials=4)
    project = create_search(config, tmp_path, "killed")
    env = {**os.environ, "TUNING_MEMORY_LIMIT_MB": "0"}
    runner = subprocess.Popen([sys.executable, "-m", "tuning.engine.launch", str(project)], env=env)
    try:
        wait_for(lambda: len(_by_status(project).get("PRUNED", [])) >= 1, timeout=240, what="a pruned trial")
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    before = _by_status(project)
    assert read_status(project).state == "interrupted"
    resume_search(project)
    wait_for(lambda: read_status(project).state == "completed", timeout=240, what="the resumed search to complete")
    after = _by_status(project)
    assert set(before["PRUNED"]) <= set(after["PRUNED"])  # nothing pruned before was run again
    assert set(before.get("COMPLETED", [])) <= set(after["COMPLETED"])
    ended = [t for ids in after.values() for t in ids]
    assert len(ended) == len(set(ended)) == 4  # every trial ended exactly once


def test_asha_on_two_workers_shares_its_rungs_through_the_files(tmp_path: Path) -> None:
    config = pruning_config(pruning="asha", asha_factor=2, asha_min_epochs=1, workers=2)
    project = create_search(config, tmp_path, "asha")
    status = run_search(project, resume=False)
    assert (status.state, status.workers_in_use) == ("completed", 2)
    ends = [line for line in read_lines(project / "explorer" / "events.jsonl") if line["event"] == "trial_end"]
    assert sorted(line["trial_id"] for line in ends) == ["0", "1", "2", "3"]  # each trial ended once
    assert len({line["worker"] for line in ends}) == 2
    pruned = [line for line in ends if line["status"] == "PRUNED"]
    assert pruned, ends
    for line in pruned:
        assert line["pruned"]["rule"] == "asha" and line["pruned"]["epoch"] in (1, 2)  # the rungs below 4 epochs
        saved = json.loads((project / f"trial_{line['trial_id']}" / "trial.json").read_text())
        assert saved["status"] == "COMPLETED" and "at this rung" in saved["message"]  # the leader copied it back
    assert read_status(project).trials_by_status.get("pruned") == len(pruned)
