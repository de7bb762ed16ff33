"""``to_html``: a self-contained report of a search that opens offline (plotly.js embedded once).

It holds the summary, the best trial's values, findings and notices, the main figures (progress,
parallel coordinates, importance by permutation and by PED-ANOVA, learning curves, Hyperband's brackets) and
the best trials' table.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go

from tuning.analysis.anova import MEASURES as ANOVA_MEASURES
from tuning.analysis.anova import optuna_importance
from tuning.analysis.experiment import ExperimentSummary, experiment_of, varied_parts
from tuning.analysis.findings import findings
from tuning.analysis.importance import MEASURES as PERMUTATION_MEASURES
from tuning.analysis.importance import Importance, importance
from tuning.export.tables import best_trial, summary, trial_table
from tuning.plots.curves import plot_curves
from tuning.plots.experiment import experiment_figures
from tuning.plots.history import plot_history
from tuning.plots.hyperband import plot_hyperband
from tuning.plots.importance import plot_importance
from tuning.plots.parallel import plot_parallel
from tuning.results.model import ProjectResult

TOP_TRIALS = 20
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #f3f3f3; }
.warning { color: #8a4b00; } .muted { color: #666; font-size: 0.9rem; }
.conclusion { background: #eef4fb; padding: 0.5rem 0.8rem; border-radius: 4px; }
"""


def _rows(pairs: list[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(_cell(v))}</td></tr>" for k, v in pairs)
    return f"<table>{cells}</table>"


def _cell(value: Any) -> str:
    """Floats with 4 significant digits (a learning rate of 0.0069203, not 0.006920301976933861)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _summary_html(result: ProjectResult) -> str:
    info = summary(result)
    counts = info["trials"]
    done = ", ".join(f"{n} {status}" for status, n in counts.items() if status != "total" and n)
    objective = info["objective"]
    best = info["best"]
    pairs = [
        ("Folder", info["project_dir"]),
        ("Tuner", info["tuner"] + (" (inferred)" if info["tuner_inferred"] else "")),
        ("Objective", f"{objective['name']} ({'higher' if objective['direction'] == 'max' else 'lower'} is better)"),
        ("Trials", f"{counts['total']}" + (f" ({done})" if done else "")),
        ("Best score", "-" if best is None else f"{best['score']:.6g} (trial {best['number']}, id {best['trial_id']})"),
        ("Learning curves", result.curves_note or result.curves_source),
    ]
    return "<h2>Summary</h2>" + _rows(pairs)


def _best_html(result: ProjectResult) -> str:
    best = best_trial(result)
    if best is None:
        return "<h2>Best configuration</h2><p>No trial has completed yet.</p>"
    return "<h2>Best configuration</h2>" + _rows(list(best["hyperparameters"].items()))


def _notes_html(result: ProjectResult, found: Sequence[Any]) -> str:
    items = []
    for finding in found:
        css = ' class="warning"' if getattr(finding, "severity", "") == "warning" else ""
        items.append(f"<li{css}>{html.escape(finding.text)}</li>")
    items += [f"<li>{html.escape(str(notice))}</li>" for notice in result.notices]
    if not items:
        return ""
    return "<h2>Findings and notices</h2><ul>" + "".join(items) + "</ul>"


def figures(result: ProjectResult, importances: Importance) -> list[tuple[str, str, go.Figure]]:
    """The report's figures: (title, what it shows, figure). Importance twice, as on the analyse page: the
    random forest's permutation importance (``importances``) beside Optuna's PED-ANOVA."""
    metric = result.objective.name.removeprefix("val_")
    plan: list[tuple[str, str, Callable[[ProjectResult], go.Figure]]] = [
        ("Progress: best score so far", "", plot_history),
        ("Parallel coordinates", "", plot_parallel),
        (
            "Which hyperparameters matter: permutation importance",
            PERMUTATION_MEASURES,
            lambda r: plot_importance(r, importances=importances),
        ),
        (
            "Which hyperparameters matter: PED-ANOVA",
            ANOVA_MEASURES["ped-anova"],
            lambda r: plot_importance(r, importances=optuna_importance(r)),
        ),
        (f"Learning curves: {metric}", "", lambda r: plot_curves(r, metric)),
    ]
    if metric != "loss":
        plan.append(("Learning curves: loss", "", lambda r: plot_curves(r, "loss")))
    if result.tuner == "hyperband":
        plan.append(("Hyperband brackets and rounds", "", plot_hyperband))
    return [(title, caption, build(result)) for title, caption, build in plan]


def _experiment_html(result: ProjectResult, summary: ExperimentSummary) -> tuple[str, bool]:
    """The experiment's view, as the analyse page opens it: what varied, the conclusion and its figures (the
    first of them embeds plotly.js); and whether it drew any figure."""
    varied = "; ".join(
        f"<b>{html.escape(label)}</b> = {html.escape(values)}" for label, values in varied_parts(summary)
    )
    conclusion = summary.conclusion or "Waiting for the first run to finish."
    made = [
        (f"Experiment: {title.lower()}", how, figure)
        for _, title, how, figure in experiment_figures(summary, result.curves)
    ]
    text = (
        f"<h2>Experiment</h2><p>Varied {varied}; everything else as in: {html.escape(summary.base)}.</p>"
        f'<p class="conclusion">{html.escape(conclusion)}</p>'
    )
    return text + _figures_html(made), bool(made)


def _figures_html(made: list[tuple[str, str, go.Figure]], *, plotly_embedded: bool = False) -> str:
    parts = []
    for i, (title, caption, figure) in enumerate(made):
        embed = i == 0 and not plotly_embedded
        body = figure.to_html(full_html=False, include_plotlyjs=embed, config={"displaylogo": False})
        about = f'<p class="muted">{html.escape(caption)}</p>' if caption else ""
        parts.append(f"<h2>{html.escape(title)}</h2>{about}{body}")
    return "".join(parts)


def _trials_html(result: ProjectResult) -> str:
    table = trial_table(result)
    done = table[table["trial_id"].isin(result.completed.index)]
    ascending = result.objective.direction == "min"
    top = done.sort_values("score", ascending=ascending, kind="stable").head(TOP_TRIALS)
    drop = [c for c in ("started_at", "ended_at", "message") if c in top.columns]
    body = top.drop(columns=drop).to_html(index=False, na_rep="", escape=True, border=0)
    return f"<h2>Best trials (up to {TOP_TRIALS})</h2>{body}"


def to_html(result: ProjectResult) -> str:
    """A whole HTML page about the search, readable offline: plotly.js is embedded in the page once."""
    importances = importance(result)
    found = findings(result, importances=importances)
    made = figures(result, importances)
    experiment = experiment_of(result)
    lead, embedded = _experiment_html(result, experiment) if experiment is not None else ("", False)
    title = html.escape(f"Hyperparameter search: {result.name}")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{title}</h1>"
        f'<p class="muted">Report written by Hyperparameter Explorer on {time.strftime("%Y-%m-%d %H:%M")}.</p>'
        f"{_summary_html(result)}{_best_html(result)}{_notes_html(result, found)}{lead}"
        f"{_figures_html(made, plotly_embedded=embedded)}"
        f"{_trials_html(result)}</body></html>\n"
    )
