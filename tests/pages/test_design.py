"""The design page driven through Streamlit's AppTest: widgets -> SearchConfig, presets, errors, plan, start."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tuning.design import forms
from tuning.engine import jobs
from tuning.errors import SearchStateError
from tuning.space.specs import Choice, Fixed, FloatRange, IntRange
from tuning.store.status import read_status

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "design.py")


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path))
    return AppTest.from_file(PAGE, default_timeout=60).run()


def config(at: AppTest):
    assert not at.exception, at.exception
    return at.session_state["design_config"]


def test_defaults_show_a_valid_config_and_its_plan(app: AppTest) -> None:
    assert not app.error
    assert config(app) == forms.config_from_form(forms.form_from_config(config(app)))
    assert {m.label for m in app.metric} == {"Configurations", "Trials", "Planned epochs"}
    assert not app.button(key="design_start").disabled


def test_the_page_says_what_trains_and_offers_pruning(app: AppTest) -> None:
    from tuning.engine.machine import this_machine

    captions = [c.value for c in app.caption]
    assert any(c.startswith(f"Trains on {this_machine().describe()}") for c in captions), captions
    assert not [c for c in app.checkbox if "Mixed precision" in c.label]  # no GPU here: not offered
    app.radio(key="design_pruning").set_value("median").run()
    assert config(app).pruning == "median"
    assert "Pruning (median)" in " ".join(c.value for c in app.caption)  # the planner's range of epochs


def test_widgets_change_the_config(app: AppTest) -> None:
    app.radio(key="design_learning_rate_mode").set_value("fixed").run()
    app.select_slider(key="design_learning_rate_fixed").set_value(0.003).run()
    app.select_slider(key="design_conv_blocks_range").set_value((2, 4)).run()
    app.radio(key="design_activation_mode").set_value("choices").run()
    app.multiselect(key="design_activation_values").set_value(["relu", "gelu"]).run()
    app.radio(key="design_dropout_mode").set_value("range").run()
    app.checkbox(key="design_dropout_log").check().run()
    app.radio(key="design_tuner").set_value("bayesian").run()
    app.number_input(key="design_max_trials").set_value(7).run()
    app.number_input(key="design_train_size").set_value(600).run()
    app.number_input(key="design_early_stopping_patience").set_value(2).run()
    got = config(app)
    assert got.space.learning_rate == Fixed(0.003)
    assert got.space.conv_blocks == IntRange(2, 4)
    assert got.space.activation == Choice(("relu", "gelu"))
    assert (got.tuner, got.max_trials, got.data.train_size, got.early_stopping_patience) == ("bayesian", 7, 600, 2)
    # A log range from 0 is refused by the engine; the page shows why next to the control.
    assert got.space.dropout == FloatRange(0.0, 0.5, 0.1, "log")
    assert any("log range" in e.value for e in app.error)
    assert app.button(key="design_start").disabled


def test_presets_and_reset_set_the_widgets(app: AppTest) -> None:
    app.button(key="design_preset_thorough").click().run()
    assert config(app) == forms.PRESETS["thorough"]
    assert app.multiselect(key="design_optimizer_values").value == ["adam", "sgd", "rmsprop", "adamw"]
    app.button(key="design_preset_quick_demo").click().run()
    assert config(app) == forms.PRESETS["quick demo"]
    assert app.select_slider(key="design_conv_blocks_range").value == (1, 2)
    app.button(key="design_reset").click().run()
    assert config(app) == forms.config_from_form(forms.form_from_config(type(config(app))()))


def test_invalid_train_size_disables_start_with_the_reason(app: AppTest) -> None:
    app.number_input(key="design_train_size").set_value(10).run()
    assert app.button(key="design_start").disabled
    messages = [e.value for e in app.error]
    assert any(m.startswith("Start is disabled") and "data.train_size" in m for m in messages)
    assert any("integer >= 20" in m and not m.startswith("Start") for m in messages)


def test_the_digits_can_be_chosen_and_say_how_many_images_they_have(app: AppTest) -> None:
    app.button(key="design_preset_quick_demo").click().run()  # 2000 images, a test set of 1000
    app.radio(key="design_dataset").set_value("digits").run()
    assert any("handwritten digits" in c.value and "1,497 images" in c.value for c in app.caption)
    assert any("digits has 1,797 images" in e.value and "at most 1497" in e.value for e in app.error)
    assert app.button(key="design_start").disabled
    app.number_input(key="design_train_size").set_value(1400).run()
    assert not app.error and not app.button(key="design_start").disabled
    data = config(app).data
    assert (data.name, data.train_size, data.test_size) == ("digits", 1400, None)  # all 300 test images


def test_hyperband_shows_its_plan(app: AppTest) -> None:
    app.radio(key="design_tuner").set_value("hyperband").run()
    app.number_input(key="design_hyperband_max_epochs").set_value(9).run()
    plan = config(app).plan()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Trials"] == f"{plan.trials:,}" and metrics["Planned epochs"] == f"{plan.epochs_total:,}"
    table = app.dataframe[0].value
    assert list(table["trials"]) == [b.trials for b in plan.brackets]


def test_estimate_appears_once_speed_is_known(app: AppTest) -> None:
    assert not app.info
    app.session_state["design_speed"] = 1000.0
    app.run()
    assert "Estimated duration" in app.info[0].value


def test_start_creates_a_search_and_opens_the_monitor(
    app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    switched: list[str] = []
    monkeypatch.setattr(st, "switch_page", switched.append)
    app.button(key="design_preset_quick_demo").click().run()
    app.number_input(key="design_max_trials").set_value(1).run()
    app.text_input(key="design_project").set_value("tiny").run()
    app.button(key="design_start").click().run()
    project = tmp_path / "tiny"
    try:
        assert (project / "explorer" / "config.json").is_file()
        assert app.session_state["monitor_search"] == "tiny"
        assert switched and switched[0].endswith("monitor.py")
    finally:
        if read_status(project).is_active:
            with contextlib.suppress(SearchStateError):  # it may have ended in between
                jobs.stop_search(project, now=True)
        deadline = time.monotonic() + 60
        while read_status(project).is_active and time.monotonic() < deadline:
            time.sleep(0.5)
    assert not read_status(project).is_active


def test_presenter_mode_hides_technical_settings_and_keeps_their_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.number_input(key="design_seed").set_value(7).run()
    at.session_state["presenter_mode"] = True
    at.run()
    keys = {widget.key for widget in at.number_input}
    assert "design_seed" not in keys and "design_workers" not in keys
    assert "design_max_trials" in keys
    assert config(at).seed == 7
    at.number_input(key="design_max_trials").set_value(3).run()
    assert (config(at).max_trials, config(at).seed) == (3, 7)
