"""``python -m tuning summary`` and ``export`` as a user runs them: a real process each time."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from plots.make_result import kt_trial, write_project

from searches import cli, one_line_error, tiny_config

SUMMARY_KEYS = {
    "project_dir", "name", "tuner", "tuner_inferred", "objective", "objective_inferred", "made_by_explorer",
    "trials", "best", "hyperparameters", "curves", "notices",
}  # fmt: skip
STATUS_KEYS = {"total", "completed", "pruned", "failed", "invalid", "running", "idle", "stopped"}


@pytest.fixture(scope="module")
def engine_search(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real two-trial random search made by our engine (one epoch each on a few hundred synthetic images)."""
    folder = tmp_path_factory.mktemp("runs")
    config = folder / "search.json"
    config.write_text(json.dumps(tiny_config(max_trials=2).to_dict()))
    run = cli("run", "--directory", str(folder), "--project", "demo", "--config", str(config))
    assert run.returncode == 0, run.stderr
    return folder / "demo"


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Keras Tuner project written elsewhere: no config of ours, one failed trial."""
    trials = [
        kt_trial("0", {"lr": 0.001, "opt": "adam"}, 0.6),
        kt_trial("1", {"lr": 0.01, "opt": "sgd", "momentum": 0.5}, 0.4),
        kt_trial("2", {"lr": 0.1, "opt": "sgd", "momentum": 0.9}, None, status="FAILED"),
    ]
    return write_project(tmp_path_factory.mktemp("elsewhere") / "project", trials)


def test_summary_json_of_an_engine_search(engine_search: Path) -> None:
    run = cli("summary", str(engine_search), "--json")
    assert run.returncode == 0, run.stderr
    info = json.loads(run.stdout)
    assert set(info) >= SUMMARY_KEYS
    assert info["project_dir"] == str(engine_search)
    assert (info["tuner"], info["tuner_inferred"]) == ("random", False)
    assert info["objective"] == {"name": "val_accuracy", "direction": "max"} and not info["objective_inferred"]
    assert info["trials"] == {"total": 2, "completed": 2} | dict.fromkeys(STATUS_KEYS - {"total", "completed"}, 0)
    assert info["made_by_explorer"] and info["curves"] == "engine"
    best = info["best"]
    assert set(best) >= {"trial_id", "score", "hyperparameters"} and 0 <= best["score"] <= 1
    assert {"learning_rate", "optimizer", "filters", "dropout", "epochs"} <= set(best["hyperparameters"])
    assert "momentum" not in best["hyperparameters"] or best["hyperparameters"]["optimizer"] == "sgd"
    assert "learning_rate" in info["hyperparameters"] and isinstance(info["notices"], list)


def test_html_report_of_an_engine_search(engine_search: Path, tmp_path: Path) -> None:
    run = cli("export", str(engine_search), "--format", "html", "--output", str(tmp_path / "report.html"))
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "report.html").read_text()
    for title in ("Parallel coordinates", "Learning curves: accuracy", "Learning curves: loss", "Learning rate"):
        assert title in page
    assert "Per-epoch values recorded during training" in page


def test_summary_of_a_project_made_elsewhere(foreign: Path) -> None:
    run = cli("summary", str(foreign), "--json")
    assert run.returncode == 0, run.stderr
    info = json.loads(run.stdout)
    assert set(info) >= SUMMARY_KEYS
    assert info["trials"] == {"total": 3, "completed": 2, "failed": 1} | dict.fromkeys(
        STATUS_KEYS - {"total", "completed", "failed"}, 0
    )
    assert info["objective"] == {"name": "val_loss", "direction": "min"} and info["objective_inferred"]
    assert info["tuner_inferred"] and not info["made_by_explorer"]
    assert info["best"] == {
        "trial_id": "1",
        "number": 2,
        "score": 0.4,
        "best_step": 0,
        "hyperparameters": {"lr": 0.01, "opt": "sgd", "momentum": 0.5},
        "metrics": {"val_loss": 0.4},
    }
    assert info["hyperparameters"] == ["lr", "opt", "momentum"] and info["notices"]
    table = cli("summary", str(foreign))
    assert table.returncode == 0, table.stderr
    assert "best:       0.4000 (trial 2, id 1)" in table.stdout and "(inferred)" in table.stdout
    assert re.search(r"trials: +3 \(2 completed, 1 failed\)", table.stdout)


def test_summary_of_a_folder_without_a_project(tmp_path: Path) -> None:
    assert "No Keras Tuner project" in one_line_error(cli("summary", str(tmp_path)))


def test_export_csv_json_and_html(foreign: Path, tmp_path: Path) -> None:
    for fmt in ("csv", "json", "html"):
        run = cli("export", str(foreign), "--format", fmt, "--output", str(tmp_path / f"out.{fmt}"))
        assert run.returncode == 0, run.stderr
        assert f"Wrote {tmp_path / f'out.{fmt}'}" in run.stdout
    table = pd.read_csv(io.StringIO((tmp_path / "out.csv").read_text()), dtype={"trial_id": str})
    assert list(table["trial_id"]) == ["0", "1", "2"] and list(table["status"]) == ["COMPLETED"] * 2 + ["FAILED"]
    assert {"lr", "opt", "momentum", "best_val_loss"} <= set(table.columns)
    document = json.loads((tmp_path / "out.json").read_text())
    assert document["summary"]["best"]["trial_id"] == "1" and len(document["trials"]) == 3
    page = (tmp_path / "out.html").read_text()
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", page) and "plotly" in page


def test_export_refuses_to_overwrite_and_a_missing_folder(foreign: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("keep me")
    assert "already exists; add --force" in one_line_error(
        cli("export", str(foreign), "--format", "csv", "--output", str(out))
    )
    assert out.read_text() == "keep me"
    assert cli("export", str(foreign), "--format", "csv", "--output", str(out), "--force").returncode == 0
    assert out.read_text().startswith("trial_id,")
    missing = tmp_path / "nope" / "out.csv"
    assert "does not exist" in one_line_error(cli("export", str(foreign), "--format", "csv", "--output", str(missing)))


def test_python_export_of_a_project_made_elsewhere_is_refused(foreign: Path, tmp_path: Path) -> None:
    error = one_line_error(cli("export", str(foreign), "--format", "py", "--output", str(tmp_path / "best_model.py")))
    assert "not made by Hyperparameter Explorer: its model-building code is not in the directory" in error
    assert not (tmp_path / "best_model.py").exists()


def test_python_export_of_an_engine_search_trains_and_saves_the_best_model(engine_search: Path, tmp_path: Path) -> None:
    script = tmp_path / "best_model.py"
    run = cli("export", str(engine_search), "--format", "py", "--output", str(script))
    assert run.returncode == 0, run.stderr
    compile(script.read_text(), str(script), "exec")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""}  # finds `tuning` from the path it embeds
    train = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env
    )
    assert train.returncode == 0, train.stderr
    assert "Held-out test set: " in train.stdout and (tmp_path / "best_model.keras").is_file()
