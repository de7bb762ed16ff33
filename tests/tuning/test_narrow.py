"""Narrowing a search to the space its chosen trials span: a real search of ours, a foreign project."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from searches import tiny_config
from tests.results.factories import make_project
from tuning.design.narrow import NarrowError, best_trials, narrow_config
from tuning.engine import jobs, launch
from tuning.results import load_project
from tuning.space.config import SearchConfig
from tuning.space.specs import Choice, Fixed, FloatRange


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished search of this app: four trials over filters, dropout, optimizer and learning rate."""
    project = jobs.create_search(tiny_config(max_trials=4), tmp_path_factory.mktemp("runs"), "ours")
    launch.run_search(project, resume=False)
    return project


def test_best_trials_are_the_top_scores_best_first(ours: Path) -> None:
    result = load_project(ours)
    scores = result.completed["score"]
    top = best_trials(result, 2)
    assert len(top) == 2 and top[0] == result.best_trial_id
    assert scores[top[0]] >= scores[top[1]] >= scores.drop(list(top)).max()
    assert best_trials(result, 99) == tuple(scores.sort_values(ascending=False, kind="stable").index)
    with pytest.raises(NarrowError, match="at least 1 trial"):
        best_trials(result, 0)


def test_our_search_narrows_from_its_own_configuration(ours: Path) -> None:
    result = load_project(ours)
    chosen = list(result.trials.index[:3])
    trials = result.trials.loc[chosen]
    narrowed = narrow_config(result, chosen)
    base = SearchConfig.from_dict(result.config)
    space = narrowed.config.space
    assert dataclasses.replace(narrowed.config, space=base.space) == base  # data, tuner, budget: unchanged
    lr = trials["hp:learning_rate"].astype(float)
    if lr.nunique() > 1:
        assert space.learning_rate.sampling == "log" and space.learning_rate.step is None
        low, high = space.learning_rate.min, space.learning_rate.max
        assert low <= lr.min() < low * 1.01 and high / 1.01 < lr.max() <= high  # rounded outward, 3 digits
        assert float(f"{low:.3g}") == low and float(f"{high:.3g}") == high
    for name in ("filters", "optimizer"):
        seen = list(dict.fromkeys(trials[f"hp:{name}"].tolist()))
        expected = (
            Fixed(seen[0]) if len(seen) == 1 else Choice(tuple(v for v in base.space.specs()[name].values if v in seen))
        )
        assert space.specs()[name] == expected
    dropout = trials["hp:dropout"].astype(float)
    expected = Fixed(dropout.iloc[0]) if dropout.nunique() == 1 else FloatRange(dropout.min(), dropout.max(), 0.25)
    assert space.dropout == expected
    untouched = {"conv_blocks", "batch_size", "epochs", "momentum", "dense_units"}
    assert all(space.specs()[n] == base.space.specs()[n] for n in untouched)
    assert set(narrowed.changed) <= {"filters", "optimizer", "dropout", "learning_rate"}
    assert narrowed.ignored == () and narrowed.trial_ids == tuple(chosen) and narrowed.project == "ours"
    assert narrowed.config.errors() == []


def test_a_narrowed_search_runs_and_stays_inside_the_narrowed_space(ours: Path, tmp_path: Path) -> None:
    result = load_project(ours)
    narrowed = narrow_config(result, best_trials(result, 2))
    config = dataclasses.replace(narrowed.config, max_trials=2)
    again = jobs.create_search(config, tmp_path, "again")
    launch.run_search(again, resume=False)
    trials = load_project(again).trials
    assert list(trials["status"]) == ["COMPLETED", "COMPLETED"]
    lr = narrowed.config.space.learning_rate
    values = trials["hp:learning_rate"].astype(float)
    if isinstance(lr, Fixed):
        assert values.tolist() == pytest.approx([lr.value] * 2)
    else:
        assert ((values >= lr.min * (1 - 1e-9)) & (values <= lr.max * (1 + 1e-9))).all()
    for name in ("filters", "optimizer"):
        spec = narrowed.config.space.specs()[name]
        allowed = [spec.value] if isinstance(spec, Fixed) else list(spec.values)
        assert set(trials[f"hp:{name}"]) <= set(allowed)


def test_a_single_trial_fixes_every_hyperparameter_it_used(ours: Path) -> None:
    result = load_project(ours)
    best = result.best_trial_id
    row = result.trials.loc[best]
    space = narrow_config(result, [best]).config.space
    assert space.filters == Fixed(int(row["hp:filters"]))
    assert space.optimizer == Fixed(str(row["hp:optimizer"]))
    assert space.dropout == Fixed(float(row["hp:dropout"]))
    assert space.learning_rate == Fixed(float(row["hp:learning_rate"]))
    assert space.tuned() == []


def foreign(tmp_path: Path) -> Path:
    """A project made elsewhere: known names (learning_rate, optimizer, momentum, batch_norm, filters) and
    unknown ones (units, batch/size); exact values for the first three trials."""
    values = {
        0: {"learning_rate": 0.002, "optimizer": "sgd", "momentum": 0.5, "batch_norm": True, "filters": 32},
        1: {"learning_rate": 0.0123456, "optimizer": "sgd", "momentum": 0.7, "batch_norm": False, "filters": 64},
        2: {"learning_rate": 0.05, "optimizer": "adam", "momentum": None, "batch_norm": True, "filters": 32},
    }
    return make_project(tmp_path, name="elsewhere", n_trials=4, values=values)


def test_a_foreign_project_narrows_from_the_defaults_and_names_what_it_ignores(tmp_path: Path) -> None:
    result = load_project(foreign(tmp_path))
    narrowed = narrow_config(result, ["00", "01"])
    expected_space = SearchConfig().space.with_values(
        learning_rate=FloatRange(0.002, 0.0124, None, "log"),
        optimizer=Fixed("sgd"),
        momentum=FloatRange(0.5, 0.7, 0.1, "linear"),
        batch_norm=Choice((False, True)),  # the declared order of a Boolean
        filters=Choice((32, 64)),
    )
    assert narrowed.config == dataclasses.replace(SearchConfig(), space=expected_space)
    assert narrowed.ignored == ("units", "batch/size")
    assert narrowed.changed["learning_rate"] == ("0.0001 to 0.01, log", "0.002 to 0.0124, log")
    assert narrowed.notes == (
        "elsewhere was not made by this app: the other settings are this app's defaults.",
        "Not hyperparameters of this app's model, so left out: units, batch/size.",
    )


def test_a_conditional_hyperparameter_no_chosen_trial_used_keeps_its_base_spec(tmp_path: Path) -> None:
    result = load_project(foreign(tmp_path))
    base = SearchConfig(space=SearchConfig().space.with_values(momentum=FloatRange(0.0, 0.9)))
    narrowed = narrow_config(result, ["02"], base=base)
    assert narrowed.config.space.momentum == FloatRange(0.0, 0.9)
    assert narrowed.config.space.optimizer == Fixed("adam")
    assert "momentum: not used by the chosen trials (it applies only when optimizer is sgd or rmsprop)" in (
        " ".join(narrowed.notes)
    )


def test_values_the_engine_refuses_keep_the_base_spec_with_a_note(tmp_path: Path) -> None:
    values = {0: {"learning_rate": 0.002, "filters": 256}, 1: {"learning_rate": 0.003, "filters": 512}}
    result = load_project(make_project(tmp_path, n_trials=2, values=values))
    narrowed = narrow_config(result, ["00", "01"])
    assert narrowed.config.space.filters == SearchConfig().space.filters
    assert "filters" not in narrowed.changed
    note = next(n for n in narrowed.notes if n.startswith("filters"))
    assert note == (
        "filters: kept as it was: the chosen trials give 256, 512, but choice value (256) is above the highest "
        "allowed value, 128."
    )
    assert narrowed.config.space.learning_rate == FloatRange(0.002, 0.003, None, "log")


def test_choosing_no_trial_or_unknown_trials_is_refused(ours: Path) -> None:
    result = load_project(ours)
    with pytest.raises(NarrowError, match="No trial chosen"):
        narrow_config(result, [])
    with pytest.raises(NarrowError, match=r"No trial 'nope' in ours; expected ids such as '0', '1', '2'"):
        narrow_config(result, ["0", "nope"])


def test_rounding_never_leaves_the_engine_limits(tmp_path: Path) -> None:
    values = {0: {"learning_rate": 0.9999}, 1: {"learning_rate": 0.5}}
    result = load_project(make_project(tmp_path, n_trials=2, values=values))
    spec = narrow_config(result, ["00", "01"]).config.space.learning_rate
    assert spec == FloatRange(0.5, 1.0, None, "log")  # 0.9999 rounds up to 1.0, the engine's highest
    assert math.isclose(spec.max, 1.0)
