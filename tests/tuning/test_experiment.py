"""Experiments: parsing and checking what varies, the grid search they become, the ready-made ones, and
real runs through the command line (a diverging learning rate, and a change that changes nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from searches import cli, diverging_space, one_line_error
from tests.analysis.make import choice, floating, make_result
from tuning.analysis.experiment import experiment_of
from tuning.design.experiments import build_experiment, experiment_from_form, resolve_base, trial_baseline
from tuning.engine.jobs import create_search, list_searches
from tuning.engine.launch import run_search
from tuning.errors import ConfigError
from tuning.results import load_project
from tuning.space.config import SearchConfig
from tuning.space.experiment import (
    READY,
    READY_BASELINE,
    Experiment,
    baseline_of,
    check_experiment,
    experiment_config,
    parse_vary,
    ready_experiment,
)
from tuning.space.searchspace import SearchSpace
from tuning.space.specs import Choice, Fixed, FloatRange, IntRange

BASE = dict(READY_BASELINE)


def test_parse_vary_reads_each_kind() -> None:
    assert parse_vary("learning_rate=1e-4, 1e-3,0.01") == ("learning_rate", (1e-4, 1e-3, 0.01))
    assert parse_vary("batch_norm=true,false") == ("batch_norm", (True, False))
    assert parse_vary("kernel_size=3,5") == ("kernel_size", (3, 5))
    assert parse_vary("optimizer=sgd,adam") == ("optimizer", ("sgd", "adam"))
    assert parse_vary("conv_blocks=1,2") == ("conv_blocks", (1, 2))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("learning_rate", "vary: expected NAME=V1,V2,... (e.g. learning_rate=1e-4,1e-3,1e-2); found 'learning_rate'"),
        ("lr=1,2", "vary: unknown hyperparameter 'lr'; expected one of conv_blocks"),
        ("conv_blocks=one,two", "vary.conv_blocks: expected an integer, found 'one'"),
        ("batch_norm=maybe,no", "vary.batch_norm: expected true or false, found 'maybe'"),
    ],
)
def test_parse_vary_refuses_what_it_cannot_read(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_vary(text)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    ("vary", "message"),
    [
        ({}, "vary: vary one or two hyperparameters; found 0."),
        (
            {"dropout": (0.0, 0.5), "filters": (8, 16), "conv_blocks": (1, 2)},
            "vary: vary one or two hyperparameters; found 3 (dropout, filters, conv_blocks).",
        ),
        ({"dropout": (0.1,)}, "vary.dropout: give 2 to 8 values to compare; found 1."),
        (
            {"learning_rate": (1e-3, 2.0)},
            "vary.learning_rate: value (2) is above the highest allowed value, 1 (learning rate takes 1e-06 to 1).",
        ),
        ({"optimizer": ("adam", "lion")}, "vary.optimizer: expected one of sgd, adam, rmsprop, adamw; found 'lion'"),
        ({"dropout": (0.1, 0.1)}, "vary.dropout: a value is listed twice; list each value once."),
        (
            {"momentum": (0.0, 0.9)},
            "vary.momentum: momentum is used only when optimizer is sgd or rmsprop, and the baseline's optimizer is "
            "adam; vary optimizer too, or start from a baseline that uses it.",
        ),
        (
            {"filters": (8, 16, 32, 64, 128), "conv_blocks": (1, 2, 3, 4, 1)},
            "vary.conv_blocks: a value is listed twice",
        ),
        (
            {"filters": (8, 16, 24, 32, 64, 128), "dropout": (0.0, 0.1, 0.2, 0.3, 0.4)},
            "vary: 30 combinations is too many for an experiment; keep it to 24.",
        ),
    ],
)
def test_check_experiment_says_what_is_allowed(vary: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        check_experiment(vary, BASE)
    assert str(error.value).startswith(message)


def test_a_conditional_one_is_allowed_when_its_parent_varies_too() -> None:
    check_experiment({"optimizer": ("sgd", "adam"), "momentum": (0.0, 0.9)}, BASE)
    check_experiment({"momentum": (0.0, 0.9)}, {**BASE, "optimizer": "sgd"})


def test_the_experiment_is_a_grid_search_with_everything_else_fixed() -> None:
    experiment = Experiment(vary={"learning_rate": (1e-4, 1e-2)}, baseline=BASE, base="defaults")
    config = experiment_config(experiment, SearchConfig(pruning="median", early_stopping_patience=2, workers=1))
    assert (config.tuner, config.max_trials, config.pruning, config.early_stopping_patience) == (
        "grid", 2, "none", None
    )  # fmt: skip
    assert config.workers == 1
    assert config.space.learning_rate == Choice((1e-4, 1e-2))
    assert config.space.tuned() == ["learning_rate"]
    assert config.space.dropout == Fixed(0.0) and config.space.optimizer == Fixed("adam")
    assert config.space.momentum == SearchSpace().momentum  # inactive in the baseline: the default spec
    assert config.experiment == experiment.to_dict()
    assert Experiment.from_dict(config.experiment) == experiment
    assert SearchConfig.from_dict(json.loads(config.to_json())) == config


def test_a_two_hyperparameter_grid_respects_conditions() -> None:
    experiment = Experiment(vary={"optimizer": ("sgd", "adam", "rmsprop"), "momentum": (0.0, 0.9)}, baseline=BASE)
    config = experiment_config(experiment, SearchConfig())
    assert config.max_trials == 5  # adam has no momentum
    sorted_json = json.loads(json.dumps(config.experiment, sort_keys=True))  # as the search folder keeps it
    assert list(sorted_json["vary"]) == ["momentum", "optimizer"]
    assert Experiment.from_dict(sorted_json).varied == ("optimizer", "momentum")


def test_baseline_of_a_space_takes_middles_and_first_choices() -> None:
    space = SearchSpace().with_values(
        conv_blocks=IntRange(1, 4),
        learning_rate=FloatRange(1e-4, 1e-2, sampling="log"),
        dropout=FloatRange(0.0, 0.5),
        optimizer=Choice(("sgd", "adam")),
    )
    baseline = baseline_of(space)
    assert (baseline["conv_blocks"], baseline["learning_rate"], baseline["dropout"], baseline["optimizer"]) == (
        3, 0.001, 0.25, "sgd"
    )  # fmt: skip


def test_every_ready_made_experiment_is_valid_and_small() -> None:
    assert set(READY) >= {"learning_rate", "batch_size", "dropout", "network_size", "optimizer", "activation", "epochs"}
    varied = {name for ready in READY.values() for name in ready.vary}
    guides = {"dense_layers", "dense_units", "dropout", "activation", "optimizer", "loss", "learning_rate",
              "momentum", "epochs", "batch_size"}  # fmt: skip
    assert guides <= varied
    for ready in READY.values():
        config = ready.config()
        config.validate()
        assert config.experiment["ready"] == ready.key
        assert config.data.name == "synthetic"
        # ~a minute on two cores: at most ~40,000 image-epochs of a small CNN
        assert config.plan().epochs_total * config.data.train_size * 0.8 <= 40_000 * 1.25, ready.key
        assert ready.prompt.startswith("Show me")
    with pytest.raises(ConfigError, match="unknown ready-made experiment 'lr'"):
        ready_experiment("lr")


def test_the_best_trial_of_a_search_is_a_baseline() -> None:
    space = (floating("learning_rate", 1e-6, 1.0, log=True), choice("optimizer", "adam", "sgd"))
    result = make_result(
        [{"learning_rate": 0.01, "optimizer": "sgd", "score": 0.5}, {"learning_rate": 0.003, "optimizer": "adam",
                                                                     "score": 0.8}],
        space,
    )  # fmt: skip
    baseline = trial_baseline(result)
    assert (baseline.values["learning_rate"], baseline.values["optimizer"]) == (0.003, "adam")
    assert baseline.values["filters"] == READY_BASELINE["filters"]  # what the trial lacks
    assert baseline.base == "trial 2 of project"
    config = build_experiment({"dropout": (0.0, 0.5)}, baseline)
    assert config.space.learning_rate == Fixed(0.003)
    foreign = make_result([{"units": 32, "score": 0.5}], (choice("units", 16, 32),))
    with pytest.raises(ConfigError, match="none of this app's hyperparameters"):
        trial_baseline(foreign)


def test_form_and_bases() -> None:
    config = experiment_from_form({"vary": {"dropout": "0, 0.5"}, "base": "preset:quick demo", "epochs": 2})
    assert config.space.dropout == Choice((0.0, 0.5)) and config.space.epochs == Fixed(2)
    assert config.experiment["base"] == "preset:quick demo"
    with pytest.raises(ConfigError, match="unknown preset 'fast'"):
        resolve_base("preset:fast")
    with pytest.raises(ConfigError, match="neither defaults, preset:NAME"):
        resolve_base("/nowhere/at/all", load=load_project)


def test_list_names_every_ready_made_experiment() -> None:
    result = cli("experiment", "--list")
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == list(READY)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vary", "lr=1,2"], "error: vary: unknown hyperparameter 'lr'; expected one of conv_blocks"),
        (["--vary", "learning_rate=0.1,5"], "error: vary.learning_rate: value (5) is above the highest allowed value"),
        (["--vary", "momentum=0,0.9"], "error: vary.momentum: momentum is used only when optimizer is sgd or rmsprop"),
        (
            ["--vary", "dropout=0,0.5", "--vary", "filters=8,16", "--vary", "conv_blocks=1,2"],
            "error: vary: vary one or two hyperparameters; found 3 (dropout, filters, conv_blocks).",
        ),
        (["--ready", "colour"], "error: ready: unknown ready-made experiment 'colour'"),
        ([], "error: vary: give --vary NAME=V1,V2,... (one or two), or --ready NAME (see --list)."),
    ],
)
def test_bad_experiments_get_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    assert one_line_error(cli("experiment", "--directory", str(tmp_path), *args)).startswith(message)
    assert list(tmp_path.iterdir()) == []


def test_a_change_that_changes_nothing_says_so(tmp_path: Path) -> None:
    """Weight decay 0 against 1e-7: the CLI runs both, prints the conclusion, summary carries it."""
    args = ["--vary", "weight_decay=0,1e-7", "--train-size", "200", "--epochs", "1", "--workers", "1"]
    result = cli("experiment", "--directory", str(tmp_path), "--project", "wd", *args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Conclusion: Nothing measurable changed: validation accuracy was between" in result.stdout
    info = json.loads(cli("summary", str(tmp_path / "wd"), "--json").stdout)["experiment"]
    assert info["varied"] == ["weight_decay"] and info["values"] == {"weight_decay": [0.0, 1e-7]}
    assert [run["values"] for run in info["runs"]] == [[0.0], [1e-7]]
    assert info["conclusion"].startswith("Nothing measurable changed")
    assert info["conclusion"] in result.stdout.replace("\n", " ")
    text = cli("summary", str(tmp_path / "wd")).stdout
    assert "experiment: varied weight_decay = 0.0, 1e-07" in text and "conclusion: Nothing measurable" in text
    assert [s.experiment for s in list_searches(tmp_path)] == [("weight_decay",)]


def test_a_diverging_learning_rate_is_named(tmp_path: Path) -> None:
    """SGD with momentum 0.99 at a learning rate of 1 diverges; 0.001 does not."""
    baseline = {**BASE, **{name: spec.value for name, spec in diverging_space().specs().items()
                           if isinstance(spec, Fixed)}}  # fmt: skip
    experiment = Experiment(vary={"learning_rate": (1e-3, 1.0)}, baseline=baseline, base="diverging")
    template = SearchConfig(workers=1).with_overrides(train_size=200, test_size=0)
    project = create_search(experiment_config(experiment, template), tmp_path, "lr")
    status = run_search(project, resume=False)
    assert status.state == "completed", status
    summary = experiment_of(load_project(project))
    assert summary is not None
    assert [run.status for run in summary.runs] == ["COMPLETED", "FAILED"]
    assert "Learning rate 1 diverged: the loss became nan at batch" in summary.conclusion
    assert "Only learning rate 0.001 finished" in summary.conclusion
