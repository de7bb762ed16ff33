"""Plain-language findings a person can act on, each backed by the numbers it came from.

Each ``Finding`` has a ``kind`` (one of ``KINDS``), a ``severity`` ("warning", "suggestion" or "info"), a
``text`` written for people who do not program, the ``hyperparameter`` it is about (or None) and the
``evidence``: the numbers the text was written from. What counts as "at the edge", "little difference" or
"many failures" is set by ``Thresholds``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tuning.analysis.common import (
    FAILED_STATUSES,
    NOT_USED,
    UNFINISHED_STATUSES,
    Scale,
    scale_of,
    scored,
    scores_of,
    varying,
)
from tuning.analysis.effects import CategoricalEffect, Group, effect, spread
from tuning.analysis.importance import Importance, importance
from tuning.analysis.pruned import PRUNED_KIND, pruned_summary, pruned_text
from tuning.analysis.text import count, hp_phrase, metric_label, number, percent, score_text
from tuning.results.model import HyperparameterInfo, ProjectResult
from tuning.space.hyperparameters import BY_NAME

TOO_FEW = "too_few_trials"
MANY_FAILURES = "many_failures"
AVOID = "avoid_region"
EDGE = "edge_of_range"
LITTLE_EFFECT = "little_effect"
EARLY_STOPS = "hyperband_early_stops"
KINDS = (TOO_FEW, MANY_FAILURES, AVOID, EDGE, LITTLE_EFFECT, EARLY_STOPS, PRUNED_KIND)


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str
    text: str
    hyperparameter: str | None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Thresholds:
    """When a finding is reported.

    ``edge``: the share of the declared range (on its scale) at each end counted as "at the edge".
    ``low_importance``: an importance below which a hyperparameter "barely matters"; ``small_spread``: the
    same for the spread of per-value means, as a share of the spread of all scores (10th to 90th percentile).
    ``chance``: a score at or below it "learned nothing" (None: 0.11 for accuracies, none for other metrics).
    ``min_region``: how many trials must have gone wrong beyond a value before saying "avoid it".
    """

    min_trials: int = 10
    edge: float = 0.1
    low_importance: float = 0.05
    small_spread: float = 0.1
    chance: float | None = None
    failure_share: float = 0.25
    min_region: int = 3
    short_epochs: int = 2
    early_share: float = 0.5


def findings(
    result: ProjectResult, *, importances: Importance | None = None, thresholds: Thresholds | None = None
) -> tuple[Finding, ...]:
    """Every finding about ``result``. Pass ``importances`` when already computed (else computed here).

    With fewer than ``min_trials`` completed trials only the too-few, failure and Hyperband findings are made.
    A hyperparameter that barely matters gets no "edge of the range" finding.
    """
    th = thresholds or Thresholds()
    n = len(scored(result))
    found = [*too_few(n, th), *many_failures(result, th)]
    found += avoid_findings(result, chance=chance_level(result, th), min_region=th.min_region)
    if n >= th.min_trials:
        little = little_effect(result, importances or importance(result, min_trials=th.min_trials), th)
        barely = {f.hyperparameter for f in little}
        found += [f for f in edge_findings(result, edge=th.edge) if f.hyperparameter not in barely]
        found += little
    found += early_stops(result, th)
    if (pruned := pruned_summary(result)) is not None:
        evidence = dataclasses.asdict(pruned) | {"epochs_saved": pruned.epochs_saved}
        found.append(Finding(PRUNED_KIND, "info", pruned_text(pruned), None, evidence))
    return tuple(found)


def chance_level(result: ProjectResult, th: Thresholds) -> float | None:
    """The score at or below which a trial learned nothing (None when unknown)."""
    if th.chance is not None:
        return th.chance
    objective = result.objective
    return 0.11 if "acc" in objective.name and objective.direction == "max" else None


def too_few(n: int, th: Thresholds) -> list[Finding]:
    """Too few completed trials to say anything."""
    if n >= th.min_trials:
        return []
    have = "No trial has finished with a score yet." if n == 0 else f"Only {count(n, 'trial')} finished with a score."
    text = f"{have} Let the search run to at least {th.min_trials} trials before drawing conclusions."
    return [Finding(TOO_FEW, "info", text, None, {"completed": n, "needed": th.min_trials})]


def many_failures(result: ProjectResult, th: Thresholds) -> list[Finding]:
    """Many finished trials failed or ended without a score."""
    trials = result.trials
    finished = trials[~trials["status"].isin(UNFINISHED_STATUSES)]
    bad = (finished["status"].isin(FAILED_STATUSES) | ~np.isfinite(scores_of(finished))).to_numpy()
    failed, total = int(bad.sum()), len(finished)
    if failed < 2 or failed < th.failure_share * total:
        return []
    messages = finished.loc[bad, "message"].dropna().astype(str)
    top = str(messages.value_counts().index[0]) if len(messages) else None
    text = (
        f"{number(failed)} of {count(total, 'finished trial')} ({failed / total:.0%}) failed or ended without a score. "
        + (f"The most common error was: “{top}”. " if top else "")
        + "Look into the failures before running more trials: they take time and teach nothing."
    )
    evidence = {
        "failed": failed,
        "finished": total,
        "share": failed / total,
        "top_message": top,
        "trial_ids": tuple(str(t) for t in finished.index[bad]),
    }
    return [Finding(MANY_FAILURES, "warning", text, None, evidence)]


def little_effect(result: ProjectResult, importances: Importance, th: Thresholds) -> list[Finding]:
    """Hyperparameters that barely change the score: a low importance, or per-value means close together."""
    scores = scores_of(scored(result))
    score_spread = float(np.percentile(scores, 90) - np.percentile(scores, 10)) if len(scores) else 0.0
    found = []
    for hp in varying(result):
        share = None if importances.notice else importances.of(hp.name)
        measured = effect(result, hp.name)
        if isinstance(measured, CategoricalEffect):
            finding = _categorical_little(result, measured, share, th.small_spread * score_spread, th)
        else:
            finding = _numeric_little(result, hp.name, share, th)
        found += [finding] if finding else []
    return found


def _numeric_little(result: ProjectResult, name: str, share: float | None, th: Thresholds) -> Finding | None:
    if share is None or share >= th.low_importance:
        return None
    suggested = _best_value(result, name)
    why = f"it explains {percent(share)} of the differences between trials"
    evidence = {"importance": share, "importance_threshold": th.low_importance, "suggested": suggested}
    return Finding(LITTLE_EFFECT, "suggestion", _little_text(result, name, why, suggested), name, evidence)


def _categorical_little(
    result: ProjectResult, measured: CategoricalEffect, share: float | None, small: float, th: Thresholds
) -> Finding | None:
    groups = [g for g in measured.groups if g.count >= 2 and g.value != NOT_USED]
    means_spread = spread(measured)
    close = means_spread is not None and means_spread <= small
    if not close and (share is None or share >= th.low_importance):
        return None
    best, worst = _extremes(groups, result.objective.direction)
    if close and best is not None and worst is not None:
        metric = result.objective.name
        why = (
            f"its average ranged only from {score_text(worst.mean, metric)} ({worst.value}) "
            f"to {score_text(best.mean, metric)} ({best.value})"
        )
    else:
        why = f"it explains {percent(share or 0.0)} of the differences between trials"
    suggested = best.value if best is not None else None
    evidence = {
        "importance": share,
        "importance_threshold": th.low_importance,
        "means": {g.value: g.mean for g in groups},
        "spread": means_spread,
        "spread_threshold": small,
        "suggested": suggested,
    }
    text = _little_text(result, measured.name, why, suggested)
    return Finding(LITTLE_EFFECT, "suggestion", text, measured.name, evidence)


def _extremes(groups: list[Group], direction: str) -> tuple[Group | None, Group | None]:
    """The groups with the best and the worst mean score."""
    if not groups:
        return None, None
    ranked = sorted(groups, key=lambda g: g.mean if g.mean is not None else 0.0, reverse=direction == "max")
    return ranked[0], ranked[-1]


def _little_text(result: ProjectResult, name: str, why: str, suggested: str | None) -> str:
    fix = f"You could fix it at {suggested}" if suggested is not None else "You could fix it"
    return (
        f"Changing the {hp_phrase(name)} made little difference to the {metric_label(result.objective.name)}: "
        f"{why}. {fix} and let the search spend its trials on other settings."
    )


def _best_value(result: ProjectResult, name: str) -> str | None:
    """The best trial's value of ``name`` as text (None when inactive there)."""
    best = result.best_trial_id
    value = result.trials.at[best, result.hp(name).column] if best is not None else pd.NA
    return None if pd.isna(value) else number(float(value))


def early_stops(result: ProjectResult, th: Thresholds) -> list[Finding]:
    """Hyperband gave most trials only a few epochs."""
    if "hb:epochs" not in result.trials.columns:
        return []
    epochs = pd.to_numeric(result.trials["hb:epochs"], errors="coerce").dropna().astype(int)
    short = int((epochs <= th.short_epochs).sum())
    if not len(epochs) or short <= th.early_share * len(epochs):
        return []
    low = int(epochs.min())
    span = f"{low}–{th.short_epochs} epochs" if low < th.short_epochs else count(low, "epoch")
    text = (
        f"Hyperband stopped most trials early: {number(short)} of {count(len(epochs), 'trial')} "
        f"trained for only {span}. "
        "Their scores show how fast a setting starts learning, not how good it gets: compare settings by the "
        "trials that trained longest, or give Hyperband more epochs."
    )
    evidence = {
        "short": short,
        "total": len(epochs),
        "short_epochs": th.short_epochs,
        "min_epochs": low,
        "max_epochs": int(epochs.max()),
    }
    return [Finding(EARLY_STOPS, "info", text, None, evidence)]


def edge_findings(result: ProjectResult, *, edge: float) -> list[Finding]:
    """Numeric hyperparameters whose best value lies at an end of the declared range or choices."""
    best = result.best_trial_id
    if best is None:
        return []
    found = []
    for hp in varying(result):
        value = result.trials.at[best, hp.column]
        if not hp.is_numeric or pd.isna(value):
            continue
        finding = _range_edge(hp, float(value), edge) if hp.kind in ("float", "int") else _choice_edge(hp, float(value))
        if finding is not None:
            found.append(Finding(EDGE, "suggestion", finding[0], hp.name, {"trial_id": best, **finding[1]}))
    return found


def _range_edge(hp: HyperparameterInfo, value: float, edge: float) -> tuple[str, dict[str, Any]] | None:
    scale = scale_of(hp)
    bounds = scale.bounds
    if bounds is None or bounds[1] <= bounds[0] or (scale.log and value <= 0):
        return None
    share = (scale.position(value) - bounds[0]) / (bounds[1] - bounds[0])
    side = "top" if share >= 1 - edge else "bottom" if share <= edge else None
    suggested = _widened(hp, scale, side) if side else None
    if side is None or suggested is None:
        return None
    label, low, high = hp_phrase(hp.name), number(scale.low), number(scale.high)
    more, way = ("Higher", "up to") if side == "top" else ("Lower", "down to")
    text = (
        f"The best trial used {label} {number(value)}, near the {side} of the range searched ({low} to {high}). "
        f"{more} values may work even better: widen the range, for example {way} {number(suggested)}."
    )
    evidence = {
        "value": value,
        "low": scale.low,
        "high": scale.high,
        "share_of_range": share,
        "side": side,
        "log": scale.log,
        "suggested": suggested,
    }
    return text, evidence


def _widened(hp: HyperparameterInfo, scale: Scale, side: str) -> float | None:
    """A wider bound on ``side`` ("top" or "bottom"): x10 on log scales, half the range on linear ones.

    Kept within the hyperparameter's hard limits when it is one of ours; None when it cannot be widened.
    """
    low, high = float(scale.low or 0.0), float(scale.high or 0.0)
    top = side == "top"
    if scale.log:
        wider = high * 10 if top else low / 10
    else:
        wider = high + (high - low) / 2 if top else low - (high - low) / 2
        wider = max(wider, 0.0) if not top and low >= 0 else wider
    info = BY_NAME.get(hp.name)
    if info is not None and info.min_value is not None and info.max_value is not None:
        wider = min(max(wider, info.min_value), info.max_value)
    if hp.kind == "int":
        wider = float(np.ceil(wider) if top else np.floor(wider))
    return None if wider == (high if top else low) else wider


def _choice_edge(hp: HyperparameterInfo, value: float) -> tuple[str, dict[str, Any]] | None:
    offered = sorted(float(v) for v in hp.values)
    if len(offered) < 3 or value not in (offered[0], offered[-1]):
        return None
    side = "top" if value == offered[-1] else "bottom"
    word, more = ("largest", "larger") if side == "top" else ("smallest", "smaller")
    text = (
        f"The best trial used {hp_phrase(hp.name)} {number(value)}, the {word} of the values offered "
        f"({', '.join(number(v) for v in offered)}). {more.capitalize()} values may work even better: "
        f"offer a {more} one too."
    )
    return text, {"value": value, "values": tuple(offered), "side": side, "suggested": None}


def avoid_findings(result: ProjectResult, *, chance: float | None, min_region: int) -> list[Finding]:
    """Numeric hyperparameters above (or below) which every trial failed, had no score or stayed at chance."""
    trials = result.trials[result.trials["status"].isin(("COMPLETED", *FAILED_STATUSES))]
    wrong = outcomes(trials, chance)
    found = []
    for hp in varying(result):
        if hp.is_numeric:
            values = pd.to_numeric(trials[hp.column], errors="coerce").astype(float)  # NaN where not used
            for side in ("above", "below"):
                finding = _region(result, hp.name, values, wrong, side, chance=chance, min_region=min_region)
                found += [finding] if finding else []
    return found


def outcomes(trials: pd.DataFrame, chance: float | None) -> pd.DataFrame:
    """For each trial, whether it ``failed``, ended with ``no_score`` or scored ``at_chance`` (at most one)."""
    scores = scores_of(trials)
    failed = trials["status"].isin(FAILED_STATUSES).to_numpy()
    finite = np.isfinite(scores)
    with np.errstate(invalid="ignore"):
        at_chance = ~failed & finite & (scores <= chance) if chance is not None else np.zeros(len(trials), bool)
    return pd.DataFrame({"failed": failed, "no_score": ~failed & ~finite, "at_chance": at_chance}, index=trials.index)


def _region(
    result: ProjectResult,
    name: str,
    values: pd.Series,
    wrong: pd.DataFrame,
    side: str,
    *,
    chance: float | None,
    min_region: int,
) -> Finding | None:
    """Every trial beyond the last good value on ``side`` went wrong: say so when there are enough of them."""
    good = values[~wrong.any(axis=1) & values.notna()]
    if good.empty:
        return None
    last_good = float(good.max() if side == "above" else good.min())
    region = (values > last_good) if side == "above" else (values < last_good)
    if region.sum() < min_region:
        return None
    threshold = float(values[region].min() if side == "above" else values[region].max())
    counts = {kind: int(wrong.loc[region, kind].sum()) for kind in wrong.columns}
    label, metric = hp_phrase(name), result.objective.name
    what = {
        "failed": "failed",
        "no_score": "ended without a score",
        "at_chance": f"scored no better than chance ({score_text(chance, metric)})",
    }
    higher, at = ("higher", "at or below") if side == "above" else ("lower", "at or above")
    text = (
        f"Every trial with {label} {number(threshold)} or {higher} went wrong: "
        f"{_join([f'{number(n)} {what[kind]}' for kind, n in counts.items() if n])}. "
        f"Keep the {label} {at} {number(last_good)}."
    )
    evidence = {
        "side": side,
        "threshold": threshold,
        "last_good": last_good,
        "trials": int(region.sum()),
        **counts,
        "chance": chance,
        "trial_ids": tuple(str(t) for t in values.index[region.to_numpy()]),
    }
    return Finding(AVOID, "warning", text, name, evidence)


def _join(parts: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
