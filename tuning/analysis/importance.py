"""How much each hyperparameter matters: permutation importance of a random forest fitted to the scores.

Each varying hyperparameter is one column: numeric ranges at their place on the declared scale (log10 for
log sampling), choices and booleans as their index in the declared order. An inactive conditional value
is a sentinel below every real value, and the forest also sees an "active" indicator derived from it.
Permutation importance shuffles one hyperparameter's column (and so its indicator with it) and measures
how much worse the forest predicts the scores (R²). Means are clipped at zero and scaled to sum to 1; the
standard deviations are scaled by the same factor. Fixed random states: the same trials give the same result.

Optuna's PED-ANOVA and fANOVA estimators (``tuning.analysis.anova``) give the same ``Importance`` record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tuning.analysis.common import NOT_USED, Scale, category_order, labels, positions, scale_of, scored, scores_of
from tuning.analysis.common import varying as varying_hps
from tuning.results.model import ProjectResult

MIN_TRIALS = 10
TREES = 64
REPEATS = 5
MAX_ROWS = 2000  # rows used to fit the forest and to measure the permutations
SEED = 0
MEASURES = (
    "Permutation importance: how much worse a random forest fitted to the scores predicts them when one "
    "hyperparameter's values are shuffled."
)


@dataclass(frozen=True)
class Importance:
    """Importance of each hyperparameter, most important first; ``notice`` says why it is empty.

    ``method`` names the estimator ("permutation", "ped-anova" or "fanova"); ``stds`` is empty when it gives
    no spread; ``note`` says what was left out or sampled (shown with the result, which is not empty).
    """

    objective: str
    n_trials: int
    names: tuple[str, ...]
    labels: tuple[str, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]
    notice: str = ""
    method: str = "permutation"
    note: str = ""

    def of(self, name: str) -> float | None:
        """The importance of ``name`` (None when not computed)."""
        return self.means[self.names.index(name)] if name in self.names else None


def encode(scale: Scale, column: pd.Series) -> tuple[np.ndarray, float]:
    """One hyperparameter as numbers for the forest, and the sentinel standing for "not used"."""
    if scale.numeric:
        place = positions(scale, column)
        known = place[~np.isnan(place)]
        low, high = scale.bounds or ((known.min(), known.max()) if len(known) else (0.0, 0.0))
        sentinel = low - max(high - low, 1.0)
        return np.where(np.isnan(place), sentinel, place), sentinel
    text = labels(column)
    order = [c for c in category_order(scale, dict.fromkeys(text)) if c != NOT_USED]
    codes = {value: float(i) for i, value in enumerate(order)}
    return np.array([codes.get(t, -1.0) for t in text]), -1.0


def with_active(x: np.ndarray, sentinels: tuple[float, ...], conditional: tuple[int, ...]) -> np.ndarray:
    """``x`` followed by an "active" indicator (1/0) for each conditional column."""
    if not conditional:
        return x
    active = [(x[:, j] != sentinels[j]).astype(float) for j in conditional]
    return np.column_stack([x, *active])


def _sample(n: int) -> np.ndarray:
    """At most ``MAX_ROWS`` row indices, always the same for the same ``n``."""
    if n <= MAX_ROWS:
        return np.arange(n)
    return np.sort(np.random.default_rng(SEED).choice(n, MAX_ROWS, replace=False))


def _empty(result: ProjectResult, n: int, notice: str) -> Importance:
    return Importance(result.objective.name, n, (), (), (), (), notice)


def importance(result: ProjectResult, *, min_trials: int = MIN_TRIALS) -> Importance:
    """The importance of every varying hyperparameter for the score of the completed trials.

    Empty, with a notice, below ``min_trials`` completed trials or when nothing varies.
    """
    trials = scored(result)
    n = len(trials)
    if n < min_trials:
        return _empty(result, n, f"Need at least {min_trials} completed trials (have {n}).")
    hps = varying_hps(result)
    if not hps:
        return _empty(result, n, "No hyperparameter varies in this search.")
    scales = [scale_of(hp) for hp in hps]
    encoded = [encode(scale, trials[hp.column]) for scale, hp in zip(scales, hps, strict=True)]
    x = np.column_stack([values for values, _ in encoded])
    sentinels = tuple(sentinel for _, sentinel in encoded)
    conditional = tuple(i for i, scale in enumerate(scales) if scale.conditional)
    rows = _sample(n)
    x, y = x[rows], scores_of(trials)[rows]
    # scikit-learn takes most of a second to import: here, not when a page that may never estimate loads
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import permutation_importance
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    model = make_pipeline(
        FunctionTransformer(with_active, kw_args={"sentinels": sentinels, "conditional": conditional}),
        RandomForestRegressor(n_estimators=TREES, min_samples_leaf=2, random_state=SEED, n_jobs=1),
    ).fit(x, y)
    found = permutation_importance(model, x, y, n_repeats=REPEATS, random_state=SEED, n_jobs=1)
    return _normalised(result, n, scales, found.importances_mean, found.importances_std)


def _normalised(result: ProjectResult, n: int, scales: list[Scale], means: np.ndarray, stds: np.ndarray) -> Importance:
    """Importances clipped at zero, scaled to sum to 1 and sorted, most important first."""
    means = np.clip(means, 0.0, None)
    total = means.sum()
    notice = ""
    if total > 0:
        means, stds = means / total, stds / total
    else:
        notice = "No hyperparameter explains the differences between the scores."
    order = sorted(range(len(scales)), key=lambda i: (-means[i], scales[i].name))
    return Importance(
        objective=result.objective.name,
        n_trials=n,
        names=tuple(scales[i].name for i in order),
        labels=tuple(scales[i].label for i in order),
        means=tuple(float(means[i]) for i in order),
        stds=tuple(float(stds[i]) for i in order),
        notice=notice,
    )
