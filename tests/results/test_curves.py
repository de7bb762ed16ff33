"""Learning curves: this app's metrics.jsonl, TensorBoard log folders, and the patched curves table."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from tests.results.factories import add_engine_files, engine_epochs, make_project
from tuning.results import load_project
from tuning.results.curves import CurveTable, EngineCurves, curves_frame, empty_curves
from tuning.results.tblogs import candidate_log_dirs, find_log_dir


def _points(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(r) for r in frame[["trial_id", "execution", "epoch", "metric", "value"]].itertuples(index=False)]


def test_engine_lines_become_points() -> None:
    curves = EngineCurves()
    line = {"trial_id": "0", "session": 1, "execution": 1, "epoch": 2, "loss": 0.5, "val_loss": None, "time": 1.0}
    assert curves.feed([line, {"trial_id": "0"}, {"epoch": 1}]) == {"0"}
    frame = curves.table.frame()
    assert _points(frame)[0] == ("0", 1, 2, "loss", 0.5)
    assert _points(frame)[1][:4] == ("0", 1, 2, "val_loss") and math.isnan(_points(frame)[1][4])
    assert frame.dtypes.astype(str).tolist() == ["str", "int64", "int64", "str", "float64", "str"]


def test_a_later_session_replaces_a_trial_and_an_earlier_one_is_ignored() -> None:
    curves = EngineCurves()
    curves.feed(engine_epochs("0", session=1, epochs=2) + engine_epochs("1", session=1, epochs=1))
    before = curves.table.frame()
    curves.feed(engine_epochs("0", session=3, epochs=1, base=0.0))
    curves.feed(engine_epochs("0", session=2, epochs=2))
    frame = curves.table.frame()
    val = frame[frame["metric"] == "val_accuracy"]
    assert _points(val) == [("1", 0, 1, "val_accuracy", 0.6), ("0", 0, 1, "val_accuracy", 0.1)]
    assert len(before) == 12  # an earlier frame is not changed


def test_curve_table_patches_like_a_rebuild() -> None:
    table = CurveTable("engine")
    table.replace("a", [("a", 0, 1, "loss", 1.0)])
    table.append("b", [("b", 0, 1, "loss", 2.0)])
    table.frame()
    table.append("a", [("a", 0, 2, "loss", 0.5)])
    table.replace("b", [("b", 0, 1, "loss", 3.0)])
    patched = table.frame()
    assert sorted(_points(patched)) == [("a", 0, 1, "loss", 1.0), ("a", 0, 2, "loss", 0.5), ("b", 0, 1, "loss", 3.0)]
    assert list(patched.index) == [0, 1, 2]
    pd.testing.assert_frame_equal(empty_curves(), curves_frame([], "engine"))


def test_engine_curves_of_a_project(tmp_path: Path) -> None:
    project_dir = add_engine_files(make_project(tmp_path, n_trials=3, statuses={1: "FAILED"}), epochs=3)
    result = load_project(project_dir)
    assert result.curves_source == "engine"
    assert sorted(set(result.curves["trial_id"])) == ["00", "02"]
    assert sorted(set(result.curves["metric"])) == ["duration_s", "learning_rate", "loss", "val_accuracy"]
    assert set(result.curves["epoch"]) == {1, 2, 3}


def test_engine_search_with_no_epoch_yet(tmp_path: Path) -> None:
    project_dir = add_engine_files(make_project(tmp_path, n_trials=1, statuses={0: "RUNNING"}), state="running")
    result = load_project(project_dir)
    assert (result.curves_source, result.curves_note, len(result.curves)) == ("engine", "no epoch has finished yet", 0)


def _fake_log_dir(root: Path, trial_ids: list[str]) -> Path:
    for trial_id in trial_ids:
        (root / trial_id / "execution0" / "train").mkdir(parents=True)
    return root


def test_where_tensorboard_logs_are_looked_for(tmp_path: Path) -> None:
    project_dir = tmp_path / "proj"
    assert candidate_log_dirs(project_dir)[:4] == [
        project_dir / "logs", project_dir / "tb", project_dir / "tensorboard", tmp_path / "logs" / "proj"
    ]  # fmt: skip
    assert find_log_dir(project_dir, ["0", "1"]) is None
    shared = _fake_log_dir(tmp_path / "tensorboard", ["1"])
    assert find_log_dir(project_dir, ["0", "1"]) == shared
    own = _fake_log_dir(tmp_path / "logs" / "proj", ["0"])
    assert find_log_dir(project_dir, ["0", "1"]) == own
    elsewhere = _fake_log_dir(tmp_path / "somewhere", ["0"])
    assert find_log_dir(project_dir, ["0"], explicit=elsewhere) == elsewhere
    assert find_log_dir(project_dir, ["9"], explicit=elsewhere) is None


def test_log_folders_without_events_fall_back_to_best_epochs(tmp_path: Path) -> None:
    project_dir = make_project(tmp_path, n_trials=2)
    _fake_log_dir(tmp_path / "logs", ["00", "01"])
    result = load_project(project_dir)
    assert result.curves_source == "best_epoch"
