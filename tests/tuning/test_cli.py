"""The command line as a user runs it: a real ``python -m tuning`` process each time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from searches import cli, one_line_error, tiny_config
from tuning.store.paths import SearchPaths


def test_help_explains_every_command_and_option() -> None:
    top = cli("--help")
    assert top.returncode == 0
    for command in ("run", "status", "stop", "resume", "list"):
        assert command in top.stdout
    run = cli("run", "--help")
    for flag in (
        "--directory",
        "--project",
        "--config",
        "--tuner",
        "--dataset",
        "--max-trials",
        "--epochs",
        "--train-size",
        "--seed",
        "--detach",
        "--objective",
        "--data-path",
    ):
        assert flag in run.stdout


def test_foreground_run_with_config_file_and_overrides(tmp_path: Path) -> None:
    config_file = tmp_path / "search.json"
    config_file.write_text(json.dumps(tiny_config(tuner="bayesian", max_trials=5).to_dict()))
    # A tiny memory limit makes the runner replace itself after each trial: the output must go on.
    result = cli(
        "run",
        "--directory",
        str(tmp_path / "runs"),
        "--project",
        "cli demo",
        "--config",
        str(config_file),
        "--max-trials",
        "2",
        "--seed",
        "7",
        env={"TUNING_MEMORY_LIMIT_MB": "-1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("continuing in a fresh process") == 1
    assert "Trial 1 of 2" in result.stdout and "Trial 2 of 2" in result.stdout
    assert "epoch 1/1" in result.stdout and "val_accuracy" in result.stdout
    assert "Search completed: 2 trials." in result.stdout

    project_dir = tmp_path / "runs" / "cli demo"
    saved = json.loads(SearchPaths.of(project_dir).config.read_text())
    assert saved["tuner"] == "bayesian" and saved["max_trials"] == 2 and saved["seed"] == 7
    assert saved["data"]["seed"] == 7 and saved["data"]["train_size"] == 300

    status = cli("status", str(project_dir), "--json")
    data = json.loads(status.stdout)
    assert data["state"] == "completed" and data["trials_done"] == 2 and isinstance(data["pid"], int)
    human = cli("status", str(project_dir))
    assert "state:    completed" in human.stdout and "2 of 2 done" in human.stdout

    listing = json.loads(cli("list", str(tmp_path / "runs"), "--json").stdout)
    assert [(s["name"], s["state"], s["tuner"]) for s in listing] == [("cli demo", "completed", "bayesian")]
    assert "cli demo" in cli("list", str(tmp_path / "runs")).stdout

    again = one_line_error(cli("resume", str(project_dir)))
    assert "completed" in again and "max_trials" in again
    assert "Search completed: 3 trials." in cli("resume", str(project_dir), "--max-trials", "3").stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--directory", "{tmp}", "--max-trials", "0"], "max_trials"),
        (["run", "--directory", "{tmp}", "--train-size", "5"], "data.train_size"),
        (["run", "--directory", "{tmp}", "--config", "{tmp}/missing.json"], "missing.json"),
        (["run", "--directory", "{tmp}", "--config", "{tmp}/bad.json"], "bad.json"),
        (["run", "--directory", "{tmp}", "--project", "a/b"], "project"),
        (["run", "--directory", "{tmp}", "--dataset", "cifar10", "--data-path", "{tmp}/nowhere"], "nowhere"),
        (["status", "{tmp}"], "not a search"),
        (["stop", "{tmp}"], "not a search"),
        (["resume", "{tmp}"], "not a search"),
    ],
)
def test_user_mistakes_give_one_clear_line(tmp_path: Path, args: list[str], expected: str) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    line = one_line_error(cli(*[a.replace("{tmp}", str(tmp_path)) for a in args]))
    assert expected in line
