"""The experiments page (and the home page's experiment buttons) driven by Streamlit's AppTest.

A finished two-run experiment is trained once per session; the page must show what varied, the computed
conclusion and the coloured charts; presenter mode hides the form and captions the charts; a bad form is
refused with its reason and starts nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from searches import wait_for, wait_for_state
from tuning.analysis.experiment import experiment_of
from tuning.engine import jobs, launch
from tuning.results import load_project
from tuning.space.config import SearchConfig
from tuning.space.experiment import READY_BASELINE, Experiment, experiment_config
from tuning.store.status import read_status

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "experiments.py")
HOME = str(ROOT / "pages" / "home.py")


@pytest.fixture(scope="session")
def experiment_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder with one finished experiment: learning rate 1e-5 against 3e-3, one epoch."""
    folder = tmp_path_factory.mktemp("experiment-runs")
    experiment = Experiment(vary={"learning_rate": (1e-5, 3e-3)}, baseline=dict(READY_BASELINE), base="defaults")
    template = SearchConfig(workers=1).with_overrides(train_size=200, test_size=0)
    project = jobs.create_search(experiment_config(experiment, template.with_overrides(epochs=1)), folder, "lr")
    launch.run_search(project, resume=False)
    return folder


@pytest.fixture
def experiments_env(experiment_runs: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HPX_RUNS_DIR", str(experiment_runs))
    return experiment_runs


def run_page(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def test_the_result_view_shows_the_experiment(experiments_env: Path) -> None:
    at = run_page()
    assert not at.exception
    summary = experiment_of(load_project(experiments_env / "lr"))
    assert summary is not None and summary.conclusion
    assert [info.value for info in at.info] == [summary.conclusion]
    assert any("Varied **learning rate** = 1e-05, 0.003" in m.value for m in at.markdown)
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # coloured curves and final scores (no heatmap for one varied hyperparameter)
    assert {b.key for b in at.button} >= {"experiments_ready_learning_rate", "experiments_start"}
    assert not any("How to read it" in c.value for c in at.caption)


def test_presenter_mode_hides_the_form_and_captions_the_charts(experiments_env: Path) -> None:
    at = run_page(present="1")
    assert not at.exception
    keys = {b.key for b in at.button}
    assert "experiments_start" not in keys and "experiments_monitor" not in keys
    assert "experiments_ready_learning_rate" in keys
    captions = [c.value for c in at.caption if "How to read it" in c.value]
    assert len(captions) == 2 and "solid lines are validation" in captions[0]


def test_a_bad_form_is_refused_and_starts_nothing(experiments_env: Path) -> None:
    at = run_page()
    at.selectbox(key="experiments_first").set_value("momentum").run()
    at.button(key="experiments_start").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("vary.momentum: momentum is used only when optimizer is sgd")
    assert [p.name for p in experiments_env.iterdir()] == ["lr"]


def test_home_starts_a_ready_made_experiment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page_switches: list[str]
) -> None:
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path))
    at = AppTest.from_file(HOME, default_timeout=60).run()
    at.button(key="home_ready_dropout").click().run()
    assert not at.exception and not at.error
    [info] = jobs.list_searches(tmp_path)
    assert page_switches == ["pages/experiments.py"]
    assert at.session_state["experiments_search"] == info.name and info.experiment == ("dropout",)
    try:
        wait_for_state(info.project_dir, ("starting", "running", "completed"), timeout=60)
    finally:
        wait_for(lambda: read_status(info.project_dir).state != "created", timeout=60, what="the runner to start")
        if read_status(info.project_dir).is_active:
            jobs.stop_search(info.project_dir, now=True)
        wait_for_state(info.project_dir, ("stopped", "completed", "failed", "interrupted"), timeout=60)


def test_the_analyse_page_opens_an_experiment_on_its_result_view(
    experiments_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HPX_ANALYSIS_ROOTS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "pages" / "analyse.py"), default_timeout=120)
    at.query_params["project"] = "lr"
    at.run()
    assert not at.exception
    summary = experiment_of(load_project(experiments_env / "lr"))
    assert summary is not None and summary.conclusion in [info.value for info in at.info]
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]
    assert titles[:2] == [
        "Validation accuracy per epoch, one colour per learning rate",
        "Final validation accuracy per value",
    ]
