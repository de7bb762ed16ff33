"""Figures whose size is bounded whatever the number of trials: beyond a cap, a sample is drawn.

Each ``bounded_*`` builder draws at most its cap of trials (``tuning.analysis.sampling.sample_trials``:
every highlighted trial, the best ones, and a stratified sample of the rest) and says so under the title
("2,000 of 100,000 trials drawn: the best 200, a sample of the rest ..."). What is computed from every
trial stays so: the best-so-far line follows every trial, the colour scale of parallel coordinates keeps
the best score. What the sample hides: single unusual trials (outliers) that are neither among the best nor
drawn, the density of points (a sample of 2,000 looks as dense as 2,000 trials), and, in the slices and the
learning curves, the exact trend (computed from the sample, slightly raised by the best trials kept).

Caps: a Plotly point costs about 40 bytes of JSON with its hover text around 200 more; 2,000 points keep
a scatter under ~0.5 MB, 1,000 lines are already a solid band in parallel coordinates, and 300 learning
curves (two splits, every epoch) stay under ~0.5 MB for searches of up to ~50 epochs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import plotly.graph_objects as go

from tuning.analysis.sampling import TrialSample, sample_trials
from tuning.plots.curves import plot_curves
from tuning.plots.history import plot_history
from tuning.plots.hyperband import plot_hyperband
from tuning.plots.parallel import plot_parallel
from tuning.plots.slices import plot_slices
from tuning.results.model import ProjectResult

POINTS_CAP = 2_000  # points of a scatter: best so far, hyperband brackets
SLICE_CAP = 1_000  # points of each slice (a project has one slice per varying hyperparameter)
LINES_CAP = 1_000  # lines of parallel coordinates
CURVES_CAP = 300  # trials of the learning curves
TOP_SHARE = 0.1  # the best cap * TOP_SHARE trials are always drawn


def sample_of(
    result: ProjectResult,
    *,
    cap: int,
    highlight: Sequence[str] = (),
    completed_only: bool = False,
    top_share: float = TOP_SHARE,
) -> TrialSample:
    """The trials of ``result`` (only its completed ones with ``completed_only``) a chart of ``cap`` draws."""
    trials = result.completed if completed_only else result.trials
    return sample_trials(
        trials, direction=result.objective.direction, cap=cap, top=int(cap * top_share), highlight=highlight
    )


def restricted(result: ProjectResult, sample: TrialSample) -> ProjectResult:
    """``result`` with only the sampled trials and their curves (``result`` itself when nothing is left out)."""
    if not sample.sampled:
        return result
    trials = result.trials.loc[list(sample.ids)]
    curves = result.curves[result.curves["trial_id"].isin(sample.ids)]  # trial ids are text, as in the index
    return dataclasses.replace(result, trials=trials, curves=curves)


def noted(figure: go.Figure, sample: TrialSample) -> go.Figure:
    """``figure`` with the sample's notice under its title (unchanged when every trial is drawn)."""
    if not sample.sampled:
        return figure
    subtitle = figure.layout.title.subtitle.text
    text = sample.notice() if not subtitle else f"{subtitle}<br>{sample.notice()}"
    figure.update_layout(title_subtitle_text=text, margin_t=110)
    return figure


def bounded_history(
    result: ProjectResult, *, highlight: Sequence[str] = (), by: str = "number", cap: int | None = None
) -> go.Figure:
    """``plot_history`` drawing at most ``cap`` (``POINTS_CAP``) trials as points; the best-so-far line follows
    every trial."""
    sample = sample_of(result, cap=cap or POINTS_CAP, highlight=highlight)
    drawn = sample.ids if sample.sampled else None
    return noted(plot_history(result, by=by, highlight=highlight, drawn=drawn), sample)


def bounded_parallel(result: ProjectResult, *, highlight: Sequence[str] = (), cap: int | None = None) -> go.Figure:
    """``plot_parallel`` of at most ``cap`` (``LINES_CAP``) completed trials."""
    sample = sample_of(result, cap=cap or LINES_CAP, highlight=highlight, completed_only=True)
    return noted(plot_parallel(restricted(result, sample), highlight=highlight), sample)


def bounded_curves(
    result: ProjectResult,
    metric: str,
    *,
    highlight: Sequence[str] = (),
    trial_id: str | None = None,
    cap: int | None = None,
) -> go.Figure:
    """``plot_curves`` of at most ``cap`` (``CURVES_CAP``) trials (``trial_id`` and ``highlight`` among them)."""
    kept = [*([trial_id] if trial_id is not None else []), *highlight]
    sample = sample_of(result, cap=cap or CURVES_CAP, highlight=kept)
    return noted(plot_curves(restricted(result, sample), metric, trial_id=trial_id, highlight=highlight), sample)


def trial_curves(result: ProjectResult, trial_id: str, metric: str) -> go.Figure:
    """``plot_curves`` of one trial alone (the running one, on the monitor)."""
    only = TrialSample((trial_id,), len(result.trials), highlighted=1)
    return plot_curves(restricted(result, only), metric, trial_id=trial_id)


def bounded_slices(
    result: ProjectResult, *, highlight: Sequence[str] = (), cap: int | None = None
) -> tuple[go.Figure, ...]:
    """``plot_slices`` of at most ``cap`` (``SLICE_CAP``) completed trials (few of the best kept, so that the
    trend stays fair)."""
    sample = sample_of(result, cap=cap or SLICE_CAP, highlight=highlight, completed_only=True, top_share=0.01)
    return tuple(noted(f, sample) for f in plot_slices(restricted(result, sample), highlight=highlight))


def bounded_hyperband(result: ProjectResult, *, highlight: Sequence[str] = (), cap: int | None = None) -> go.Figure:
    """``plot_hyperband`` of at most ``cap`` (``POINTS_CAP``) trials."""
    sample = sample_of(result, cap=cap or POINTS_CAP, highlight=highlight)
    return noted(plot_hyperband(restricted(result, sample), highlight=highlight), sample)
