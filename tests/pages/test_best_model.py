"""The best-model page: best trial, evaluation on the test set, gallery, downloads, final training, foreign projects."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from searches import trial_files, wait_for
from tests.results.factories import make_project
from tuning.bestmodel import FinalPaths, load_test_set, read_final_status, search_config
from tuning.data import SYNTHETIC_CLASSES
from tuning.results import load_project

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "best_model.py")


def run_page(search: str | None = None, *, query: bool = False, project: Path | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    if search and query:
        at.query_params["search"] = search
    elif search:
        at.session_state["monitor_search"] = search
    if project is not None:
        at.session_state["best_model_project"] = str(project)
    return at.run()


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[MemoryMediaFileStorage]:
    """The in-memory media stores of each AppTest run, so a download button's content can be read back."""
    stores: list[MemoryMediaFileStorage] = []

    def storage(prefix: str) -> MemoryMediaFileStorage:
        stores.append(MemoryMediaFileStorage(prefix))
        return stores[-1]

    monkeypatch.setattr("streamlit.testing.v1.app_test.MemoryMediaFileStorage", storage)
    return stores


def downloaded(at: AppTest, key: str, stores: list[MemoryMediaFileStorage]) -> bytes:
    button = next(b for b in at.get("download_button") if b.proto.id.endswith(key))
    return stores[-1].get_file(button.proto.url.rsplit("/", 1)[-1]).content


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def best_trial_of(project_dir: Path) -> tuple[str, dict]:
    done = {k: t for k, t in trial_files(project_dir).items() if t["status"] == "COMPLETED"}
    trial_id = max(done, key=lambda k: done[k]["score"])
    return trial_id, done[trial_id]


def copy_search(runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A runs folder of its own holding a copy of the finished search ``done``."""
    folder = tmp_path / "runs"
    shutil.copytree(runs / "done", folder / "done")
    monkeypatch.setenv("HPX_RUNS_DIR", str(folder))
    return folder / "done"


def test_best_trial_and_hyperparameters_download(runs_env: Path, media: list[MemoryMediaFileStorage]) -> None:
    at = run_page("done")
    assert not at.exception and not at.error
    assert at.selectbox(key="best_model_select").value == str(runs_env / "done")
    trial_id, trial = best_trial_of(runs_env / "done")
    shown = metrics(at)
    assert shown["Best val_accuracy"] == f"{trial['score']:.4g}" and shown["Trials completed"] == "2"
    assert shown["Trial"].endswith(f"(id {trial_id})")
    table = at.dataframe[0].value
    assert dict(zip(table["hyperparameter"], table["value"], strict=True))["filters"] == str(
        trial["hyperparameters"]["values"]["filters"]
    )
    data = json.loads(downloaded(at, "best_model_hps_json", media))
    assert data["trial_id"] == trial_id and data["hyperparameters"] == trial["hyperparameters"]["values"]
    assert data["score"] == pytest.approx(trial["score"])
    assert at.button(key="best_model_evaluate") and at.button(key="best_model_final_start")


def test_evaluate_shows_metrics_confusion_matrix_and_gallery(runs_env: Path) -> None:
    at = run_page("done")
    assert not at.get("plotly_chart")
    at.button(key="best_model_evaluate").click().run()
    assert not at.exception and not at.error
    shown = metrics(at)
    accuracy = float(shown["Test accuracy"].rstrip("%")) / 100
    wrong = int(shown["Test images"].split("(")[1].split()[0])
    assert shown["Test images"].startswith("100 ") and accuracy == pytest.approx((100 - wrong) / 100)
    per_class = at.dataframe[1].value
    assert list(per_class["class"]) == list(SYNTHETIC_CLASSES) and per_class["support"].sum() == 100
    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    assert figure["data"][0]["type"] == "heatmap" and "100 images" in figure["layout"]["title"]["text"]
    test_set = load_test_set(search_config(load_project(runs_env / "done")))
    captions = gallery_captions(at)
    expected = [f"true: {SYNTHETIC_CLASSES[label]}" for label in test_set.y[:48]]
    assert len(captions) == 48 and [c.rsplit("· ", 1)[1] for c in captions] == expected
    at.toggle(key="best_model_mistakes").set_value(True).run()
    captions = gallery_captions(at)
    assert len(captions) == min(wrong, 48) and all(c.startswith("✗") for c in captions)
    at.selectbox(key="best_model_gallery_class").set_value("ring").run()
    rings = gallery_captions(at)
    assert all(c.endswith("true: ring") and c.startswith("✗") for c in rings)
    if not rings:
        assert "No test image matches" in at.info[0].value


def gallery_captions(at: AppTest) -> list[str]:
    return [img.caption for element in at.get("image") for img in element.proto.imgs]


def test_query_parameter_preselects(runs_env: Path) -> None:
    at = run_page("halted", query=True)
    assert not at.exception
    assert at.selectbox(key="best_model_select").value == str(runs_env / "halted")
    assert at.session_state["monitor_search"] == "halted"


def test_missing_weights_offer_final_training(runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project_dir = copy_search(runs, tmp_path, monkeypatch)
    trial_id, _ = best_trial_of(project_dir)
    (project_dir / f"trial_{trial_id}" / "checkpoint.weights.h5").unlink()
    at = run_page("done")
    assert not at.exception
    (warning,) = at.warning
    assert "best trial's weights are missing" in warning.value and "Train the best configuration again" in warning.value
    assert not [b for b in at.button if b.key == "best_model_evaluate"]
    assert at.button(key="best_model_final_start").label == "Start final training"


def test_foreign_project_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, media: list) -> None:
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path))
    project_dir = make_project(tmp_path, name="theirs", n_trials=4)
    at = run_page()
    assert not at.exception and not at.error
    assert at.selectbox(key="best_model_select").value == str(project_dir)
    (info,) = at.info
    assert "not made by Hyperparameter Explorer" in info.value and "cannot be rebuilt" in info.value
    assert not [b for b in at.button if b.key in ("best_model_evaluate", "best_model_final_start")]
    data = json.loads(downloaded(at, "best_model_hps_json", media))
    assert data["project"] == "theirs" and data["hyperparameters"]


def test_final_training_from_the_page(runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project_dir = copy_search(runs, tmp_path, monkeypatch)
    at = run_page("done")
    at.number_input(key="best_model_final_epochs_input").set_value(1)
    at.button(key="best_model_final_start").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == ["Final training started in the background."]
    assert read_final_status(project_dir).epochs == 1
    wait_for(lambda: read_final_status(project_dir).state == "completed", timeout=240, what="final training done")
    at.run()
    assert FinalPaths.of(project_dir).model.is_file()
    assert [b.proto.label for b in at.get("download_button")][-1] == "Final model (.keras)"
    assert at.button(key="best_model_final_start").label.startswith("Train again")
    radio = at.radio(key="best_model_which")
    final = next(option for option in radio.options if option.startswith("Final model (1 epochs on 300 images)"))
    radio.set_value(final).run()
    at.button(key="best_model_evaluate").click().run()
    assert not at.exception and not at.error
    status = read_final_status(project_dir)
    assert metrics(at)["Test accuracy"] == f"{status.test['accuracy']:.1%}"


def test_empty_runs_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path / "nothing"))
    at = run_page()
    assert not at.exception
    assert "No searches yet" in at.info[0].value


def test_monitor_choice_newer_than_this_pages_wins(runs_env: Path) -> None:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["best_model_project"] = str(runs_env / "done")
    at.session_state["monitor_search"] = "crashed"
    at.run()
    assert at.selectbox(key="best_model_select").value == str(runs_env / "crashed")
    assert at.session_state["best_model_project"] == str(runs_env / "crashed")


def test_project_asked_by_folder(runs_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPX_ANALYSIS_ROOTS", str(tmp_path / "elsewhere"))
    theirs = make_project(tmp_path / "elsewhere", name="theirs", n_trials=3)
    at = run_page(project=theirs)
    assert not at.exception and not at.warning
    assert at.selectbox(key="best_model_select").value == str(theirs)
    assert "not made by Hyperparameter Explorer" in at.info[0].value
    outside = make_project(tmp_path / "outside", name="secret", n_trials=3)
    at = run_page(project=outside)
    assert "outside the folders that may be analysed" in at.warning[0].value
    assert at.selectbox(key="best_model_select").value != str(outside)


def test_progress_and_stop_from_the_page(runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project_dir = copy_search(runs, tmp_path, monkeypatch)
    at = run_page("done")
    at.number_input(key="best_model_final_epochs_input").set_value(500)
    at.button(key="best_model_final_start").click().run()
    wait_for(lambda: read_final_status(project_dir).batch > 0, timeout=240, what="a first batch")
    at.run()
    assert not at.exception and not at.error
    assert "🏃 running" in "\n".join(m.value for m in at.markdown)
    assert " of 500, batch " in at.get("progress")[0].proto.text
    assert not [b for b in at.button if b.key == "best_model_final_start"]
    at.button(key="best_model_final_stop").click().run()
    assert [s.value for s in at.success] == ["Stop requested: training stops at the next batch."]
    wait_for(lambda: read_final_status(project_dir).state == "stopped", timeout=120, what="stopped")
    at.run()
    assert "no model was saved" in "\n".join(m.value for m in at.markdown)
    assert at.button(key="best_model_final_start").label == "Start final training"
    assert not FinalPaths.of(project_dir).model.exists()
