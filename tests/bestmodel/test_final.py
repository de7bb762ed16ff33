"""Final training as a real background process: progress, the saved model, lock, stop, kill and failure."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import keras
import numpy as np
import pytest

from searches import read_lines, wait_for
from tests.results.factories import make_project
from tuning.bestmodel import (
    FinalPaths,
    best_trial,
    evaluate_saved,
    final_model_path,
    load_final_model,
    model_choices,
    read_final_metrics,
    read_final_status,
    start_final_training,
    stop_final_training,
)
from tuning.engine.lifecycle import SCRATCH_PREFIX
from tuning.errors import ConfigError, SearchNotFoundError, SearchStateError
from tuning.results import load_project

TIMEOUT = 240


def test_trains_saves_and_evaluates(search_copy: Path) -> None:
    handle = start_final_training(search_copy, epochs=2)
    assert read_final_status(search_copy).state in ("starting", "running")
    with pytest.raises(SearchStateError, match="already running"):
        start_final_training(search_copy, epochs=1)
    seen = wait_for(
        lambda: (s := read_final_status(search_copy)).state == "running" and s, timeout=TIMEOUT, what="running"
    )
    assert seen.pid == handle.pid and seen.epochs == 2 and seen.train_images == 300 and seen.batches == 10
    status = handle.wait(TIMEOUT)
    assert status.state == "completed", status
    assert status.error is None and status.epoch == 2 and status.batch == 10 and status.fraction == 1.0
    assert status.trial_id == best_trial(load_project(search_copy)).trial_id and status.run == 1
    assert [(m["run"], m["epoch"]) for m in read_final_metrics(search_copy)] == [(1, 1), (1, 2)]
    assert status.metrics == {k: v for k, v in read_final_metrics(search_copy)[-1].items() if k in ("loss", "accuracy")}
    paths = FinalPaths.of(search_copy)
    assert final_model_path(search_copy) == paths.model and "Saved the model" in paths.log.read_text()
    assert not [p.name for p in paths.folder.iterdir() if p.name.endswith(".keras") and p != paths.model]
    model = load_final_model(search_copy)
    assert isinstance(model, keras.Model) and model.output_shape == (None, 10)
    evaluation, test_set = evaluate_saved(load_project(search_copy), "final")
    assert len(test_set) == status.test_images == 100
    assert evaluation.accuracy == pytest.approx(status.test["accuracy"]) and 0 <= evaluation.accuracy <= 1
    assert evaluation.loss == pytest.approx(status.test["loss"], rel=1e-4)
    assert model_choices(load_project(search_copy))[1].available


def test_a_finished_model_is_kept_unless_replaced(search_copy: Path) -> None:
    paths = FinalPaths.of(search_copy)
    paths.folder.mkdir(parents=True)
    paths.model.write_bytes(b"an earlier model")
    with pytest.raises(SearchStateError, match="already holds a final model; it is kept"):
        start_final_training(search_copy, epochs=1)
    assert paths.model.read_bytes() == b"an earlier model" and read_final_status(search_copy).state == "none"


def test_stop_keeps_the_previous_model(search_copy: Path) -> None:
    paths = FinalPaths.of(search_copy)
    paths.folder.mkdir(parents=True)
    paths.model.write_bytes(b"an earlier model")
    handle = start_final_training(search_copy, epochs=500, replace=True)
    wait_for(lambda: read_final_status(search_copy).batch > 0, timeout=TIMEOUT, what="a first batch")
    stop_final_training(search_copy)
    status = handle.wait(TIMEOUT)
    assert status.state == "stopped" and "no model was saved" in status.message and status.epoch < 500
    assert paths.model.read_bytes() == b"an earlier model"
    assert json.loads(paths.control.read_text())["stop"] == "now"
    with pytest.raises(SearchStateError, match=r"is not running \(state: stopped\)"):
        stop_final_training(search_copy)


def test_a_killed_job_reads_interrupted_and_can_start_again(
    search_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"  # what the jobs leave there
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    handle = start_final_training(search_copy, epochs=500)
    wait_for(lambda: read_final_status(search_copy).epoch >= 2, timeout=TIMEOUT, what="a second epoch")
    os.kill(handle.pid, signal.SIGKILL)
    handle.process.wait(30)
    left = [p.name for p in scratch.iterdir() if p.name.startswith(f"{SCRATCH_PREFIX}{handle.pid}-")]
    assert len(left) == 1 and any((scratch / left[0]).glob("__autograph_generated_file*.py"))
    status = read_final_status(search_copy)
    assert status.state == "interrupted" and "killed or crashed" in status.message
    assert final_model_path(search_copy) is None
    again = start_final_training(search_copy, epochs=1)  # the lock died with the process
    assert again.wait(TIMEOUT).state == "completed" and read_final_status(search_copy).run == 2
    assert [m["epoch"] for m in read_final_metrics(search_copy)] == [1]
    assert {m["run"] for m in read_lines(FinalPaths.of(search_copy).metrics)} == {1, 2}
    assert [p.name for p in scratch.iterdir()] == []  # the killed job's scratch folder went with the next job


def test_failure_keeps_its_message(search_copy: Path) -> None:
    handle = start_final_training(search_copy, epochs=1, train_size=60_000)
    status = handle.wait(TIMEOUT)
    assert status.state == "failed" and status.message == "The final training failed."
    assert status.error == "Asked for 60000 training images; the dataset has only 50000."
    assert final_model_path(search_copy) is None


def test_requests_refused_before_anything_starts(finished: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected a whole number of epochs from 1 to 1000; found 0"):
        start_final_training(finished, epochs=0)
    with pytest.raises(ConfigError, match=r"data\.train_size"):
        start_final_training(finished, epochs=1, train_size=5)
    with pytest.raises(SearchNotFoundError, match="not made by Hyperparameter Explorer"):
        start_final_training(make_project(tmp_path), epochs=1)
    assert not FinalPaths.of(finished).folder.exists()
    with pytest.raises(SearchStateError, match=r"No final model in .*Train the best configuration first"):
        load_final_model(finished)


def test_safe_mode_refuses_code_in_a_model_file(search_copy: Path) -> None:
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Lambda(lambda x: x[:, 0, 0, :1] * 0 + np.float32(1))(inputs)
    paths = FinalPaths.of(search_copy)
    paths.folder.mkdir(parents=True)
    keras.Model(inputs, outputs).save(paths.model)
    with pytest.raises(SearchStateError, match=r"cannot be loaded as a Keras model.*safe"):
        load_final_model(search_copy)
