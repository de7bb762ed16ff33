"""Optuna's PED-ANOVA and fANOVA on our trials: the driving hyperparameter ranks first, declared distributions,
conditional hyperparameters, too few trials, a sample above the cap, determinism."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from tests.analysis.make import LOSS, big, boolean, choice, floating, integer, make_result, when
from tuning.analysis import anova
from tuning.analysis.anova import distribution, hp_values, optuna_importance, ranked_sample, study_of
from tuning.analysis.common import scale_of
from tuning.analysis.importance import Importance, importance
from tuning.results.model import HyperparameterInfo

LR = floating("lr", 1e-4, 1e-1, log=True)
UNITS = HyperparameterInfo("units", "int", min=8, max=64, step=8)
OPTIMIZER = choice("optimizer", "adam", "sgd")
MOMENTUM = floating("momentum", 0.0, 0.9, conditions=when("optimizer", "sgd"))
NORM = boolean("norm")


def driven_by_lr(n: int, *, seed: int = 0, noise: float = 0.01) -> list[dict[str, object]]:
    """Scores that rise with log10(lr) and nothing else."""
    rng = np.random.default_rng(seed)
    lr = 10 ** rng.uniform(-4, -1, n)
    units, optimizer = rng.integers(1, 9, n) * 8, rng.choice(["adam", "sgd"], n)
    momentum, norm = rng.uniform(0, 0.9, n).round(1), rng.random(n) < 0.5
    score = 0.9 + 0.1 * np.log10(lr) + rng.normal(0, noise, n)
    return [
        {"lr": lr[i], "units": int(units[i]), "optimizer": optimizer[i], "norm": bool(norm[i]), "score": score[i]}
        | ({"momentum": momentum[i]} if optimizer[i] == "sgd" else {})
        for i in range(n)
    ]


SPACE = [LR, UNITS, OPTIMIZER, MOMENTUM, NORM]


@pytest.mark.parametrize("estimator", ["ped-anova", "fanova"])
def test_the_hyperparameter_that_drives_the_score_ranks_first(estimator: str) -> None:
    result = make_result(driven_by_lr(200), SPACE)
    found = optuna_importance(result, estimator=estimator)
    assert found.names[0] == "lr" and found.means[0] > 0.8
    assert found.means[0] > 4 * found.means[1]
    assert sum(found.means) == pytest.approx(1.0)
    assert (found.method, found.n_trials, found.notice, found.stds) == (estimator, 200, "", ())
    assert found.labels[0] == "Lr"
    assert importance(result).names[0] == "lr"  # the permutation importance agrees


def test_ped_anova_weighs_conditional_hyperparameters_and_fanova_names_them_as_left_out() -> None:
    rows = driven_by_lr(300, noise=0.0)
    for row in rows:  # now momentum drives the score of the sgd trials, lr nothing
        row["score"] = row["momentum"] if row["optimizer"] == "sgd" else 0.0
    result = make_result(rows, SPACE)
    ped = optuna_importance(result)
    assert set(ped.names) == {"lr", "units", "optimizer", "momentum", "norm"}
    assert ped.names[0] in ("momentum", "optimizer") and {"momentum", "optimizer"} == set(ped.names[:2])
    fanova = optuna_importance(result, estimator="fanova")
    assert "momentum" not in fanova.names and fanova.names[0] == "optimizer"
    assert fanova.note == "Left out (not every trial has them): momentum."


def test_minimised_objectives_count_low_scores_as_best() -> None:
    rows = [{**row, "score": -row["score"]} for row in driven_by_lr(200)]  # type: ignore[operator]
    assert optuna_importance(make_result(rows, SPACE, objective=LOSS)).names[0] == "lr"


def test_too_few_trials_and_flat_scores_give_a_notice() -> None:
    few = optuna_importance(make_result(driven_by_lr(9), SPACE))
    assert few == Importance(
        "val_accuracy", 9, (), (), (), (), "Need at least 10 completed trials (have 9).", "ped-anova"
    )
    flat = [{**row, "score": 0.5} for row in driven_by_lr(30)]
    for estimator in anova.ESTIMATORS:
        found = optuna_importance(make_result(flat, SPACE), estimator=estimator)
        assert (found.names, found.notice) == ((), "No hyperparameter explains the differences between the scores.")
    fixed = HyperparameterInfo("epochs", "fixed", values=(3,))
    nothing = optuna_importance(make_result([{"epochs": 3, "score": 0.5}] * 12, [fixed]))
    assert nothing.notice == "No hyperparameter varies in this search."
    with pytest.raises(ValueError, match="estimator must be one of ped-anova, fanova"):
        optuna_importance(make_result(flat, SPACE), estimator="shap")


def test_a_few_trials_are_computed_but_called_rough() -> None:
    found = optuna_importance(make_result(driven_by_lr(20), SPACE))
    assert found.names and found.note.startswith("Only 20 completed trials: fewer than 5 are among the best 10%")


def test_the_same_trials_give_the_same_importances() -> None:
    result = make_result(driven_by_lr(120, seed=4), SPACE)
    for estimator in anova.ESTIMATORS:
        assert optuna_importance(result, estimator=estimator) == optuna_importance(result, estimator=estimator)


def test_above_the_cap_a_sample_spread_over_the_score_ranking_is_used_and_said(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(anova.MAX_TRIALS, "ped-anova", 100)
    result = make_result(driven_by_lr(400), SPACE)
    found = optuna_importance(result)
    assert found.note == "100 of 400 completed trials used: a sample spread evenly from best to worst score."
    assert found.names[0] == "lr" and found == optuna_importance(result)


def test_the_sample_keeps_the_best_and_the_worst_in_trial_order() -> None:
    trials = pd.DataFrame({"score": [0.5, 0.9, 0.1, 0.7, 0.3], "number": range(1, 6)}, index=list("abcde"))
    assert list(ranked_sample(trials, 3, maximise=True).index) == ["a", "b", "c"]  # best, middle, worst
    assert list(ranked_sample(trials, 9, maximise=True).index) == list("abcde")


def test_distributions_follow_the_declared_spec() -> None:
    def dist(info: HyperparameterInfo, values: list[object]) -> object:
        scale = scale_of(info)
        return distribution(info, scale, hp_values(scale, pd.Series(values, dtype=object)))

    assert dist(LR, [1e-3, None]) == FloatDistribution(1e-4, 1e-1, log=True)
    assert dist(UNITS, [8, 16, 64]) == IntDistribution(8, 64, step=8)
    assert dist(UNITS, [8, 12]) == IntDistribution(8, 64)  # a value off the declared step
    assert dist(integer("blocks", 1, 4), [5, 2]) == IntDistribution(1, 5)  # widened to a value outside
    assert dist(MOMENTUM, [0.1, 0.3]) == FloatDistribution(0.0, 0.9)
    assert dist(floating("wd", 1e-5, 1e-2, log=True), [0.0, 1e-3]) == FloatDistribution(0.0, 1e-2)  # not log
    assert dist(OPTIMIZER, ["sgd", "rmsprop", None]) == CategoricalDistribution(("adam", "sgd", "rmsprop"))
    assert dist(NORM, [True]) == CategoricalDistribution(("True", "False"))
    assert dist(choice("filters", 8, 16), [16.0]) == CategoricalDistribution(("8", "16"))
    assert dist(LR, [None, float("inf"), "big"]) is None  # no usable value at all


def test_an_inactive_conditional_value_is_left_out_of_the_trial() -> None:
    columns = {"optimizer": ["adam", "sgd"], "momentum": [None, 0.5]}
    dists = {"optimizer": CategoricalDistribution(("adam", "sgd")), "momentum": FloatDistribution(0.0, 0.9)}
    with anova._quiet():
        study = study_of(columns, dists, np.array([0.1, 0.2]), maximise=True)
    assert [t.params for t in study.trials] == [{"optimizer": "adam"}, {"optimizer": "sgd", "momentum": 0.5}]
    assert [t.value for t in study.trials] == [0.1, 0.2]


def test_ten_thousand_trials_in_time_on_a_sample() -> None:
    result = big()
    start = time.perf_counter()
    found = optuna_importance(result)
    assert time.perf_counter() - start < 10.0  # ~1 s here: building the study of 5,000 trials costs most
    assert found.names[0] == "learning_rate"
    assert found.note.startswith(f"5,000 of {len(result.completed):,} completed trials used")
