"""Pruning settings (early stopping of unpromising trials) and what they can save, before anything runs.

The rules themselves run in the search process (``tuning.engine.pruning``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tuning.errors import ConfigError

RULES = ("none", "median", "asha")


@dataclass(frozen=True)
class PruningSettings:
    """The ``pruning*`` and ``asha_*`` settings of a search configuration."""

    rule: str = "none"
    warmup_epochs: int = 2
    min_trials: int = 3
    factor: int = 3
    min_epochs: int = 1

    @property
    def active(self) -> bool:
        return self.rule != "none"


def rungs(settings: PruningSettings, epochs: int) -> list[int]:
    """The epochs at which ASHA compares trials of ``epochs`` epochs (the last epoch is never a rung)."""
    found, rung = [], max(1, settings.min_epochs)
    while rung < epochs:
        found.append(rung)
        rung *= max(2, settings.factor)
    return found


def epochs_saved_range(settings: PruningSettings, epochs: Iterable[int], trials: int) -> tuple[int, int]:
    """The fewest and most epochs ``trials`` trials can train under ``settings`` (outside Hyperband).

    The most is every trial trained to its end; the fewest, every trial not protected by the warm-up
    stopped at the first epoch where the rule may stop it.
    """
    epoch_list = list(epochs)
    most_each = max(epoch_list) if epoch_list else 0
    fewest_each = min(epoch_list) if epoch_list else 0
    most = trials * most_each
    if not settings.active or trials == 0:
        return most, most
    if settings.rule == "median":
        protected = min(trials, settings.min_trials)
        earliest = min(max(1, settings.warmup_epochs), fewest_each)
    else:
        protected = min(trials, max(1, settings.factor - 1))
        earliest = min(max(1, settings.min_epochs), fewest_each)
    return protected * most_each + (trials - protected) * earliest, most


PRUNING_SETTINGS = ("pruning", "pruning_warmup_epochs", "pruning_min_trials", "asha_factor", "asha_min_epochs")


def check_pruning(settings: PruningSettings, *, tuner: str, executions: int) -> list[ConfigError]:
    """The problems of the pruning settings of a search with ``tuner`` and ``executions`` per trial."""
    if settings.rule not in RULES:
        return [ConfigError("pruning", f"must be one of {', '.join(RULES)}, got {settings.rule!r}")]
    found = [
        ConfigError(name, f"must be a whole number of at least {lowest}, got {value!r}")
        for name, value, lowest in (
            ("pruning_warmup_epochs", settings.warmup_epochs, 1),
            ("pruning_min_trials", settings.min_trials, 1),
            ("asha_factor", settings.factor, 2),
            ("asha_min_epochs", settings.min_epochs, 1),
        )
        if not isinstance(value, int) or isinstance(value, bool) or value < lowest
    ]
    if settings.active and tuner == "hyperband":
        found.append(
            ConfigError("pruning", "Hyperband already stops trials early; pruning is for random, Bayesian and grid")
        )
    if settings.active and executions != 1:
        found.append(
            ConfigError("pruning", f"needs executions_per_trial 1 (found {executions}): a trial is judged by one model")
        )
    return found
