"""What pruning did in a search: how many trials it stopped early and how many epochs that saved."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tuning.results.model import HP_PREFIX, ProjectResult

PRUNED_KIND = "pruned_trials"


@dataclass(frozen=True)
class PrunedSummary:
    """Trials stopped early, the epochs they trained and the epochs they would have trained."""

    pruned: int
    finished: int
    epochs_trained: int
    epochs_planned: int

    @property
    def epochs_saved(self) -> int:
        return max(0, self.epochs_planned - self.epochs_trained)


def pruned_summary(result: ProjectResult) -> PrunedSummary | None:
    """None when no trial was pruned; epochs come from the learning curves and the trials' ``epochs``."""
    pruned = result.pruned
    if pruned.empty:
        return None
    finished = int(result.trials["status"].isin(("COMPLETED", "PRUNED")).sum())
    curves = result.curves
    trained = curves[curves["trial_id"].isin(pruned.index)].groupby("trial_id")["epoch"].max()
    planned_column = f"{HP_PREFIX}epochs"
    planned = pd.to_numeric(pruned.get(planned_column, pd.Series(dtype=float)), errors="coerce")
    epochs_planned = int(planned.fillna(0).sum())
    return PrunedSummary(len(pruned), finished, int(trained.sum()), max(epochs_planned, int(trained.sum())))


def pruned_text(summary: PrunedSummary) -> str:
    """One plain sentence about ``summary``."""
    saved = summary.epochs_saved
    share = f" ({saved / summary.epochs_planned:.0%} of their epochs)" if summary.epochs_planned else ""
    return (
        f"Pruning stopped {summary.pruned} of {summary.finished} finished trials early, saving {saved} epochs"
        f"{share}. Their scores are what they reached when stopped: they were behind the others at that epoch, "
        "so they are left out of the effect and importance estimates."
    )
