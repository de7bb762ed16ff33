"""Learning curves: training and validation values of one metric per epoch, many trials overlaid.

``curves_data`` computes a ``CurvesData`` record; ``draw_curves`` draws it (thin translucent lines for
every trial, in one WebGL trace per split, and the highlighted trial on top); ``plot_curves`` does both.
The highlighted trial is the best one unless another is chosen (``trial_id``, or the first of ``highlight``);
every trial in ``highlight`` is drawn on top as well. With several executions per trial the
curves are their per-epoch mean, or every execution (``executions="all"``); the record says which, and
where the values come from (``result.curves_note``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from tuning.plots.basics import STATUS_COLORS, svg_when_small
from tuning.results.model import ProjectResult

SPLITS = ("train", "validation")
EXECUTIONS = ("mean", "all")
COLORS = {"train": "#1f77b4", "validation": "#ff7f0e"}
SOURCE_NOTES = {
    "engine": "Per-epoch values recorded during training by Hyperparameter Explorer.",
    "tensorboard": "Per-epoch values read from the TensorBoard logs in the project.",
    "best_epoch": "Keras Tuner kept no history: only each trial's best epoch is known (one point per trial).",
    "none": "No per-epoch values were recorded for this project.",
}


@dataclass(frozen=True)
class Curve:
    """One line: a trial's values of one split per epoch (one execution, or their mean)."""

    trial_id: str
    label: str  # "trial 3"
    split: str  # "train" or "validation"
    execution: int | None  # None: the mean over the trial's executions
    epochs: tuple[int, ...]
    values: tuple[float, ...]
    highlighted: bool = False


@dataclass(frozen=True)
class CurvesData:
    """Everything the learning-curves figure shows."""

    metric: str  # "loss", "accuracy", ...
    curves: tuple[Curve, ...]
    highlighted: str | None  # trial id
    highlight_label: str  # "trial 3 (best)"
    executions: str  # "mean" or "all"
    executions_note: str
    source: str
    source_note: str
    markers: bool  # draw points, not lines (only one point per trial is known)
    title: str
    note: str = ""
    selected: tuple[str, ...] = ()  # trial ids highlighted besides ``highlighted``
    pruned_ends: tuple[tuple[str, int, float], ...] = ()  # (label, epoch, validation value) of pruned trials


def _labels(result: ProjectResult) -> dict[str, str]:
    return {str(i): f"trial {n}" for i, n in result.trials["number"].items()}


def _check(result: ProjectResult, executions: str, trial_id: str | None) -> None:
    if executions not in EXECUTIONS:
        raise ValueError(f"executions must be one of {', '.join(EXECUTIONS)}; found {executions!r}.")
    if trial_id is not None and trial_id not in result.trials.index:
        raise ValueError(f"No trial {trial_id!r} in {result.name}.")


def _executions_note(result: ProjectResult, metric: str, executions: str) -> str:
    curves = result.curves
    frame = curves[curves["metric"].isin([metric, "val_" + metric])]
    most = int(frame.groupby("trial_id")["execution"].nunique().max()) if not frame.empty else 0
    if most <= 1:
        return "one execution per trial"
    if executions == "mean":
        return f"mean of each trial's executions (up to {most}) per epoch"
    return f"every execution shown (up to {most} per trial)"


def _points(result: ProjectResult, metric: str, executions: str) -> pd.DataFrame:
    """The metric's points, averaged over executions if asked, sorted by trial, split, execution, epoch."""
    curves = result.curves
    frame = curves[curves["metric"].isin([metric, "val_" + metric]) & curves["value"].notna()]
    frame = frame.assign(split=np.where(frame["metric"] == metric, "train", "validation"))
    keys = ["trial_id", "split", "execution", "epoch"]
    if executions == "mean":
        frame = frame.groupby(["trial_id", "split", "epoch"], as_index=False, sort=False)["value"].mean()
        frame["execution"] = -1
    order = {str(t): i for i, t in enumerate(result.trials.index)}
    rank = frame["trial_id"].astype(str).map(order).fillna(len(order))
    return frame.assign(rank=rank).sort_values(["rank", *keys], kind="stable")


def _curves(frame: pd.DataFrame, labels: dict[str, str], highlighted: set[str]) -> tuple[Curve, ...]:
    ids = frame["trial_id"].astype(str).to_numpy()
    splits, runs = frame["split"].to_numpy(), frame["execution"].to_numpy()
    epochs, values = frame["epoch"].to_numpy(), frame["value"].to_numpy()
    change = (ids[1:] != ids[:-1]) | (splits[1:] != splits[:-1]) | (runs[1:] != runs[:-1])
    if not len(ids):
        return ()
    starts = [0, *(np.flatnonzero(change) + 1).tolist()]
    curves = []
    for start, end in zip(starts, [*starts[1:], len(ids)], strict=True):
        trial_id = ids[start]
        curves.append(
            Curve(
                trial_id=trial_id,
                label=labels.get(trial_id, f"trial {trial_id}"),
                split=str(splits[start]),
                execution=None if runs[start] < 0 else int(runs[start]),
                epochs=tuple(int(e) for e in epochs[start:end]),
                values=tuple(float(v) for v in values[start:end]),
                highlighted=trial_id in highlighted,
            )
        )
    return tuple(curves)


def curves_data(
    result: ProjectResult,
    metric: str = "loss",
    *,
    trial_id: str | None = None,
    executions: str = "mean",
    highlight: Sequence[str] = (),
) -> CurvesData:
    """The record of the figure for ``metric`` ("loss", "accuracy"; a "val_" prefix is ignored).

    ``highlight``: trial ids drawn on top (ids not in ``result`` are ignored); the first one is the main
    highlighted trial unless ``trial_id`` is given.
    """
    _check(result, executions, trial_id)
    metric = metric.removeprefix("val_")
    selected = tuple(dict.fromkeys(str(t) for t in highlight if str(t) in result.trials.index))
    highlighted = trial_id if trial_id is not None else (selected[0] if selected else result.best_trial_id)
    labels = _labels(result)
    frame = _points(result, metric, executions)
    curves = _curves(frame, labels, {t for t in (highlighted, *selected) if t is not None})
    highlight_label = "" if highlighted is None else labels.get(highlighted, f"trial {highlighted}")
    if highlighted is not None and highlighted == result.best_trial_id:
        highlight_label += " (best)"
    n_trials = len({c.trial_id for c in curves})
    count = f"{n_trials} {'trial' if n_trials == 1 else 'trials'}"
    return CurvesData(
        metric=metric,
        curves=curves,
        highlighted=highlighted,
        highlight_label=highlight_label,
        executions=executions,
        executions_note=_executions_note(result, metric, executions),
        source=result.curves_source,
        source_note=result.curves_note or SOURCE_NOTES.get(result.curves_source, ""),
        markers=result.curves_source == "best_epoch",
        title=f"Learning curves: {metric}, training and validation ({count})",
        note="" if curves else f"No per-epoch {metric} values for this project yet.",
        selected=tuple(t for t in selected if t != highlighted),
        pruned_ends=_pruned_ends(curves, set(result.pruned.index)),
    )


def _pruned_ends(curves: tuple[Curve, ...], pruned: set[str]) -> tuple[tuple[str, int, float], ...]:
    """Where each pruned trial's validation curve stops (pruning ended it there)."""
    return tuple(
        (c.label, c.epochs[-1], c.values[-1])
        for c in curves
        if c.trial_id in pruned and c.split == "validation" and c.epochs and c.execution in (None, 0)
    )


def _joined(curves: list[Curve]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every curve's points in one set of arrays, a NaN between two curves (a gap in the line)."""
    total = sum(len(c.epochs) + 1 for c in curves)
    x, y = np.full(total, np.nan), np.full(total, np.nan)
    text = np.full(total, None, dtype=object)
    start = 0
    for curve in curves:
        end = start + len(curve.epochs)
        x[start:end], y[start:end] = curve.epochs, curve.values
        run = "" if curve.execution is None else f", execution {curve.execution + 1}"
        text[start:end] = curve.label + run
        start = end + 1
    return x, y, text


def _background(data: CurvesData, split: str) -> go.Scattergl | None:
    """Every trial's line of one split in a single trace (numpy arrays: fast with thousands of trials)."""
    curves = [c for c in data.curves if c.split == split]
    if not curves:
        return None
    x, y, text = _joined(curves)
    return go.Scattergl(
        x=x,
        y=y,
        text=text,
        mode="markers" if data.markers else "lines+markers",
        name=f"{split} (all trials)",
        line={"color": COLORS[split], "width": 1},
        marker={"color": COLORS[split], "size": 5 if data.markers else 3},
        opacity=0.25,
        hovertemplate="%{text}<br>epoch %{x}: %{y:.4g}<extra>" + split + "</extra>",
    )


def _highlight(data: CurvesData, curve: Curve) -> go.Scattergl:
    run = "" if curve.execution is None else f" #{curve.execution + 1}"
    label = data.highlight_label if curve.trial_id == data.highlighted else curve.label
    return go.Scattergl(
        x=list(curve.epochs),
        y=list(curve.values),
        mode="lines+markers",
        name=f"{label}: {curve.split}{run}",
        line={"color": COLORS[curve.split], "width": 3},
        marker={"color": COLORS[curve.split], "size": 6},
        hovertemplate=f"{label}<br>epoch %{{x}}: %{{y:.4g}}<extra>{curve.split}</extra>",
    )


def _epoch_step(data: CurvesData) -> int:
    """Whole-epoch ticks, about ten of them at most."""
    last = max((max(c.epochs) for c in data.curves if c.epochs), default=1)
    return max(1, math.ceil(last / 10))


def draw_curves(data: CurvesData) -> go.Figure:
    """The Plotly figure of a ``CurvesData`` record."""
    notes = " ".join(filter(None, [data.source_note, f"Curves: {data.executions_note}." if data.curves else ""]))
    figure = go.Figure(
        layout={
            "title": {"text": f"{data.title}<br><sup>{notes}</sup>"},
            "xaxis": {"title": {"text": "epoch"}, "tick0": 1, "dtick": _epoch_step(data)},
            "yaxis": {"title": {"text": data.metric}},
            "legend": {"orientation": "h", "y": -0.2},
        }
    )
    for split in SPLITS:
        trace = _background(data, split)
        if trace is not None:
            figure.add_trace(trace)
    for curve in data.curves:
        if curve.highlighted:
            figure.add_trace(_highlight(data, curve))
    if data.pruned_ends:
        labels, epochs, values = zip(*data.pruned_ends, strict=True)
        figure.add_trace(
            go.Scattergl(
                x=epochs, y=values, mode="markers", name="pruned: stopped here", text=labels,
                marker={"symbol": "x", "size": 9, "color": STATUS_COLORS["PRUNED"]},
                hovertemplate="%{text} was pruned after epoch %{x}<extra></extra>",
            )
        )  # fmt: skip
    if data.note:
        figure.add_annotation(text=data.note, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return figure


def plot_curves(
    result: ProjectResult,
    metric: str = "loss",
    *,
    trial_id: str | None = None,
    executions: str = "mean",
    highlight: Sequence[str] = (),
) -> go.Figure:
    """Learning curves of every trial for ``metric``, the best trial (or ``trial_id``, or the trials in
    ``highlight``) drawn on top."""
    return svg_when_small(
        draw_curves(curves_data(result, metric, trial_id=trial_id, executions=executions, highlight=highlight))
    )
