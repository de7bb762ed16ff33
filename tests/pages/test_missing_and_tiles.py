"""Small things on the analyse and monitor pages: missing values are empty cells (not "None"), the tuner tile
is not cut ("hyperband (inferred)" became "hyperband (..."), and the importance view shows the permutation
importance beside Optuna's PED-ANOVA, each with what it measures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.results.factories import add_engine_files, make_project
from tests.results.real_searches import fake_search
from tuning.analysis.anova import MEASURES
from tuning.analysis.importance import MEASURES as PERMUTATION

ROOT = Path(__file__).resolve().parents[2]
ANALYSE = str(ROOT / "pages" / "analyse.py")
MONITOR = str(ROOT / "pages" / "monitor.py")


@pytest.fixture
def bands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An analysis root with a Hyperband project (its tuner inferred) of 12 trials, one running."""
    root = tmp_path / "elsewhere"
    make_project(root, name="bands", n_trials=12, tuner="hyperband", statuses={11: "RUNNING"})
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("HPX_ANALYSIS_ROOTS", str(root))
    monkeypatch.setenv("HPX_UPLOADS_DIR", str(tmp_path / "uploads"))
    return root / "bands"


def test_analyse_tiles_tables_and_both_importances(bands: Path) -> None:
    at = AppTest.from_file(ANALYSE, default_timeout=120)
    at.query_params["project"] = "bands"
    at.session_state["analyse_view"] = "Importance"
    at.run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Tuner"] == "hyperband"  # whole, not "hyperband (..."
    captions = [c.value for c in at.caption]
    assert "Inferred from the files" in captions
    table = at.dataframe(key="analyse_table")
    assert table.value["score"].isna().any()  # the running trial has no score...
    assert table.proto.placeholder == ""  # ...and shows an empty cell, not "None"
    assert PERMUTATION in captions and MEASURES["ped-anova"] in captions
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Which hyperparameters matter" in t for t in titles)
    assert any("PED-ANOVA" in t for t in titles)


def test_monitor_trial_table_shows_missing_values_as_empty_cells(runs_env: Path) -> None:
    at = AppTest.from_file(MONITOR, default_timeout=60)
    at.session_state["monitor_search"] = "done"
    at.run()
    assert not at.exception and not at.error
    trials = at.dataframe[0]  # the trial table (a table without selection has no key in AppTest)
    assert "score" in trials.value.columns and trials.proto.placeholder == ""


def test_a_hostile_project_opens_with_notices_not_a_traceback(bands: Path) -> None:
    (bands / "trial_03" / "trial.json").write_text("[" * 100_000 + "]" * 100_000)
    (bands / "trial_04" / "trial.json").write_bytes(b"\x00\xff garbage")
    trial = bands / "trial_05" / "trial.json"
    data = json.loads(trial.read_text())
    data.update(score="high", metrics={"metrics": [1]}, best_step=10**400)
    data["hyperparameters"]["values"] = {name: 10**400 for name in data["hyperparameters"]["values"]}
    trial.write_text(json.dumps(data))
    at = AppTest.from_file(ANALYSE, default_timeout=120)
    at.query_params["project"] = "bands"
    for view in ("Progress", "Slices", "Importance", "Findings"):
        at.session_state["analyse_view"] = view
        at.run()
        assert not at.exception and not at.error, view
    warning = "\n".join(w.value for w in at.warning)
    assert "skipped trial_03/trial.json: nested too deeply" in warning
    assert "skipped trial_04/trial.json" in warning


def test_the_monitor_shows_a_search_whose_status_file_has_wrong_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    fake_search(runs, "ours", "random")
    add_engine_files(runs / "ours")
    hostile = {"state": "running", "pid": 10**30, "heartbeat": "now", "trials_planned": "5", "objective": {"name": 3}}
    hostile |= {"current_trial": {"trial_id": [1], "epoch": "x", "batch": {}}, "best": {"score": "x", "trial_id": 3}}
    (runs / "ours" / "explorer" / "status.json").write_text(json.dumps(hostile))
    monkeypatch.setenv("HPX_RUNS_DIR", str(runs))
    at = AppTest.from_file(MONITOR, default_timeout=60)
    at.session_state["monitor_search"] = "ours"
    at.run()
    assert not at.exception and not at.error
