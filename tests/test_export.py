"""Exports of a result: summary, CSV, JSON, HTML report and the best model's Python script."""

from __future__ import annotations

import ast
import html
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from plots.make_result import make_result, sample_result, trial

from searches import tiny_config
from tuning.analysis.anova import MEASURES as ANOVA_MEASURES
from tuning.analysis.importance import MEASURES as PERMUTATION_MEASURES
from tuning.export import ExportError, export, summary, to_csv, to_html, to_json, to_python, trial_table
from tuning.results.model import CURVE_COLUMNS, Condition, HyperparameterInfo

ROOT = Path(__file__).resolve().parents[1]

# The values a trial of tests/searches.py's tiny space takes (None: inactive conditional hyperparameters).
TINY_VALUES: dict[str, Any] = {
    "conv_blocks": 1, "filters": 8, "filter_growth": "double", "kernel_size": 3, "pooling": "max",
    "batch_norm": False, "dense_layers": 0, "dense_units": None, "activation": "relu", "dropout": 0.25,
    "weight_decay": 0.0, "augment": False, "optimizer": "adam", "learning_rate": 0.003, "momentum": None,
    "loss": "crossentropy", "label_smoothing": None, "focal_gamma": None, "batch_size": 32, "epochs": 2,
}  # fmt: skip


def _info(name: str, value: Any) -> HyperparameterInfo:
    if value is None:
        return HyperparameterInfo(name, "float", min=0.0, max=1.0, conditions=(Condition("parent", ("x",)),))
    kind = {bool: "boolean", int: "int", float: "float"}.get(type(value), "choice")
    return HyperparameterInfo(name, kind, values=(value,) if kind == "choice" else ())


def engine_like_result(tmp_path: Path) -> Any:
    """A result as our reader gives for a search made by this app: config present, hp ``loss`` and metric ``loss``."""
    space = tuple(_info(name, value) for name, value in TINY_VALUES.items())
    values = {k: v for k, v in TINY_VALUES.items() if v is not None}
    rows = [
        trial("00", 0.4, hp=values | {"filters": 16}, metrics={"loss": 1.9, "val_accuracy": 0.4}),
        trial("01", 0.5, hp=values, metrics={"loss": 1.8, "val_accuracy": 0.5}, best_step=0),
    ]
    config = tiny_config(max_trials=2).to_dict()
    return make_result(rows, space=space, objective=("val_accuracy", "max"), config=config, project_dir=tmp_path)


def test_summary_of_a_result() -> None:
    result = sample_result()
    result.notices.append("2 trial files were unreadable and skipped.")
    assert summary(result) == {
        "project_dir": "/tmp/project",
        "name": "project",
        "tuner": "random",
        "tuner_inferred": False,
        "objective": {"name": "val_loss", "direction": "min"},
        "objective_inferred": False,
        "made_by_explorer": False,
        "trials": {
            "total": 6,
            "completed": 4,
            "pruned": 0,
            "failed": 1,
            "invalid": 0,
            "running": 1,
            "idle": 0,
            "stopped": 0,
        },
        "best": {
            "trial_id": "01",
            "number": 2,
            "score": 0.5,
            "best_step": 0,
            "hyperparameters": {
                "learning_rate": 0.01,
                "optimizer": "sgd",
                "momentum": 0.9,
                "units": 32,
                "batch_size": 32,
            },
            "metrics": {"val_loss": 0.5, "loss": 0.4},
        },
        "hyperparameters": ["learning_rate", "optimizer", "momentum", "units", "batch_size"],
        "curves": "none",
        "notices": ["2 trial files were unreadable and skipped."],
        "experiment": None,
    }
    json.dumps(summary(result), allow_nan=False)  # JSON-able as is


def test_summary_without_a_completed_trial_has_no_best() -> None:
    info = summary(make_result([trial("a", None, status="FAILED")]))
    assert info["best"] is None
    assert info["trials"] == {
        "total": 1,
        "completed": 0,
        "pruned": 0,
        "failed": 1,
        "invalid": 0,
        "running": 0,
        "idle": 0,
        "stopped": 0,
    }


def test_the_best_trial_leaves_out_hyperparameters_it_did_not_use() -> None:
    best = summary(sample_result())["best"]
    result = sample_result()
    result.objective = type(result.objective)("val_loss", "max")
    assert "momentum" in best["hyperparameters"]
    assert summary(result)["best"]["hyperparameters"] == {
        "learning_rate": 0.03,
        "optimizer": "adam",
        "units": 8,
        "batch_size": 32,
    }


def test_trial_table_names_and_hyperband_columns(tmp_path: Path) -> None:
    table = trial_table(engine_like_result(tmp_path))
    # the hyperparameter "loss" keeps its plain name; the metric "loss" is "best_loss"
    assert list(table.columns[:11]) == [
        "trial_id", "number", "status", "score", "best_step", "duration_s", "started_at", "ended_at", "message",
        "best_loss", "best_val_accuracy",
    ]  # fmt: skip
    assert list(table.columns[11:]) == list(TINY_VALUES)
    assert table.loc[0, "started_at"] == "2023-11-14T22:13:20Z"
    hb = {"bracket": 0, "round": 0, "epochs": 2, "initial_epoch": 0, "parent": None}
    hyperband = trial_table(make_result([trial("a", 1.0, hb=hb)], tuner="hyperband"))
    assert [c for c in hyperband.columns if c.startswith("hyperband_")] == [
        "hyperband_bracket", "hyperband_round", "hyperband_parent", "hyperband_epochs", "hyperband_initial_epoch",
    ]  # fmt: skip


def test_csv_parses_back_into_the_trial_table(tmp_path: Path) -> None:
    for result in (sample_result(), engine_like_result(tmp_path)):
        table = trial_table(result)
        parsed = pd.read_csv(io.StringIO(to_csv(result)), dtype=dict(table.dtypes.astype(str)) | {"trial_id": "str"})
        pd.testing.assert_frame_equal(parsed, table.astype({"trial_id": "str"}))


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in the JSON")

    return json.loads(text, parse_constant=refuse)


def test_json_holds_the_whole_result_with_null_for_missing_values() -> None:
    points = [("01", 0, 1, "loss", 0.5), ("01", 0, 1, "val_loss", float("nan")), ("01", 0, 2, "loss", 0.25)]
    result = sample_result()
    result.curves = make_result([trial("01", 1.0)], curves=points).curves
    result.curves_source, result.curves_note = "engine", "recorded by us"
    result.notices.append("a notice")
    document = _strict_json(to_json(result))
    assert document["format"] == "hyperparameter-explorer/result"
    assert document["summary"] == summary(result)
    assert document["objective"] == {"name": "val_loss", "direction": "min", "inferred": False}
    assert document["notices"] == ["a notice"]
    failed = document["trials"][2]
    assert failed["trial_id"] == "02" and failed["score"] is None and failed["message"] == "diverged"
    assert failed["hyperparameters"] == {
        "learning_rate": 0.1,
        "optimizer": "adam",
        "momentum": None,
        "units": None,
        "batch_size": None,
    }
    assert document["space"][2] == {
        "name": "momentum",
        "kind": "float",
        "min": 0.0,
        "max": 0.9,
        "step": None,
        "sampling": "linear",
        "values": [],
        "default": None,
        "conditions": [{"parent": "optimizer", "values": ["sgd"]}],
    }
    curves = document["curves"]
    assert (curves["source"], curves["note"]) == ("engine", "recorded by us")
    back = pd.DataFrame(curves["data"], columns=list(CURVE_COLUMNS)).astype({"value": float})
    pd.testing.assert_frame_equal(back, result.curves, check_dtype=False)
    assert curves["data"]["value"] == [0.5, None, 0.25]


def test_html_report_opens_offline_and_embeds_plotly_once() -> None:
    result = sample_result()
    result.notices.append("<b>escaped</b>")
    page = to_html(result)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", page)
    assert page.count("plotly.js v") == 1  # the library's banner: embedded exactly once
    # history, parallel, importance twice (permutation, PED-ANOVA), learning curves (loss)
    assert page.count('class="plotly-graph-div"') == 5
    assert "&lt;b&gt;escaped&lt;/b&gt;" in page and "<b>escaped</b>" not in page
    for text in (
        "Summary",
        "Best configuration",
        "Progress: best score so far",
        "Parallel coordinates",
        "Which hyperparameters matter: permutation importance",
        "Which hyperparameters matter: PED-ANOVA",
        html.escape(PERMUTATION_MEASURES),
        html.escape(ANOVA_MEASURES["ped-anova"]),
        "Learning curves: loss",
        "(1 failed",
    ):
        assert text in page


def test_html_report_of_an_experiment_opens_on_its_view_as_the_analyse_page_does() -> None:
    from tests.analysis.test_experiment import experiment, lr_run

    result = experiment(
        {"learning_rate": [1e-5, 1e-3, 1.0]},
        [lr_run(1e-5, [0.10, 0.14, 0.21]), lr_run(1e-3, [0.50, 0.75, 0.86]), lr_run(1.0, [0.10, 0.11, 0.10])],
    )
    page = to_html(result)
    varied = "<h2>Experiment</h2><p>Varied <b>learning rate</b> = 1e-05, 0.001, 1; everything else as in: defaults."
    assert varied in page
    assert '<p class="conclusion">Best learning rate 0.001: validation accuracy 86.0% after 3 epochs.' in page
    assert page.index("Experiment: learning curves of each value") < page.index("Experiment: final score of each value")
    assert page.index("Experiment: final score of each value") < page.index("Progress: best score so far")
    assert page.count("plotly.js v") == 1 and page.index("plotly.js v") > page.index("<h2>Experiment</h2>")
    # the experiment's two figures, then history, parallel, importance twice, learning curves (accuracy, loss)
    assert page.count('class="plotly-graph-div"') == 2 + 6
    assert "Experiment" not in to_html(sample_result())


def test_python_script_is_refused_for_searches_made_elsewhere() -> None:
    with pytest.raises(ExportError, match="not made by Hyperparameter Explorer: its model-building code is not"):
        to_python(sample_result())
    with pytest.raises(ExportError, match="Unknown export format 'xls'"):
        export(sample_result(), "xls")


def test_python_script_is_refused_without_a_completed_trial(tmp_path: Path) -> None:
    result = engine_like_result(tmp_path)
    result.trials["status"] = "FAILED"
    with pytest.raises(ExportError, match="no trial has completed yet"):
        to_python(result)


def _assigned(tree: ast.Module, name: str) -> Any:
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == name)  # type: ignore[attr-defined]
    return ast.literal_eval(node.value)


def test_python_script_compiles_and_embeds_the_best_values(tmp_path: Path) -> None:
    result = engine_like_result(tmp_path)
    script = to_python(result)
    tree = ast.parse(script)
    compile(script, "best_model.py", "exec")
    assert _assigned(tree, "HYPERPARAMETERS") == TINY_VALUES
    assert _assigned(tree, "DATA") == result.config["data"]
    assert _assigned(tree, "SEED") == 1
    assert _assigned(tree, "EPOCHS") == 1  # best_step 0: its first epoch was its best of 2
    assert "python best_model.py" in script and "imports Hyperparameter Explorer's `tuning` package" in script


def test_python_script_trains_tests_and_saves_the_best_model(tmp_path: Path) -> None:
    (tmp_path / "best_model.py").write_text(to_python(engine_like_result(tmp_path)))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(
        [sys.executable, "best_model.py"], cwd=tmp_path, capture_output=True, text=True, timeout=240, env=env
    )
    assert run.returncode == 0, run.stderr
    assert "Held-out test set: " in run.stdout and "Saved the trained model" in run.stdout
    assert (tmp_path / "best_model.keras").stat().st_size > 1000


def test_display_table_shows_varying_hyperparameters_and_filters_by_state() -> None:
    from tests.analysis.make import LR, MOMENTUM, OPTIMIZER, ROWS
    from tests.analysis.make import make_result as make_rows_result
    from tuning.export.tables import display_table

    result = make_rows_result(ROWS, [OPTIMIZER, MOMENTUM, LR])
    table = display_table(result)
    assert list(table.columns) == ["#", "state", "score", "duration (s)", "optimizer", "momentum", "learning_rate"]
    assert table["state"].tolist() == ["COMPLETED", "COMPLETED", "COMPLETED", "FAILED"]
    assert display_table(result, states=["FAILED"]).index.tolist() == ["0003"]
    fixed = make_rows_result([{"batch": 32, "score": 0.5}], [HyperparameterInfo("batch", "fixed", values=(32,))])
    assert list(display_table(fixed).columns)[-1] == "batch"  # nothing varies: every hyperparameter shown
