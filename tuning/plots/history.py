"""Trial scores over the search, coloured by status, with the best score so far as a step line.

Finished trials without a score (failed, diverged) are drawn as markers on a line just below the lowest
score, so that they keep their place in time. A running trial without a score yet is left out (it has no
value to draw; the best-so-far line still passes its place), so the axis fits the real scores.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from tuning.analysis.common import UNFINISHED_STATUSES
from tuning.analysis.history import History, best_so_far
from tuning.analysis.text import score_title
from tuning.plots.basics import (
    BEST_COLOR,
    STATUS_COLORS,
    STATUS_SYMBOLS,
    hp_lines,
    selected_ids,
    selected_trace,
    svg_when_small,
    time_unit,
    value_text,
)
from tuning.results.model import STATUSES, ProjectResult


@dataclass(frozen=True)
class StatusPoints:
    """The trials of one status; ``scored`` False means drawn on the no-score line."""

    name: str
    status: str
    scored: bool
    x: tuple[float, ...]
    y: tuple[float, ...]
    hover: tuple[str, ...]


TRIAL_NUMBER = "Trial number"


@dataclass(frozen=True)
class HistoryPlot:
    title: str
    x_title: str
    y_title: str
    points: tuple[StatusPoints, ...]
    best_x: tuple[float, ...]
    best_y: tuple[float | None, ...]
    no_score_y: float | None
    notice: str
    selected_x: tuple[float, ...] = ()  # the trials chosen with ``highlight``, where they are drawn
    selected_y: tuple[float, ...] = ()


def no_score_line(scores: np.ndarray) -> float:
    """Where trials without a score are drawn: 5% of the score range below the lowest score."""
    known = scores[np.isfinite(scores)]
    if not len(known):
        return 0.0
    low, high = float(known.min()), float(known.max())
    return low - 0.05 * ((high - low) or abs(low) or 1.0)


def hover_texts(result: ProjectResult, history: History, rows: Sequence[int] | None = None) -> list[str]:
    """One hover text per trial (or per position in ``rows``): id, number, status, score, best so far,
    hyperparameters, failure message."""
    rows = range(len(history.trial_ids)) if rows is None else rows
    trials = result.trials.loc[[history.trial_ids[i] for i in rows]]
    settings = hp_lines(trials, result.space)
    messages = trials["message"].tolist()
    name = history.objective
    texts = []
    for j, i in enumerate(rows):
        trial_id = history.trial_ids[i]
        score = "no score" if history.scores[i] is None else value_text(history.scores[i])
        best = "none yet" if history.best[i] is None else value_text(history.best[i])
        message = f"<br>{messages[j]}" if isinstance(messages[j], str) and messages[j] else ""
        texts.append(
            f"Trial {trial_id} (#{history.numbers[i]}) · {history.statuses[i]}<br>{name}: {score}"
            f"<br>best so far: {best}{settings[j]}{message}"
        )
    return texts


def _best_line(x: np.ndarray, best: tuple[float | None, ...]) -> tuple[tuple[float, ...], tuple[float | None, ...]]:
    """The best-so-far step line reduced to its corners: the first point, each change, the last point."""
    keep = [i for i in range(len(best)) if i in (0, len(best) - 1) or best[i] != best[i - 1]]
    return tuple(x[keep].tolist()), tuple(best[i] for i in keep)


def _points(
    statuses: np.ndarray, x: np.ndarray, scores: np.ndarray, hover: np.ndarray, shown: np.ndarray, line: float
) -> tuple[StatusPoints, ...]:
    """The ``shown`` trials grouped by status, scored ones at their score, the others on the no-score line."""
    points = []
    for status in (*STATUSES, *sorted(set(statuses.tolist()) - set(STATUSES))):
        for scored in (True, False):
            mask = (statuses == status) & (np.isfinite(scores) == scored) & shown
            if mask.any():
                name = status.capitalize() if scored or status != "COMPLETED" else "Completed, no score"
                y = scores[mask] if scored else np.full(int(mask.sum()), line)
                points.append(
                    StatusPoints(
                        name, status, scored, tuple(x[mask].tolist()), tuple(y.tolist()), tuple(hover[mask].tolist())
                    )
                )
    return tuple(points)


def history_data(
    result: ProjectResult,
    *,
    by: str = "number",
    highlight: Sequence[str] = (),
    drawn: Collection[str] | None = None,
) -> HistoryPlot:
    """The points and best-so-far line of ``result``'s trials, by trial number or by wall time.

    ``highlight``: trial ids to ring (ids not in ``result`` are ignored). ``drawn``: the trials to draw as
    points (None: all); the best-so-far line still follows every trial, reduced to its corners.
    """
    history = best_so_far(result, by=by)
    size, unit = time_unit(max(history.x, default=0.0)) if history.x_kind == "time" else (1.0, "")
    x = np.array(history.x, dtype=float) / size
    scores = np.array([np.nan if s is None else s for s in history.scores], dtype=float)
    line = no_score_line(scores)
    statuses = np.array(history.statuses, dtype=object)
    waiting = np.isin(statuses, UNFINISHED_STATUSES) & ~np.isfinite(scores)  # running, no score yet
    shown = np.ones(len(x), dtype=bool) if drawn is None else np.isin(np.array(history.trial_ids), list(drawn))
    shown &= ~waiting
    hover = np.full(len(x), "", dtype=object)
    hover[shown] = hover_texts(result, history, np.flatnonzero(shown).tolist())
    points = _points(statuses, x, scores, hover, shown, line)
    x_title = TRIAL_NUMBER if history.x_kind == "number" else f"Time since the search started ({unit})"
    chosen = np.isin(np.array(history.trial_ids, dtype=object), list(selected_ids(result.trials, highlight)))
    chosen &= ~waiting
    placed = np.where(np.isfinite(scores), scores, line)
    best_x, best_y = (tuple(x.tolist()), history.best) if drawn is None else _best_line(x, history.best)
    return HistoryPlot(
        title=f"{history.objective} of each trial and best so far",
        x_title=x_title,
        y_title=score_title(history.objective, history.direction),
        points=points,
        best_x=best_x,
        best_y=best_y,
        no_score_y=line if any(not p.scored for p in points) else None,
        notice=history.notice or ("No trial has a score yet." if waiting.any() and not points else ""),
        selected_x=tuple(x[chosen].tolist()),
        selected_y=tuple(placed[chosen].tolist()),
    )


def draw_history(data: HistoryPlot) -> go.Figure:
    """Scattergl markers per status, the best-so-far step line, the no-score line labelled."""
    figure = go.Figure()
    for group in data.points:
        figure.add_trace(
            go.Scattergl(
                x=group.x,
                y=group.y,
                mode="markers",
                name=group.name,
                hovertext=group.hover,
                hoverinfo="text",
                marker={
                    "color": STATUS_COLORS.get(group.status, "#7f7f7f"),
                    "symbol": STATUS_SYMBOLS.get(group.status, "circle") if group.scored else "x",
                    "size": 7 if group.scored else 8,
                    "opacity": 0.75,
                },
            )
        )
    figure.add_trace(
        go.Scattergl(
            x=data.best_x,
            y=data.best_y,
            mode="lines",
            name="Best so far",
            hoverinfo="skip",
            line={"shape": "hv", "color": BEST_COLOR, "width": 2},
        )
    )
    if data.selected_x:
        figure.add_trace(selected_trace(data.selected_x, data.selected_y))
    if data.no_score_y is not None:
        figure.add_hline(
            y=data.no_score_y,
            line={"dash": "dot", "color": "#bbbbbb"},
            annotation_text="no score",
            annotation_position="bottom left",
        )
    figure.update_layout(
        title={"text": data.title},
        xaxis_title=data.x_title,
        yaxis_title=data.y_title,
        hovermode="closest",
        legend={"orientation": "h", "y": -0.2},
    )
    if data.x_title == TRIAL_NUMBER:  # whole trial numbers only, about ten ticks at most
        last = max((max(p.x) for p in data.points if p.x), default=1)
        figure.update_xaxes(tick0=1, dtick=max(1, math.ceil(last / 10)))
    if data.notice:
        figure.add_annotation(text=data.notice, xref="paper", yref="paper", x=0, y=1.05, showarrow=False)
    return figure


def plot_history(
    result: ProjectResult,
    *,
    by: str = "number",
    highlight: Sequence[str] = (),
    drawn: Collection[str] | None = None,
) -> go.Figure:
    """Trial scores and the best so far, by trial number (``by="number"``) or wall time (``by="time"``);
    the trials in ``highlight`` ringed; only the trials in ``drawn`` as points (None: every trial)."""
    return svg_when_small(draw_history(history_data(result, by=by, highlight=highlight, drawn=drawn)))
