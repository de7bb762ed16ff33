"""Hyperband's brackets and rounds: who was trained for how long, and who was promoted.

``hyperband_data`` computes a ``HyperbandData`` record; ``draw_hyperband`` draws it; ``plot_hyperband``
does both. x is the epoch a trial trained up to (``hb:epochs``, log scale: Hyperband's budgets grow
geometrically), each bracket is a row, and within a round trials are spread vertically by score, the
best on top. A line joins a trial to the trial of the next round that continued from its weights
(``hb:parent``). Projects that did not use Hyperband give an empty record with a note. Trials chosen with
``highlight`` are ringed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from tuning.analysis.text import score_title
from tuning.plots.basics import selected_trace, svg_when_small
from tuning.results.model import ProjectResult

HB_COLUMNS = ("hb:bracket", "hb:round", "hb:parent", "hb:epochs")
SPREAD = 0.35  # trials of one round spread over bracket ± SPREAD
COLORSCALE = "Viridis"
UNSCORED_COLOR = "#9e9e9e"


@dataclass(frozen=True)
class HyperbandPoint:
    """One trial at (epochs, y): ``y`` is its bracket plus its place by score within its round."""

    trial_id: str
    label: str  # "trial 4"
    bracket: int
    round: int
    epochs: int
    y: float
    score: float | None
    status: str
    promoted: bool  # a trial of the next round continued from this one


@dataclass(frozen=True)
class Promotion:
    """A line from a trial to the trial of the next round that started from its weights."""

    parent: str
    child: str
    x: tuple[int, int]
    y: tuple[float, float]


@dataclass(frozen=True)
class HyperbandData:
    """Everything the Hyperband figure shows."""

    points: tuple[HyperbandPoint, ...]
    promotions: tuple[Promotion, ...]
    brackets: tuple[int, ...]
    epochs: tuple[int, ...]  # the distinct budgets, for the x ticks
    direction: str
    color_title: str
    title: str
    note: str = ""
    selected: tuple[str, ...] = ()  # ids of the highlighted trials among ``points``

    @property
    def reverse_colors(self) -> bool:
        return self.direction == "min"


def _offsets(frame: pd.DataFrame, direction: str) -> pd.Series:
    """Each trial's vertical place within its (bracket, round): evenly spread, the best score on top."""
    ascending = direction == "max"  # the last (largest offset) is the best
    ranked = frame.sort_values("score", ascending=ascending, na_position="first", kind="stable")
    groups = ranked.groupby(["hb:bracket", "hb:round"], sort=False)
    rank, size = groups.cumcount(), groups["score"].transform("size")
    spread = np.where(size > 1, -SPREAD + 2 * SPREAD * rank / (size - 1).clip(lower=1), 0.0)
    return pd.Series(np.round(spread, 12), index=ranked.index).reindex(frame.index)


def _empty(result: ProjectResult, note: str) -> HyperbandData:
    direction = result.objective.direction
    return HyperbandData(
        points=(),
        promotions=(),
        brackets=(),
        epochs=(),
        direction=direction,
        color_title=score_title(result.objective.name, direction),
        title="Hyperband brackets and rounds",
        note=note,
    )


def _points(frame: pd.DataFrame, direction: str) -> tuple[HyperbandPoint, ...]:
    offsets = _offsets(frame, direction)
    parents = set(frame["hb:parent"].dropna().astype(str))
    return tuple(
        HyperbandPoint(
            trial_id=str(trial_id),
            label=f"trial {row['number']}",
            bracket=int(row["hb:bracket"]),
            round=int(row["hb:round"]),
            epochs=int(row["hb:epochs"]),
            y=float(round(row["hb:bracket"] + offsets[trial_id], 12)),
            score=None if pd.isna(row["score"]) else float(row["score"]),
            status=str(row["status"]),
            promoted=str(trial_id) in parents,
        )
        for trial_id, row in frame.iterrows()
    )


def _promotions(points: tuple[HyperbandPoint, ...], frame: pd.DataFrame) -> tuple[Promotion, ...]:
    by_id = {p.trial_id: p for p in points}
    found = []
    for child in points:
        parent_id = frame.at[child.trial_id, "hb:parent"]
        parent = None if pd.isna(parent_id) else by_id.get(str(parent_id))
        if parent is not None:
            found.append(Promotion(parent.trial_id, child.trial_id, (parent.epochs, child.epochs), (parent.y, child.y)))
    return tuple(found)


def hyperband_data(result: ProjectResult, *, highlight: Sequence[str] = ()) -> HyperbandData:
    """The record of the figure, or an empty one with a note for a project that did not use Hyperband;
    ``highlight``: trial ids to ring (others ignored)."""
    if result.tuner != "hyperband" or not set(HB_COLUMNS) <= set(result.trials.columns):
        return _empty(result, f"This search did not use Hyperband (tuner: {result.tuner}): it has no brackets.")
    frame = result.trials.dropna(subset=["hb:bracket", "hb:round", "hb:epochs"])
    if frame.empty:
        return _empty(result, "No Hyperband trial has started yet.")
    points = _points(frame, result.objective.direction)
    promotions = _promotions(points, frame)
    brackets = tuple(sorted({p.bracket for p in points}))
    base = _empty(result, "")
    chosen = {str(t) for t in highlight}
    return HyperbandData(
        points=points,
        promotions=promotions,
        brackets=brackets,
        epochs=tuple(sorted({p.epochs for p in points})),
        direction=base.direction,
        color_title=base.color_title,
        title=(
            f"Hyperband: {len(points)} trials in {len(brackets)} "
            f"{'bracket' if len(brackets) == 1 else 'brackets'}, {len(promotions)} promoted to a next round"
        ),
        selected=tuple(p.trial_id for p in points if p.trial_id in chosen),
    )


def _hover(point: HyperbandPoint) -> str:
    score = "no score" if point.score is None else f"score {point.score:.4g}"
    return (
        f"{point.label} ({point.status.lower()})<br>bracket {point.bracket}, round {point.round}, "
        f"{point.epochs} epochs<br>{score}" + ("<br>promoted" if point.promoted else "")
    )


def _marker_traces(data: HyperbandData) -> list[go.Scattergl]:
    scored = [p for p in data.points if p.score is not None]
    other = [p for p in data.points if p.score is None]
    traces = []
    if scored:
        marker = {
            "color": [p.score for p in scored],
            "colorscale": COLORSCALE,
            "reversescale": data.reverse_colors,
            "showscale": True,
            "colorbar": {"title": {"text": data.color_title}},
            "size": [11 if p.promoted else 8 for p in scored],
            "line": {"width": 1, "color": "#333333"},
        }
        traces.append(_scatter(scored, "trials", marker))
    if other:
        traces.append(_scatter(other, "no score (failed or running)", {"color": UNSCORED_COLOR, "symbol": "x"}))
    return traces


def _scatter(points: list[HyperbandPoint], name: str, marker: dict) -> go.Scattergl:
    return go.Scattergl(
        x=[p.epochs for p in points],
        y=[p.y for p in points],
        mode="markers",
        name=name,
        marker=marker,
        text=[_hover(p) for p in points],
        hovertemplate="%{text}<extra></extra>",
    )


def draw_hyperband(data: HyperbandData) -> go.Figure:
    """The Plotly figure of a ``HyperbandData`` record."""
    figure = go.Figure(layout={"title": {"text": data.title}, "legend": {"orientation": "h", "y": -0.2}})
    if data.note:
        figure.add_annotation(text=data.note, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    if data.promotions:
        x = [v for p in data.promotions for v in (*p.x, None)]
        y = [v for p in data.promotions for v in (*p.y, None)]
        line = {"color": "rgba(80, 80, 80, 0.5)", "width": 1}
        figure.add_trace(go.Scattergl(x=x, y=y, mode="lines", name="promoted", line=line, hoverinfo="skip"))
    for trace in _marker_traces(data):
        figure.add_trace(trace)
    picked = [p for p in data.points if p.trial_id in data.selected]
    if picked:
        figure.add_trace(selected_trace([p.epochs for p in picked], [p.y for p in picked]))
    figure.update_xaxes(type="log", title={"text": "epochs trained"}, tickvals=list(data.epochs))
    figure.update_yaxes(
        title={"text": "bracket"}, tickvals=list(data.brackets), ticktext=[f"bracket {b}" for b in data.brackets]
    )
    return figure


def plot_hyperband(result: ProjectResult, *, highlight: Sequence[str] = ()) -> go.Figure:
    """Hyperband's brackets and rounds, with lines from each promoted trial to its continuation; the
    trials in ``highlight`` ringed."""
    return svg_when_small(draw_hyperband(hyperband_data(result, highlight=highlight)))
