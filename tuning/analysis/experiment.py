"""The result of a controlled experiment: one run per varied value, and a conclusion computed from them.

``experiment_of(result)`` reads the experiment's description from the search's configuration and its runs
from the trial table and the learning curves: the final and best score per value, the training score (for
the gap between training and validation), failures such as a diverged loss, and time. ``conclusion``
writes the paragraph a person reads, with the numbers it rests on; nothing in it is canned.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tuning.analysis.text import duration, hp_phrase, metric_label, number, score_text
from tuning.results.model import HP_PREFIX, ProjectResult
from tuning.space.hyperparameters import BY_NAME
from tuning.space.specs import format_value

# Two runs of one setting differ by at least this much in accuracy, and by more on few validation images
# (one binomial standard deviation at 50%: 0.025 on 400 images, 0.065 on 60): smaller spreads are not
# called an effect.
ACCURACY_NOISE = 0.02
LOSS_NOISE = 0.05  # relative, for losses
GAP_EFFECT = 0.05  # a change of the training-validation gap worth mentioning
LOSS_RISE = 1.25  # a validation loss this many times its lowest, at the end, shows over-fitting
OVERFIT_GAP = 0.08  # a training-validation gap that shows over-fitting
TIME_EFFECT = 2.0  # a ratio of durations worth mentioning (smaller ones are within the machine's noise)
CHANCE_MARGIN = 0.05
_EXCEPTION_PREFIX = re.compile(r"^[\w.]*(Error|Exception): ")
# Hyperparameters that change how much computing a run takes; for the others a difference in time is
# the machine's noise (other processes, worker scheduling), not an effect worth reporting.
COSTLY = frozenset(
    {"batch_size", "conv_blocks", "filters", "filter_growth", "kernel_size", "dense_layers", "dense_units", "epochs"}
)


@dataclass(frozen=True)
class Run:
    """One combination of the varied values and how its trial went (scores at its last recorded epoch)."""

    trial_id: str
    values: tuple[Any, ...]
    label: str
    status: str
    epochs: int
    final: float | None
    best: float | None
    best_epoch: int | None
    train_final: float | None
    duration_s: float | None
    message: str | None
    val_loss: tuple[float, ...] = ()  # per epoch, for over-fitting: validation loss rising again

    @property
    def finished(self) -> bool:
        return self.status in ("COMPLETED", "PRUNED") and self.final is not None

    @property
    def gap(self) -> float | None:
        """Training minus validation score at the last epoch."""
        if self.train_final is None or self.final is None:
            return None
        return self.train_final - self.final


@dataclass(frozen=True)
class ExperimentSummary:
    """What varied, over which values, each run, and the conclusion drawn from them."""

    varied: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    base: str
    objective: str
    direction: str
    runs: tuple[Run, ...]
    planned: int
    chance: float | None
    conclusion: str
    validation_images: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict for ``summary --json``."""
        return {
            "varied": list(self.varied),
            "values": {name: list(values) for name, values in zip(self.varied, self.values, strict=True)},
            "base": self.base,
            "objective": self.objective,
            "runs": [_run_dict(run) for run in self.runs],
            "planned": self.planned,
            "conclusion": self.conclusion,
        }


def _run_dict(run: Run) -> dict[str, Any]:
    return {
        "trial_id": run.trial_id,
        "values": list(run.values),
        "status": run.status,
        "epochs": run.epochs,
        "final": run.final,
        "best": run.best,
        "train_final": run.train_final,
        "message": run.message,
    }


def varied_parts(summary: ExperimentSummary) -> list[tuple[str, str]]:
    """What the experiment varied, as (label, values) pairs: ("learning rate", "0.0001, 0.001, 0.01")."""
    return [
        (BY_NAME[name].label.lower() if name in BY_NAME else name, ", ".join(format_value(v) for v in values))
        for name, values in zip(summary.varied, summary.values, strict=True)
    ]


def experiment_of(result: ProjectResult) -> ExperimentSummary | None:
    """The experiment ``result`` holds, or None when it is not an experiment made by this app."""
    spec = (result.config or {}).get("experiment")
    if not isinstance(spec, dict) or not isinstance(spec.get("vary"), dict) or not spec["vary"]:
        return None
    order = spec.get("varied")
    names = order if isinstance(order, list) and set(order) == set(spec["vary"]) else list(spec["vary"])
    varied = tuple(str(name) for name in names)
    values = tuple(tuple(spec["vary"][name]) for name in varied)
    runs = tuple(_run(result, trial_id, row, varied) for trial_id, row in result.trials.iterrows())
    objective, direction = result.objective.name, result.objective.direction
    chance = 1 / 10 if "acc" in objective else None
    planned = int((result.config or {}).get("max_trials") or len(runs))
    summary = ExperimentSummary(
        varied, values, str(spec.get("base", "")), objective, direction, runs, planned, chance, "",
        _validation_images(result.config or {}),
    )  # fmt: skip
    return ExperimentSummary(**{**summary.__dict__, "conclusion": conclusion(summary)})


def _validation_images(config: dict[str, Any]) -> int | None:
    data = config.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("train_size"), int):
        return None
    split = data.get("validation_split", 0.2)
    return round(data["train_size"] * split) if isinstance(split, int | float) else None


def _run(result: ProjectResult, trial_id: Any, row: pd.Series, varied: tuple[str, ...]) -> Run:
    values = tuple(_plain(row.get(HP_PREFIX + name)) for name in varied)
    objective = result.objective.name
    curve = trial_curve(result.curves, str(trial_id), objective)
    train = trial_curve(result.curves, str(trial_id), objective.removeprefix("val_"))
    score = _plain(row.get("score"))
    final = float(curve.iloc[-1]) if len(curve) else score
    best_epoch = None
    if len(curve) and curve.notna().any():
        best_epoch = int(curve.idxmax() if result.objective.direction == "max" else curve.idxmin())
    message = row.get("message")
    return Run(
        trial_id=str(trial_id),
        values=values,
        label=run_label(varied, values),
        status=str(row.get("status")),
        epochs=int(curve.index.max()) if len(curve) else 0,
        final=final if final is not None and math.isfinite(final) else None,
        best=score if score is not None and math.isfinite(score) else None,
        best_epoch=best_epoch,
        train_final=float(train.iloc[-1]) if len(train) and math.isfinite(train.iloc[-1]) else None,
        duration_s=_plain(row.get("duration_s")),
        message=str(message) if isinstance(message, str) and message else None,
        val_loss=tuple(float(v) for v in trial_curve(result.curves, str(trial_id), "val_loss")),
    )


def trial_curve(curves: pd.DataFrame, trial_id: str, metric: str) -> pd.Series:
    """A trial's first execution's values of ``metric`` by epoch."""
    rows = curves[(curves["trial_id"] == trial_id) & (curves["metric"] == metric) & (curves["execution"] == 0)]
    return rows.drop_duplicates("epoch", keep="last").set_index("epoch")["value"].sort_index()


def _plain(value: Any) -> Any:
    """A table cell as a plain Python value; None for missing ones."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def run_label(varied: tuple[str, ...], values: tuple[Any, ...]) -> str:
    """ "0.001" for one varied hyperparameter, "conv blocks 2 · filters 32" for two."""
    if len(varied) == 1:
        return value_text(values[0])
    return " · ".join(f"{hp_phrase(name)} {value_text(value)}" for name, value in zip(varied, values, strict=True))


def value_text(value: Any) -> str:
    return "not used" if value is None else format_value(value)


def conclusion(summary: ExperimentSummary) -> str:
    """One paragraph on what changed with the varied values, each statement with its numbers."""
    finished = [run for run in summary.runs if run.finished]
    parts = [_progress(summary, len(finished))]
    parts += [_failure(summary, run) for run in summary.runs if run.status in ("FAILED", "INVALID")]
    if not finished:
        parts.append("No value has finished yet.")
        return _join(parts)
    if len(finished) == 1:
        parts.append(f"Only {_who(summary, finished[0])} finished: {_score(summary, finished[0])}.")
        return _join(parts)
    if _spread(summary, finished) <= _noise(summary, finished):
        parts.append(_nothing_changed(summary, finished))
    elif _none_learned(summary, finished):
        parts.append(_none_learned(summary, finished))
        return _join(parts)
    else:
        parts += _best_and_worst(summary, finished)
        parts.append(_trend(summary, finished) if len(summary.varied) == 1 else _marginals(summary, finished))
    parts += [_gap(summary, finished), _peaks(summary, finished), _times(summary, finished)]
    return _join(parts)


def _join(parts: list[str]) -> str:
    return " ".join(part for part in parts if part)


def _progress(summary: ExperimentSummary, done: int) -> str:
    ended = sum(run.status not in ("RUNNING", "IDLE") for run in summary.runs)
    if ended >= summary.planned:
        return ""
    return f"So far {ended} of {summary.planned} runs have ended ({done} finished)."


def _subject(summary: ExperimentSummary) -> str:
    return " and ".join(hp_phrase(name) for name in summary.varied)


def _who(summary: ExperimentSummary, run: Run) -> str:
    return f"{hp_phrase(summary.varied[0])} {run.label}" if len(summary.varied) == 1 else run.label


def _score(summary: ExperimentSummary, run: Run) -> str:
    return f"{metric_label(summary.objective)} {score_text(run.final, summary.objective)} after {run.epochs} epochs"


def _failure(summary: ExperimentSummary, run: Run) -> str:
    message = _EXCEPTION_PREFIX.sub("", run.message or "no message").rstrip(".")
    if message.startswith("Training diverged"):
        reason = message.removeprefix("Training diverged").lstrip(":. ")
        return f"{_who(summary, run).capitalize()} diverged: {reason.split('. ')[0]}."
    return f"{_who(summary, run).capitalize()} failed: {message}."


def _ranked(summary: ExperimentSummary, runs: list[Run]) -> list[Run]:
    """Best first."""
    return sorted(runs, key=lambda run: run.final or 0.0, reverse=summary.direction == "max")


def _spread(summary: ExperimentSummary, runs: list[Run]) -> float:
    finals = [run.final for run in runs if run.final is not None]
    return max(finals) - min(finals)


def _noise(summary: ExperimentSummary, runs: list[Run]) -> float:
    if "acc" in summary.objective:
        images = summary.validation_images
        return max(ACCURACY_NOISE, math.sqrt(0.25 / images)) if images else ACCURACY_NOISE
    finals = sorted(abs(run.final or 0.0) for run in runs)
    return LOSS_NOISE * finals[len(finals) // 2]


def _nothing_changed(summary: ExperimentSummary, runs: list[Run]) -> str:
    finals = [run.final or 0.0 for run in runs]
    metric = metric_label(summary.objective)
    return (
        f"Nothing measurable changed: {metric} was between {score_text(min(finals), summary.objective)} and "
        f"{score_text(max(finals), summary.objective)} for every {_subject(summary)} tried, a spread of "
        f"{number(round(max(finals) - min(finals), 4))}, within the {number(round(_noise(summary, runs), 3))} "
        f"that two runs of one setting can differ by{_on_images(summary)}."
    )


def _none_learned(summary: ExperimentSummary, runs: list[Run]) -> str:
    """When even the best run stayed near chance level: say so, rather than name a winner."""
    best = _ranked(summary, runs)[0]
    if summary.chance is None or best.final is None or best.final > summary.chance + CHANCE_MARGIN:
        return ""
    return (
        f"No {_subject(summary)} tried learned anything in {best.epochs} epochs: {metric_label(summary.objective)} "
        f"stayed near chance level ({score_text(summary.chance, summary.objective)}) for all, the highest "
        f"{score_text(best.final, summary.objective)} with {_who(summary, best)}."
    )


def _on_images(summary: ExperimentSummary) -> str:
    images = summary.validation_images
    return f" on {images} validation images" if images and "acc" in summary.objective else ""


def _best_and_worst(summary: ExperimentSummary, runs: list[Run]) -> list[str]:
    ranked = _ranked(summary, runs)
    best, rest = ranked[0], ranked[1:]
    parts = [f"Best {_who(summary, best)}: {_score(summary, best)}."]
    stuck = [run for run in rest if _at_chance(summary, run)]
    if stuck:
        parts.append(_stuck(summary, stuck))
    noise = _noise(summary, runs)
    others = [run for run in rest if run not in stuck and abs((best.final or 0.0) - (run.final or 0.0)) > noise]
    if others:
        worst = others[-1]
        parts.append(f"{_worst_phrase(summary, worst)}: {_score(summary, worst)}.")
    return parts


def _at_chance(summary: ExperimentSummary, run: Run) -> bool:
    return summary.chance is not None and run.final is not None and run.final <= summary.chance + CHANCE_MARGIN


def _stuck(summary: ExperimentSummary, runs: list[Run]) -> str:
    """The runs that learned nothing, named together with the range of their scores."""
    names = [run.label for run in sorted(runs, key=lambda run: str(run.values))]
    subject = hp_phrase(summary.varied[0]) if len(summary.varied) == 1 else ""
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    who = f"{subject} {who}".strip() if len(names) == 1 else f"{subject}s {who}".strip()
    finals = [run.final or 0.0 for run in runs]
    low, high = score_text(min(finals), summary.objective), score_text(max(finals), summary.objective)
    span = low if low == high else f"{low} to {high}"
    chance = score_text(summary.chance, summary.objective)
    return f"{who[:1].upper()}{who[1:]} stayed at chance level ({chance}): {span} after {runs[0].epochs} epochs."


def _worst_phrase(summary: ExperimentSummary, run: Run) -> str:
    who = _who(summary, run).capitalize()
    if run.best_epoch is not None and run.best_epoch >= run.epochs and run.epochs > 1:
        return f"{who} learned slowest, still improving at the end"
    return f"{who} did worst"


def _trend(summary: ExperimentSummary, runs: list[Run]) -> str:
    """How the score moved along a numeric varied value (three values or more)."""
    ordered = [run for run in runs if isinstance(run.values[0], int | float) and not isinstance(run.values[0], bool)]
    if len(ordered) < 3:
        return ""
    ordered.sort(key=lambda run: run.values[0])
    sign = 1 if summary.direction == "max" else -1
    scores = [sign * (run.final or 0.0) for run in ordered]
    peak = max(range(len(scores)), key=scores.__getitem__)
    noise = _noise(summary, runs)
    subject, metric = hp_phrase(summary.varied[0]), metric_label(summary.objective)
    if 0 < peak < len(scores) - 1 and scores[peak] - max(scores[0], scores[-1]) > noise:
        return f"{metric.capitalize()} improved with the {subject} up to {ordered[peak].label} and fell beyond it."
    if scores[-1] - scores[0] > noise and peak == len(scores) - 1:
        return f"{metric.capitalize()} improved as the {subject} grew."
    if scores[0] - scores[-1] > noise and peak == 0:
        return f"{metric.capitalize()} got worse as the {subject} grew."
    return ""


def _marginals(summary: ExperimentSummary, runs: list[Run]) -> str:
    """For two varied hyperparameters: which one moved the average score more, with the averages."""
    effects = []
    for index, name in enumerate(summary.varied):
        groups: dict[str, list[float]] = {}
        for run in runs:
            groups.setdefault(value_text(run.values[index]), []).append(run.final or 0.0)
        means = {value: sum(scores) / len(scores) for value, scores in groups.items()}
        effects.append((max(means.values()) - min(means.values()), name, means))
    effects.sort(key=lambda effect: effect[0], reverse=True)
    _, name, means = effects[0]
    averages = ", ".join(f"{value}: {score_text(mean, summary.objective)}" for value, mean in means.items())
    other = hp_phrase(effects[1][1])
    text = f"{hp_phrase(name).capitalize()} mattered more (averaged over {other}: {averages})."
    return _join([text, _interaction(summary, runs)])


def _interaction(summary: ExperimentSummary, runs: list[Run]) -> str:
    """When the second hyperparameter's effect goes opposite ways for different values of the first."""
    noise = _noise(summary, runs)
    changes = []
    for first in summary.values[0]:
        row = {run.values[1]: run for run in runs if run.values[0] == first and run.values[1] is not None}
        ends = [row[value] for value in summary.values[1] if value in row]
        if len(ends) >= 2 and abs((ends[-1].final or 0.0) - (ends[0].final or 0.0)) > noise:
            changes.append((first, ends[0], ends[-1]))
    ups = [c for c in changes if (c[2].final or 0.0) > (c[1].final or 0.0)]
    downs = [c for c in changes if c not in ups]
    if not ups or not downs:
        return ""
    first, second = hp_phrase(summary.varied[0]), hp_phrase(summary.varied[1])
    steps = "; ".join(
        f"with {first} {value_text(value)}, {second} {value_text(a.values[1])} -> {value_text(b.values[1])} "
        f"took it from {score_text(a.final, summary.objective)} to {score_text(b.final, summary.objective)}"
        for value, a, b in (ups[0], downs[0])
    )
    return f"The effect of {second} depended on {first}: {steps}."


def _gap(summary: ExperimentSummary, runs: list[Run]) -> str:
    """The training-validation gap, where one value over-fits clearly and the gap changed with the values."""
    with_gap = [run for run in runs if run.gap is not None]
    if len(with_gap) < 2 or "acc" not in summary.objective:
        return ""
    widest = max(with_gap, key=lambda run: run.gap or 0.0)
    narrowest = min(with_gap, key=lambda run: run.gap or 0.0)
    wide, narrow = widest.gap or 0.0, narrowest.gap or 0.0
    if wide < OVERFIT_GAP or wide - narrow < max(GAP_EFFECT, 2 * _noise(summary, runs)):
        return ""
    text = f"The gap between training and validation accuracy was {number(round(wide, 2))} with {_who(summary, widest)}"
    if narrow < 0:
        during = ", which is measured with dropout on" if "dropout" in summary.varied else ""
        return f"{text}; with {_who(summary, narrowest)} validation scored above training{during}."
    return f"{text} and {number(round(narrow, 2))} with {_who(summary, narrowest)}."


def _peaks(summary: ExperimentSummary, runs: list[Run]) -> str:
    """Over-fitting: the validation score peaked well before the last epoch and fell back, or the validation
    loss rose again well above its lowest; said of the longest such run."""
    noise = _noise(summary, runs)
    sign = 1 if summary.direction == "max" else -1
    late = [
        run
        for run in runs
        if run.best_epoch is not None and run.best is not None and run.final is not None
        and run.best_epoch < run.epochs - 1 and sign * (run.best - run.final) > noise
    ]  # fmt: skip
    if late:
        run = max(late, key=lambda run: run.epochs)
        return (
            f"With {_who(summary, run)}, {metric_label(summary.objective)} peaked at "
            f"{score_text(run.best, summary.objective)} in epoch {run.best_epoch} and ended at "
            f"{score_text(run.final, summary.objective)}: more epochs over-fitted."
        )
    rising = [run for run in runs if _loss_rise(run) is not None]
    if not rising:
        return ""
    run = max(rising, key=lambda run: run.epochs)
    low_epoch, low, last = _loss_rise(run) or (0, 0.0, 0.0)
    return (
        f"With {_who(summary, run)} the validation loss was lowest in epoch {low_epoch} ({number(round(low, 3))}) "
        f"and rose to {number(round(last, 3))} by epoch {len(run.val_loss)}: the network began to memorise "
        "its training images (over-fitting)."
    )


def _loss_rise(run: Run) -> tuple[int, float, float] | None:
    """(epoch of the lowest validation loss, that loss, the last one) when it rose clearly after an early low."""
    losses = [v for v in run.val_loss if math.isfinite(v)]
    if len(losses) < 4 or len(losses) != len(run.val_loss):
        return None
    low_index = min(range(len(losses)), key=losses.__getitem__)
    if low_index >= len(losses) - 2 or losses[-1] < LOSS_RISE * losses[low_index]:
        return None
    return low_index + 1, losses[low_index], losses[-1]


def _times(summary: ExperimentSummary, runs: list[Run]) -> str:
    """Training time per run, where it changed by a clear factor."""
    timed = [run for run in runs if run.duration_s and run.duration_s > 0]
    if len(timed) < 2 or not COSTLY & set(summary.varied):
        return ""
    slow = max(timed, key=lambda run: run.duration_s or 0.0)
    fast = min(timed, key=lambda run: run.duration_s or 0.0)
    if (slow.duration_s or 0.0) < TIME_EFFECT * (fast.duration_s or 1.0):
        return ""
    return (
        f"Training took {duration(slow.duration_s or 0.0)} with {_who(summary, slow)} and "
        f"{duration(fast.duration_s or 0.0)} with {_who(summary, fast)}."
    )
