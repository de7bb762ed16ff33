"""The analyse page: projects of ours, of a plain keras-tuner search and broken ones; figures, downloads,
folder and zip choices confined to the analysis roots, comparison, and "Narrow and search again"."""

from __future__ import annotations

import ast
import dataclasses
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.results.factories import make_project, truncate
from tuning.design.narrow import best_trials, narrow_config
from tuning.errors import ExportError
from tuning.export import to_python
from tuning.results import load_project

ROOT = Path(__file__).resolve().parents[2]
ANALYSE = str(ROOT / "pages" / "analyse.py")
DESIGN = str(ROOT / "pages" / "design.py")
TABS = ["Progress", "Learning curves", "Slices", "Importance", "Interaction", "Findings"]
END_TABS = ["Compare", "Downloads", "Narrow and search again"]


def keras_tuner_search(directory: Path, name: str) -> Path:
    """A real, tiny keras-tuner RandomSearch made without this app (3 trials of a small dense network)."""
    import keras
    import keras_tuner

    def build(hp: keras_tuner.HyperParameters) -> keras.Model:
        model = keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu"),
                keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.1)),
                keras.layers.Dense(2, activation="softmax"),
            ]
        )
        rate = hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")
        model.compile(keras.optimizers.Adam(rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    rng = np.random.default_rng(0)
    x = rng.random((96, 8), dtype="float32")
    y = (x[:, 0] > 0.5).astype("int32")
    search = keras_tuner.RandomSearch(
        build, objective="val_accuracy", max_trials=3, directory=str(directory), project_name=name, seed=1
    )
    search.search(x, y, epochs=2, validation_split=0.25, verbose=0)
    return directory / name


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An analysis root with projects not made by this app: a real keras-tuner search, a broken one (a
    truncated trial.json), one that minimises val_loss, and a Hyperband one."""
    folder = tmp_path_factory.mktemp("elsewhere")
    keras_tuner_search(folder, "plain")
    broken = make_project(folder, name="broken", n_trials=4)
    truncate(broken / "trial_01" / "trial.json")
    make_project(folder, name="lossy", objective="val_loss", statuses={2: "FAILED"})
    make_project(folder, name="bands", n_trials=6, tuner="hyperband")
    return folder


@pytest.fixture
def roots(runs_env: Path, elsewhere: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("HPX_ANALYSIS_ROOTS", str(elsewhere))
    monkeypatch.setenv("HPX_UPLOADS_DIR", str(tmp_path / "uploads"))
    return {"runs": runs_env, "elsewhere": elsewhere, "uploads": tmp_path / "uploads"}


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The data of every ``st.download_button`` the page draws, by key (the button is still drawn)."""
    found: dict[str, Any] = {}
    original = st.download_button

    def record(label: str, data: Any, *args: Any, **kwargs: Any) -> bool:
        found[kwargs["key"]] = data
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", record)
    yield found


def run_analyse(project: str | None = None, *, view: str | None = None, **state: Any) -> AppTest:
    at = AppTest.from_file(ANALYSE, default_timeout=120)
    if project:
        at.query_params["project"] = project
    for key, value in state.items():
        at.session_state[key] = value
    if view:
        at.session_state["analyse_view"] = view
    return at.run()


def open_view(at: AppTest, view: str) -> AppTest:
    """Choose the view ``view`` (a tab), as a click on it does: the page reruns and draws only that view."""
    at.session_state["analyse_view"] = view
    return at.run()


def texts(elements: Any) -> list[str]:
    return [e.value for e in elements]


def chart_traces(at: AppTest) -> list[list[str | None]]:
    """The trace names of every Plotly chart on the page, in order."""
    return [[t.get("name") for t in json.loads(c.proto.spec)["data"]] for c in at.get("plotly_chart")]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_our_search_shows_overview_table_every_figure_and_downloads(
    roots: dict[str, Path], downloads: dict[str, Any]
) -> None:
    at = run_analyse("done")
    assert not at.exception and not at.error
    assert at.selectbox(key="analyse_project").value == str(roots["runs"] / "done")
    assert f"{roots['runs'].name}/done · ✅ completed" in at.selectbox(key="analyse_project").options
    result = load_project(roots["runs"] / "done")
    best = f"{100 * result.completed['score'].max():.1f}%"
    assert metrics(at) == {"Tuner": "random", "Objective": "val_accuracy", "Trials": "2", "Best score": best}
    table = at.dataframe(key="analyse_table").value
    assert list(table.index) == list(result.trials.index)
    assert {"#", "state", "score", "filters", "dropout", "optimizer", "learning_rate"} <= set(table.columns)
    assert [t.label for t in at.tabs] == TABS + END_TABS
    # only the open view is drawn: history and parallel coordinates
    assert len(at.get("plotly_chart")) == 2
    assert sum(c.value.startswith("How to read it:") for c in at.caption) == 2
    # then learning curves, one slice per varying hyperparameter (4), interaction
    for view, charts in {"Learning curves": 1, "Slices": 4, "Interaction": 1}.items():
        assert len(open_view(at, view).get("plotly_chart")) == charts, view
        assert not at.exception and not at.error
    assert open_view(at, "Importance").get("plotly_chart")
    assert "Need at least 10 completed trials (have 2)." in texts(at.info)  # importance's notice
    open_view(at, "Downloads")
    assert [b.label for b in at.download_button] == [
        "Trials (CSV)",
        "Everything (JSON)",
        "Report (HTML, opens offline)",
        "Best configuration as a Python script",
    ]
    csv = pd.read_csv(io.StringIO(downloads["analyse_csv"]), dtype={"trial_id": str})
    assert list(csv["trial_id"]) == list(result.trials.index) and "learning_rate" in csv.columns
    assert json.loads(downloads["analyse_json"])["name"] == "done"
    assert (
        downloads["analyse_html"].lstrip().lower().startswith("<!doctype html") and "done" in downloads["analyse_html"]
    )
    script = downloads["analyse_py"]
    ast.parse(script)
    assert f"(id {result.best_trial_id})" in script and "best_model.keras" in script


def test_a_plain_keras_tuner_search_renders_without_a_script(roots: dict[str, Path], downloads: dict[str, Any]) -> None:
    at = run_analyse(f"{roots['elsewhere'].name}/plain")
    assert not at.exception and not at.error
    result = load_project(roots["elsewhere"] / "plain")
    assert result.tuner_inferred  # keras-tuner does not record which tuner ran
    assert metrics(at)["Tuner"] == result.tuner and "Inferred from the files" in texts(at.caption)
    assert metrics(at)["Trials"] == "3"
    assert len(at.get("plotly_chart")) == 2
    assert len(open_view(at, "Slices").get("plotly_chart")) == 3  # three varying hyperparameters
    open_view(at, "Downloads")
    assert [b.label for b in at.download_button] == [
        "Trials (CSV)",
        "Everything (JSON)",
        "Report (HTML, opens offline)",
    ]
    with pytest.raises(ExportError) as error:
        to_python(result)
    assert f"No Python script for this project: {error.value}" in texts(at.info)
    assert json.loads(downloads["analyse_json"])["summary"]["made_by_explorer"] is False


def test_a_broken_project_shows_its_notices(roots: dict[str, Path]) -> None:
    at = run_analyse(f"{roots['elsewhere'].name}/broken")
    assert not at.exception and not at.error
    result = load_project(roots["elsewhere"] / "broken")
    assert result.notices and any("trial_01" in n for n in result.notices)
    warning = at.warning[0].value
    assert warning.startswith("What reading this project noticed:")
    assert all(n in warning for n in result.notices)
    assert len(at.dataframe(key="analyse_table").value) == len(result.trials)


def test_hyperband_projects_get_their_brackets_tab(roots: dict[str, Path]) -> None:
    at = run_analyse(f"{roots['elsewhere'].name}/bands")
    assert not at.exception and not at.error
    assert [t.label for t in at.tabs] == [*TABS, "Hyperband", *END_TABS]
    assert any(names[:1] == ["promoted"] for names in chart_traces(open_view(at, "Hyperband")))


def test_selected_rows_are_highlighted_in_every_chart_that_can(roots: dict[str, Path]) -> None:
    at = run_analyse("done", analyse_table={"selection": {"rows": [1], "columns": [], "cells": []}})
    assert not at.exception
    result = load_project(roots["runs"] / "done")
    picked = str(result.trials.index[1])
    assert f"Highlighted in every chart below: trials {picked}." in texts(at.caption)
    traces = chart_traces(at)
    assert "selected" in traces[0]  # history
    parallel = json.loads(at.get("plotly_chart")[1].proto.spec)["data"][0]["dimensions"][0]
    assert parallel["label"] == "selected" and parallel["constraintrange"] == [0.5, 1.0]
    label = f"trial {result.trials.at[picked, 'number']}"
    assert f"{label}: train" in chart_traces(open_view(at, "Learning curves"))[0]  # the selected trial on top
    assert all("selected" in names for names in chart_traces(open_view(at, "Slices")))  # every slice
    assert f"Highlighted in every chart below: trials {picked}." in texts(at.caption)  # still selected


def test_state_filter_hides_trials(roots: dict[str, Path]) -> None:
    at = run_analyse(f"{roots['elsewhere'].name}/broken")
    at.multiselect(key="analyse_states").set_value([]).run()
    assert not at.exception
    assert at.dataframe(key="analyse_table").value.empty


def test_switching_project_resets_its_filters_and_selection(roots: dict[str, Path]) -> None:
    at = run_analyse("done", analyse_table={"selection": {"rows": [1], "columns": [], "cells": []}})
    at.multiselect(key="analyse_states").set_value([]).run()
    assert at.dataframe(key="analyse_table").value.empty
    at.selectbox(key="analyse_project").set_value(str(roots["elsewhere"] / "lossy")).run()
    assert not at.exception and not at.error
    assert at.multiselect(key="analyse_states").value == ["COMPLETED", "FAILED"]
    assert len(at.dataframe(key="analyse_table").value) == 6
    assert not any(c.value.startswith("Highlighted in every chart") for c in at.caption)
    assert at.query_params["project"] == f"{roots['elsewhere'].name}/lossy"


def test_a_folder_outside_the_roots_is_refused(roots: dict[str, Path], tmp_path: Path) -> None:
    outside = make_project(tmp_path / "outside", name="secret")
    at = run_analyse("done")
    at.text_input(key="analyse_path").input(str(outside)).run()
    assert not at.exception
    assert "is outside the folders that may be analysed" in at.error[0].value
    assert at.selectbox(key="analyse_project").value == str(roots["runs"] / "done")


def test_a_typed_folder_inside_the_roots_is_opened(roots: dict[str, Path]) -> None:
    at = run_analyse("done")
    at.text_input(key="analyse_path").input(str(roots["elsewhere"] / "lossy")).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="analyse_project").value == str(roots["elsewhere"] / "lossy")
    assert at.success[0].value == f"Opened {roots['elsewhere'] / 'lossy'}."


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder)}")
    return buffer.getvalue()


def test_an_uploaded_zip_is_extracted_once_and_analysed(roots: dict[str, Path]) -> None:
    at = run_analyse("done")
    at.file_uploader(key="analyse_upload").set_value(
        ("plain.zip", zipped(roots["elsewhere"] / "plain"), "application/zip")
    )
    at.run()
    assert not at.exception and not at.error
    extracted = [p for p in roots["uploads"].rglob("oracle.json")]
    assert len(extracted) == 1
    assert at.selectbox(key="analyse_project").value == str(extracted[0].parent)
    assert at.success[0].value == "Opened plain.zip."
    assert metrics(at)["Trials"] == "3"
    at.run()  # a rerun does not extract again
    assert len(list(roots["uploads"].rglob("oracle.json"))) == 1


def test_a_zip_of_something_else_is_refused_with_the_reason(roots: dict[str, Path]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a tuner directory")
    at = run_analyse("done")
    at.file_uploader(key="analyse_upload").set_value(("notes.zip", buffer.getvalue(), "application/zip")).run()
    assert not at.exception
    assert at.error and at.error[0].value.startswith("The zip holds no Keras Tuner project")
    assert not list(roots["uploads"].rglob("oracle.json"))


def test_compare_draws_searches_on_the_same_objective_and_warns_otherwise(roots: dict[str, Path]) -> None:
    at = run_analyse("done", view="Compare")
    at.multiselect(key="analyse_compare").set_value([str(roots["elsewhere"] / "plain")]).run()
    assert not at.exception and not at.warning
    assert chart_traces(at)[-1] == ["done", "plain", "done", "plain"]  # best so far, then distributions
    at.multiselect(key="analyse_compare").set_value([str(roots["elsewhere"] / "lossy")]).run()
    assert at.warning[0].value.startswith("Searches optimise different objectives")


def test_narrow_opens_the_design_page_with_the_best_trials_space(
    roots: dict[str, Path], page_switches: list[str]
) -> None:
    at = run_analyse("done", view="Narrow and search again")
    assert at.number_input(key="analyse_top_k").value == 2  # min(5, completed trials)
    at.number_input(key="analyse_top_k").set_value(1).run()
    at.button(key="analyse_narrow").click().run()
    assert not at.exception
    assert page_switches == ["pages/design.py"]
    result = load_project(roots["runs"] / "done")
    expected = narrow_config(result, best_trials(result, 1))
    assert at.session_state["design_prefill"] == expected.config
    assert at.session_state["design_prefill"].space.tuned() == []  # one trial: everything fixed
    assert at.session_state["design_prefill_note"].startswith("The search space was narrowed from project done")


def test_narrow_uses_the_selected_trials(roots: dict[str, Path], page_switches: list[str]) -> None:
    selection = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at = run_analyse("done", view="Narrow and search again", analyse_table=selection)
    assert "analyse_top_k" not in [n.key for n in at.number_input]
    at.button(key="analyse_narrow").click().run()
    result = load_project(roots["runs"] / "done")
    assert at.session_state["design_prefill"] == narrow_config(result, list(result.trials.index[:2])).config
    assert page_switches == ["pages/design.py"]


def test_the_design_page_shows_the_narrowed_space(roots: dict[str, Path]) -> None:
    result = load_project(roots["runs"] / "done")
    narrowed = narrow_config(result, list(result.trials.index))
    at = AppTest.from_file(DESIGN, default_timeout=60)
    at.session_state["design_prefill"] = narrowed.config
    at.session_state["design_prefill_note"] = "The search space was narrowed from project done (trials 0, 1)."
    at.run()
    assert not at.exception
    assert at.info[0].value == "The search space was narrowed from project done (trials 0, 1)."
    # the design page always uses the search's seed for the data too
    shown = dataclasses.replace(narrowed.config, data=dataclasses.replace(narrowed.config.data, seed=1))
    assert at.session_state["design_config"] == shown
    assert "design_prefill" not in at.session_state
    lr = narrowed.config.space.learning_rate
    if lr.to_dict()["type"] == "float":
        assert at.select_slider(key="design_learning_rate_range").value == (lr.min, lr.max)
        assert at.checkbox(key="design_learning_rate_log").value is True
    at.run()  # the prefill is used once: later runs keep what the user changes
    assert not any("narrowed from project done" in i.value for i in at.info)
    assert at.session_state["design_config"] == shown


def test_no_project_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPX_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("HPX_UPLOADS_DIR", str(tmp_path / "uploads"))
    monkeypatch.delenv("HPX_ANALYSIS_ROOTS", raising=False)
    at = run_analyse()
    assert not at.exception
    assert at.info[0].value.startswith("No Keras Tuner project found in the analysis folders")
    assert not (tmp_path / "runs").exists() and not (tmp_path / "uploads").exists()


# ----- at scale: only the open view, bounded charts, a paged table ------------------------------------------
@pytest.fixture(scope="module")
def crowded_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An analysis root holding ``crowded`` and ``sampled``: 150 trials each, more than a page of the table."""
    folder = tmp_path_factory.mktemp("crowded")
    make_project(folder, name="crowded", n_trials=150, statuses={7: "FAILED"}, id_width=3)
    make_project(folder, name="sampled", n_trials=150, statuses={7: "FAILED"}, id_width=3, seed=1)
    return folder


@pytest.fixture
def crowded(runs_env: Path, crowded_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HPX_ANALYSIS_ROOTS", str(crowded_root))
    return crowded_root / "crowded"


def layout_of(chart: Any) -> dict[str, Any]:
    return json.loads(chart.proto.spec)["layout"]


def test_only_the_open_view_is_computed_and_sent(crowded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pages import _analyse_tabs

    calls: list[str] = []
    for name in ("bounded_curves", "bounded_slices"):
        original = getattr(_analyse_tabs, name)
        monkeypatch.setattr(_analyse_tabs, name, lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(*a, **k))
    at = run_analyse("crowded")
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 2 and calls == []
    assert [len(tab.children) > 0 for tab in at.tabs] == [True] + [False] * (len(at.tabs) - 1)
    varying = [hp for hp in load_project(crowded).space if hp.varies]
    assert len(open_view(at, "Slices").get("plotly_chart")) == len(varying) and calls == ["bounded_slices"]
    at.run()  # a rerun (or another browser tab) reuses the figures kept for this project state
    assert calls == ["bounded_slices"]
    assert len(open_view(at, "Learning curves").get("plotly_chart")) == 1
    assert calls == ["bounded_slices", "bounded_curves"]


def test_a_big_project_draws_a_sample_and_says_so(crowded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tuning.plots import bounded

    monkeypatch.setattr(bounded, "POINTS_CAP", 40)
    monkeypatch.setattr(bounded, "LINES_CAP", 30)
    at = run_analyse("sampled")  # a project of its own: figures are kept per project state
    history, parallel = at.get("plotly_chart")
    assert layout_of(history)["title"]["subtitle"]["text"] == (
        "40 of 150 trials drawn: the best 4, a sample of the rest, spread evenly over the search"
    )
    assert layout_of(parallel)["title"]["subtitle"]["text"].startswith("30 of 149 trials drawn: the best 3")


def test_the_trial_table_pages_and_sorts(crowded: Path) -> None:
    result = load_project(crowded)
    at = run_analyse("crowded")
    table = at.dataframe(key="analyse_table").value
    assert list(table.index) == list(result.trials.index[:100])
    assert any(t.startswith("Rows 1-100 of 150.") for t in texts(at.caption))
    at.pagination(key="analyse_page").set_value(2).run()
    assert list(at.dataframe(key="analyse_table").value.index) == list(result.trials.index[100:])
    at.selectbox(key="analyse_sort").set_value("best score first").run()
    best = at.dataframe(key="analyse_table").value
    assert best["score"].iloc[0] == result.completed["score"].max() and len(best) == 100  # back to the first page


def test_another_page_clears_the_selection(crowded: Path) -> None:
    at = run_analyse("crowded", analyse_table={"selection": {"rows": [1], "columns": [], "cells": []}})
    assert any(t.startswith("Highlighted in every chart below: trials 001.") for t in texts(at.caption))
    at.pagination(key="analyse_page").set_value(2).run()
    assert not at.exception
    assert not any(t.startswith("Highlighted in every chart") for t in texts(at.caption))
