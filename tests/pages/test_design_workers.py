"""The design page's worker-processes input: it reaches the configuration, and a bad value is explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "design.py")


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path))
    return AppTest.from_file(PAGE, default_timeout=60).run()


def test_workers_reach_the_config(app: AppTest) -> None:
    assert app.session_state["design_config"].workers == "auto"
    assert app.number_input(key="design_workers").value == 0  # 0 on the form: auto
    app.number_input(key="design_workers").set_value(1).run()
    assert app.session_state["design_config"].workers == 1
    app.number_input(key="design_workers").set_value(2).run()
    assert not app.exception
    assert app.session_state["design_config"].workers == 2
    assert not app.button(key="design_start").disabled


def test_too_many_workers_is_explained_next_to_the_control(app: AppTest) -> None:
    app.number_input(key="design_workers").set_value(65).run()
    assert not app.exception
    assert any("whole number of worker processes from 1 (one process, no chief) to 64" in e.value for e in app.error)
    assert app.button(key="design_start").disabled


def test_the_estimate_says_it_is_for_one_process_when_there_are_workers(app: AppTest) -> None:
    app.session_state["design_speed"] = 2000.0  # images per second, as a measurement would leave it
    app.number_input(key="design_workers").set_value(1).run()
    assert not any("workers trials run side by side" in c.value for c in app.caption)
    app.number_input(key="design_workers").set_value(3).run()
    assert any("With 3 workers trials run side by side" in c.value for c in app.caption)
    assert any("Estimated duration" in i.value for i in app.info)
