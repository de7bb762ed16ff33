"""How much each hyperparameter matters, by Optuna's PED-ANOVA or fANOVA over an in-memory study of the trials.

The completed trials become an Optuna study (``optuna.create_study``, ``optuna.trial.create_trial``,
``study.add_trials``). Each varying hyperparameter's distribution comes from its declared spec, never from
the data alone: choices and booleans are a ``CategoricalDistribution`` of their values as text, in declared
order (then any unexpected value); float and int ranges are a ``FloatDistribution`` / ``IntDistribution``,
on a log scale where the spec samples logarithmically, with the declared step where every value sits on it.
A range is widened to values found outside it (and the log scale dropped for a value that is not positive).
An inactive conditional value, a missing one or a non-finite one is left out of that trial's parameters,
which is how Optuna records a conditional parameter.

PED-ANOVA (Optuna's default) compares where each hyperparameter's values lie among the best 10% of the
trials with where they lie among all of them; it treats a conditional hyperparameter's regimes apart and is
cheap. fANOVA fits a random forest to the scores and splits their variance among the hyperparameters; it
only sees hyperparameters that every trial has (the others are named in the note) and is costly, so it gets
fewer trees, shallower ones and fewer trials (``MAX_TRIALS``).

Above its cap, an estimator sees a systematic sample over the score ranking: trials evenly spaced from the
best to the worst, so that the best 10% of the sample are the best 10% of all, thinned alike. The same
trials always give the same result.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tuning.analysis.common import NOT_USED, Scale, category_order, labels, scale_of, scored, scores_of, varying
from tuning.analysis.importance import Importance
from tuning.results.model import HyperparameterInfo, ProjectResult

if TYPE_CHECKING:  # Optuna (and scikit-learn under it) takes about a second to import: only when estimating
    import optuna
    from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution

ESTIMATORS = ("ped-anova", "fanova")
MEASURES = {
    "ped-anova": (
        "PED-ANOVA (Optuna): how differently each hyperparameter's values are spread among the best 10% of "
        "the trials than among all of them."
    ),
    "fanova": (
        "fANOVA (Optuna): the share of the scores' variance each hyperparameter explains on its own, in a "
        "random forest fitted to the trials."
    ),
}
MIN_TRIALS = 10
MAX_TRIALS = {"ped-anova": 5_000, "fanova": 1_000}  # above: a sample; building the study costs most (~0.2 ms a trial)
ROUGH_BELOW = 50  # PED-ANOVA wants at least 5 trials among the best 10%
FANOVA_TREES = 32
FANOVA_DEPTH = 8
SEED = 0

Values = list[Any]  # one hyperparameter's value per trial, None where the trial has none


def optuna_importance(
    result: ProjectResult, *, estimator: str = "ped-anova", min_trials: int = MIN_TRIALS
) -> Importance:
    """The importance of every varying hyperparameter for the completed trials' scores, by ``estimator``.

    Empty, with a notice, below ``min_trials`` completed trials, when nothing varies or when no
    hyperparameter explains the scores.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")
    trials = scored(result)
    n = len(trials)
    empty = Importance(result.objective.name, n, (), (), (), (), "", estimator)
    if n < min_trials:
        return _with(empty, notice=f"Need at least {min_trials} completed trials (have {n}).")
    maximise = result.objective.direction == "max"
    sample = ranked_sample(trials, MAX_TRIALS[estimator], maximise=maximise)
    hps = {hp.name: hp for hp in varying(result)}
    scales = {name: scale_of(hp) for name, hp in hps.items()}
    columns = {name: hp_values(scales[name], sample[hp.column]) for name, hp in hps.items()}
    with _quiet():
        found = {name: distribution(hp, scales[name], columns[name]) for name, hp in hps.items()}
        dists = {name: dist for name, dist in found.items() if dist is not None}
        if not dists:
            return _with(empty, notice="No hyperparameter varies in this search.")
        params, left_out = _params(estimator, dists, columns)
        if not params:
            return _with(
                empty, notice=f"fANOVA needs a hyperparameter every trial has; none is ({', '.join(left_out)})."
            )
        study = study_of({name: columns[name] for name in dists}, dists, scores_of(sample), maximise=maximise)
        raw = _evaluate(study, estimator, params)
    note = _note(estimator, n, len(sample), left_out)
    return _ranked(empty, [scales[name] for name in params], [raw.get(name, 0.0) for name in params], note)


def ranked_sample(trials: pd.DataFrame, cap: int, *, maximise: bool) -> pd.DataFrame:
    """All of ``trials`` up to ``cap``, else ``cap`` of them evenly spaced over the score ranking."""
    if len(trials) <= cap:
        return trials
    scores = scores_of(trials)
    order = np.argsort(-scores if maximise else scores, kind="stable")
    picks = np.unique(np.round(np.linspace(0, len(trials) - 1, cap)).astype(int))
    return trials.iloc[np.sort(order[picks])]


def hp_values(scale: Scale, column: pd.Series) -> Values:
    """Each trial's value as Optuna gets it: text for categories, a finite float for ranges, else None."""
    if not scale.numeric:
        return [None if text == NOT_USED else text for text in labels(column)]
    numbers = pd.to_numeric(column, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return [float(v) if math.isfinite(v) else None for v in numbers]


def distribution(info: HyperparameterInfo, scale: Scale, values: Values) -> BaseDistribution | None:
    """The Optuna distribution of one hyperparameter (None when no trial has a value for it)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    known = [v for v in values if v is not None]
    if not known:
        return None
    if not scale.numeric:
        choices = [c for c in category_order(scale, dict.fromkeys(known)) if c != NOT_USED]
        return CategoricalDistribution(choices)
    low = min(known + [v for v in (scale.low,) if v is not None and math.isfinite(v)])
    high = max(known + [v for v in (scale.high,) if v is not None and math.isfinite(v)])
    log = scale.log and low > 0
    step = info.step if not log and info.step and math.isfinite(info.step) and info.step > 0 else None
    if info.kind == "int" and all(float(v).is_integer() for v in (low, high, *known)):
        int_step = int(step) if step is not None and float(step).is_integer() else 1
        found: BaseDistribution = IntDistribution(int(low), int(high), log=log, step=int_step)
        return found if _fits(found, known) else IntDistribution(int(low), int(high), log=log)
    found = FloatDistribution(low, high, log=log, step=step)
    return found if _fits(found, known) else FloatDistribution(low, high, log=log)


def _fits(dist: IntDistribution | FloatDistribution, values: Sequence[float]) -> bool:
    """Whether every value lies on ``dist``'s grid (Optuna's own test, ``_contains``, is private)."""
    if dist.step is None:
        return True
    for value in values:
        k = (value - dist.low) / dist.step
        if not dist.low <= value <= dist.high or abs(k - round(k)) >= 1e-8:
            return False
    return True


def study_of(
    columns: dict[str, Values], dists: dict[str, BaseDistribution], scores: np.ndarray, *, maximise: bool
) -> optuna.Study:
    """An in-memory Optuna study with one completed trial per score (call inside ``_quiet()``)."""
    import optuna

    study = optuna.create_study(
        direction="maximize" if maximise else "minimize", sampler=optuna.samplers.RandomSampler(seed=SEED)
    )
    names = list(columns)
    made = []
    for i, score in enumerate(scores):
        params = {name: columns[name][i] for name in names if columns[name][i] is not None}
        made.append(
            optuna.trial.create_trial(
                params=params, distributions={name: dists[name] for name in params}, value=float(score)
            )
        )
    study.add_trials(made)
    return study


def _params(
    estimator: str, dists: dict[str, BaseDistribution], columns: dict[str, Values]
) -> tuple[list[str], list[str]]:
    """(hyperparameters the estimator assesses, those it leaves out): fANOVA needs a value in every trial."""
    names = sorted(dists)
    if estimator != "fanova":
        return names, []
    complete = [name for name in names if all(v is not None for v in columns[name])]
    return complete, [name for name in names if name not in complete]


def _evaluate(study: optuna.Study, estimator: str, params: list[str]) -> dict[str, float]:
    """The estimator's raw importances, not normalised (zero everywhere must stay zero); {} when none."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator

    if estimator == "fanova":
        evaluator: optuna.importance.BaseImportanceEvaluator = FanovaImportanceEvaluator(
            n_trees=FANOVA_TREES, max_depth=FANOVA_DEPTH, seed=SEED
        )
    else:
        evaluator = PedAnovaImportanceEvaluator()
    try:
        with np.errstate(all="ignore"):
            found = optuna.importance.get_param_importances(study, evaluator=evaluator, params=params, normalize=False)
    except RuntimeError:  # fANOVA: "zero total variance in all trees" (no split explains anything)
        return {}
    return {name: float(value) for name, value in found.items()}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Without Optuna's log lines ("A new study created in memory") and its warnings about few trials."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        optuna.logging.set_verbosity(level)


def _note(estimator: str, n: int, used: int, left_out: list[str]) -> str:
    """What the reader of the result should know: a sample, left-out hyperparameters, too few trials."""
    parts = []
    if used < n:
        parts.append(f"{used:,} of {n:,} completed trials used: a sample spread evenly from best to worst score.")
    if left_out:
        parts.append(f"Left out (not every trial has them): {', '.join(left_out)}.")
    if estimator == "ped-anova" and n < ROUGH_BELOW:
        parts.append(f"Only {n} completed trials: fewer than 5 are among the best 10%, so this is rough.")
    return " ".join(parts)


def _ranked(empty: Importance, scales: list[Scale], raw: list[float], note: str) -> Importance:
    """Importances clipped at zero, scaled to sum to 1, most important first; a notice when all are zero."""
    means = np.array([v if math.isfinite(v) else 0.0 for v in raw], dtype=float).clip(0.0, None)
    total = means.sum()
    if not total > 0 or not math.isfinite(total):
        return _with(empty, notice="No hyperparameter explains the differences between the scores.")
    means = means / total
    order = sorted(range(len(scales)), key=lambda i: (-means[i], scales[i].name))
    return _with(
        empty,
        names=tuple(scales[i].name for i in order),
        labels=tuple(scales[i].label for i in order),
        means=tuple(float(means[i]) for i in order),
        note=note,
    )


def _with(found: Importance, **changes: Any) -> Importance:
    return replace(found, **changes)
