"""An experiment's figures: learning curves coloured by the varied value, final scores, a heatmap for two.

``experiment_curves_data`` computes an ``ExperimentCurves`` record (one validation and one training line
per run, a colour per value, the legend in the order the values were given); ``draw_experiment_curves``
draws it. ``final_scores_figure`` is a bar per value; ``heatmap_data``/``draw_heatmap`` the grid of final
scores when two hyperparameters vary (an empty cell where a combination does not exist).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from tuning.analysis.experiment import ExperimentSummary, Run, run_label, trial_curve, value_text
from tuning.analysis.text import hp_label, metric_label, score_text

HOW_CURVES = "Each colour is one value; solid lines are validation, dotted ones training. Higher is better."
HOW_FINAL = "The score each value reached at its last epoch; red bars failed."
HOW_HEATMAP = "Each cell is one combination of the two values; brighter is better."

FAILED_COLOR = "#c62828"


@dataclass(frozen=True)
class Line:
    """One run's values of one split per epoch."""

    label: str
    split: str  # "validation" or "train"
    color: str
    epochs: tuple[int, ...]
    values: tuple[float | None, ...]
    failed: bool


@dataclass(frozen=True)
class ExperimentCurves:
    """Everything the coloured learning-curves figure shows."""

    metric: str
    title: str
    lines: tuple[Line, ...]
    legend: tuple[tuple[str, str], ...]  # (label, colour) in the order the values were given


def value_colors(labels: list[str]) -> dict[str, str]:
    """A colour per label along a perceptually ordered scale (first value dark blue, last yellow)."""
    if len(labels) == 1:
        return {labels[0]: sample_colorscale("Viridis", [0.0])[0]}
    points = [0.9 * i / (len(labels) - 1) for i in range(len(labels))]
    return dict(zip(labels, sample_colorscale("Viridis", points), strict=True))


def ordered_labels(summary: ExperimentSummary) -> list[str]:
    """Every combination's label, in the order the values were given (first varied slowest)."""
    if len(summary.varied) == 1:
        combos = [(value,) for value in summary.values[0]]
    else:
        combos = [(a, b) for a in summary.values[0] for b in summary.values[1]]
    seen = {run.label for run in summary.runs}
    labels = [run_label(summary.varied, combo) for combo in combos]
    extra = [run.label for run in summary.runs if run.label not in labels]
    return [label for label in labels if label in seen] + extra


def experiment_curves_data(summary: ExperimentSummary, curves: pd.DataFrame) -> ExperimentCurves:
    """The record of the coloured learning curves of ``summary``'s runs, from the result's curves frame."""
    colors = value_colors(ordered_labels(summary) or ["-"])
    metric = summary.objective
    lines = []
    for run in summary.runs:
        color = colors.get(run.label, FAILED_COLOR)
        for split, name in (("validation", metric), ("train", metric.removeprefix("val_"))):
            epochs, values = _points(curves, run.trial_id, name)
            if epochs:
                lines.append(Line(run.label, split, color, epochs, values, run.status in ("FAILED", "INVALID")))
    legend = tuple((label, colors[label]) for label in ordered_labels(summary))
    subject = " and ".join(hp_label(name).lower() for name in summary.varied)
    title = f"{metric_label(metric).capitalize()} per epoch, one colour per {subject}"
    return ExperimentCurves(metric=metric, title=title, lines=tuple(lines), legend=legend)


def _points(curves: pd.DataFrame, trial_id: str, metric: str) -> tuple[tuple[int, ...], tuple[float | None, ...]]:
    curve = trial_curve(curves, trial_id, metric)
    return tuple(int(e) for e in curve.index), tuple(float(v) if math.isfinite(v) else None for v in curve)


def draw_experiment_curves(data: ExperimentCurves) -> go.Figure:
    """Solid validation lines and dotted training lines, one legend entry per value."""
    figure = go.Figure()
    shown: set[str] = set()
    for line in data.lines:
        first = line.label not in shown and line.split == "validation"
        if first:
            shown.add(line.label)
        figure.add_trace(
            go.Scatter(
                x=line.epochs,
                y=line.values,
                mode="lines+markers",
                name=line.label,
                legendgroup=line.label,
                showlegend=first,
                line={"color": line.color, "width": 3 if line.split == "validation" else 1.5,
                      "dash": "solid" if line.split == "validation" else "dot"},
                marker={"size": 6 if line.split == "validation" else 3},
                hovertemplate=f"{line.label} ({line.split})<br>epoch %{{x}}: %{{y:.3f}}<extra></extra>",
            )
        )  # fmt: skip
    figure.update_layout(
        title=data.title,
        xaxis_title="epoch",
        yaxis_title=f"{metric_label(data.metric)} (solid) and training (dotted)",
        legend_title="value",
        margin={"t": 60, "l": 60, "r": 20, "b": 50},
    )
    figure.update_xaxes(dtick=1)
    return figure


def final_scores_figure(summary: ExperimentSummary) -> go.Figure:
    """A bar per run: the final validation score, coloured like its curves; failed runs marked."""
    labels = ordered_labels(summary)
    colors = value_colors(labels or ["-"])
    by_label = {run.label: run for run in summary.runs}
    runs = [by_label[label] for label in labels]
    figure = go.Figure(
        go.Bar(
            x=[run.label for run in runs],
            y=[run.final if run.final is not None else 0.0 for run in runs],
            marker_color=[FAILED_COLOR if run.status == "FAILED" else colors[run.label] for run in runs],
            text=[_bar_text(summary, run) for run in runs],
            textposition="outside",
            hovertemplate="%{x}: %{y:.3f}<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"Final {metric_label(summary.objective)} per value",
        xaxis_title=" and ".join(hp_label(name).lower() for name in summary.varied),
        yaxis_title=metric_label(summary.objective),
        margin={"t": 60, "l": 60, "r": 20, "b": 50},
    )
    figure.update_xaxes(type="category")
    if "acc" in summary.objective:
        figure.update_yaxes(range=[0, 1.08])
    return figure


def _bar_text(summary: ExperimentSummary, run: Run) -> str:
    if run.status in ("FAILED", "INVALID"):
        return "failed"
    if run.final is None:
        return "running" if run.status == "RUNNING" else ""
    return score_text(run.final, summary.objective)


@dataclass(frozen=True)
class Heatmap:
    """Final scores on the grid of two varied hyperparameters (None where there is no finished run)."""

    x_name: str
    y_name: str
    x: tuple[str, ...]
    y: tuple[str, ...]
    z: tuple[tuple[float | None, ...], ...]
    text: tuple[tuple[str, ...], ...]


def heatmap_data(summary: ExperimentSummary) -> Heatmap:
    """The grid of final scores (rows: the first varied hyperparameter, columns: the second)."""
    ys = tuple(value_text(v) for v in summary.values[0])
    xs = tuple(value_text(v) for v in summary.values[1])
    cells: dict[tuple[str, str], Run] = {(value_text(r.values[0]), value_text(r.values[1])): r for r in summary.runs}
    z, text = [], []
    for y in ys:
        row = [cells.get((y, x)) for x in xs]
        z.append(tuple(run.final if run and run.finished else None for run in row))
        text.append(tuple(_cell_text(summary, run) for run in row))
    return Heatmap(summary.varied[1], summary.varied[0], xs, ys, tuple(z), tuple(text))


def _cell_text(summary: ExperimentSummary, run: Run | None) -> str:
    if run is None:
        return ""
    return _bar_text(summary, run)


def draw_heatmap(data: Heatmap, *, objective: str) -> go.Figure:
    """The heatmap, each cell labelled with its score."""
    figure = go.Figure(
        go.Heatmap(
            x=list(data.x),
            y=list(data.y),
            z=[list(row) for row in data.z],
            text=[list(row) for row in data.text],
            texttemplate="%{text}",
            colorscale="Viridis",
            colorbar={"title": metric_label(objective)},
            hovertemplate=f"{hp_label(data.y_name)} %{{y}}, {hp_label(data.x_name)} %{{x}}: %{{z:.3f}}<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"Final {metric_label(objective)} for each combination",
        xaxis_title=hp_label(data.x_name),
        yaxis_title=hp_label(data.y_name),
        margin={"t": 60, "l": 80, "r": 20, "b": 50},
    )
    figure.update_xaxes(type="category")
    figure.update_yaxes(type="category")
    return figure


def experiment_figures(summary: ExperimentSummary, curves: pd.DataFrame) -> list[tuple[str, str, str, go.Figure]]:
    """An experiment's figures as (name, title, how to read it, figure): the coloured learning curves, a heatmap
    when two hyperparameters varied, and the final scores; none before any epoch has finished."""
    if not len(curves):
        return []
    made = [
        (
            "curves",
            "Learning curves of each value",
            HOW_CURVES,
            draw_experiment_curves(experiment_curves_data(summary, curves)),
        ),
    ]
    if len(summary.varied) == 2:
        heatmap = draw_heatmap(heatmap_data(summary), objective=summary.objective)
        made.append(("heatmap", "Each combination's score", HOW_HEATMAP, heatmap))
    made.append(("final", "Final score of each value", HOW_FINAL, final_scores_figure(summary)))
    return made
