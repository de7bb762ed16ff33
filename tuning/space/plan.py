"""What a search costs before it runs: its trials, its training epochs, and Hyperband's brackets.

The Hyperband arithmetic is keras-tuner 1.4.8's ``HyperbandOracle`` (``_get_num_brackets``,
``_get_size``, ``_get_epochs``) written out, so the plan matches what the tuner will do.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tuning.space.pruning import PruningSettings, epochs_saved_range
from tuning.space.specs import discrete_values

if TYPE_CHECKING:
    from tuning.space.searchspace import SearchSpace


class Budget(Protocol):
    """What the planner reads of a search configuration (``SearchConfig`` has all of it)."""

    tuner: str
    max_trials: int
    executions_per_trial: int
    hyperband_max_epochs: int
    hyperband_factor: int
    hyperband_iterations: int
    early_stopping_patience: int | None

    @property
    def space(self) -> SearchSpace: ...

    @property
    def pruning_settings(self) -> PruningSettings: ...


@dataclass(frozen=True)
class RoundPlan:
    """One round of a Hyperband bracket.

    Each of its ``trials`` trains a model up to epoch ``epochs``; a promoted trial continues from its
    parent's weights, so it trains ``new_epochs`` more.
    """

    round: int
    trials: int
    epochs: int
    new_epochs: int


@dataclass(frozen=True)
class BracketPlan:
    """One Hyperband bracket (``bracket`` counts down to 0) of one Hyperband iteration."""

    iteration: int
    bracket: int
    rounds: tuple[RoundPlan, ...]

    @property
    def trials(self) -> int:
        """Trials of all rounds."""
        return sum(r.trials for r in self.rounds)

    @property
    def epochs(self) -> int:
        """Epochs trained in all rounds (one execution per trial)."""
        return sum(r.trials * r.new_epochs for r in self.rounds)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, totals included."""
        return {
            "iteration": self.iteration,
            "bracket": self.bracket,
            "trials": self.trials,
            "epochs": self.epochs,
            "rounds": [asdict(r) for r in self.rounds],
        }


@dataclass(frozen=True)
class SearchPlan:
    """How many trials and epochs a configuration costs (upper bounds; see ``notes``)."""

    trials: int
    epochs_total: int
    epochs_expected: float
    configurations: int | None
    brackets: tuple[BracketPlan, ...] = ()
    notes: tuple[str, ...] = ()
    epochs_fewest: int = -1  # with pruning, the fewest epochs the trials can take; -1: epochs_total

    def __post_init__(self) -> None:
        if self.epochs_fewest < 0:
            object.__setattr__(self, "epochs_fewest", self.epochs_total)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "trials": self.trials,
            "epochs_total": self.epochs_total,
            "epochs_expected": self.epochs_expected,
            "epochs_fewest": self.epochs_fewest,
            "configurations": self.configurations,
            "brackets": [b.to_dict() for b in self.brackets],
            "notes": list(self.notes),
        }


def hyperband_num_brackets(max_epochs: int, factor: int) -> int:
    """How many brackets one Hyperband iteration has."""
    epochs: float = max_epochs
    brackets = 0
    while epochs >= 1:
        epochs = epochs / factor
        brackets += 1
    return brackets


def hyperband_size(max_epochs: int, factor: int, bracket: int, round_: int) -> int:
    """How many trials round ``round_`` of bracket ``bracket`` runs."""
    bracket0_end_size = math.ceil(1 + math.log(max_epochs, factor))
    bracket_end_size = bracket0_end_size / (bracket + 1)
    return math.ceil(bracket_end_size * factor ** (bracket - round_))


def hyperband_epochs(max_epochs: int, factor: int, bracket: int, round_: int) -> int:
    """The epoch that the models of round ``round_`` of bracket ``bracket`` are trained up to."""
    return math.ceil(max_epochs / factor ** (bracket - round_))


def hyperband_brackets(max_epochs: int, factor: int, iterations: int) -> tuple[BracketPlan, ...]:
    """Every bracket Hyperband runs, in order."""
    count = hyperband_num_brackets(max_epochs, factor)
    brackets = []
    for iteration in range(iterations):
        for bracket in range(count - 1, -1, -1):
            rounds = []
            for round_ in range(bracket + 1):
                epochs = hyperband_epochs(max_epochs, factor, bracket, round_)
                before = hyperband_epochs(max_epochs, factor, bracket, round_ - 1) if round_ else 0
                size = hyperband_size(max_epochs, factor, bracket, round_)
                rounds.append(RoundPlan(round_, size, epochs, epochs - before))
            brackets.append(BracketPlan(iteration, bracket, tuple(rounds)))
    return tuple(brackets)


def epochs_range(space: SearchSpace) -> tuple[int, int, float]:
    """The fewest, most and mean epochs a trial of ``space`` trains (outside Hyperband)."""
    values = discrete_values(space.epochs)
    assert values is not None, "epochs is an integer hyperparameter"
    numbers = [int(v) for v in values]
    return min(numbers), max(numbers), sum(numbers) / len(numbers)


def bayesian_initial_points(space: SearchSpace) -> int:
    """Keras Tuner's default number of random trials before Bayesian optimisation: 3 per hyperparameter."""
    return max(3 * len(space.specs()), 3)


def plan(config: Budget) -> SearchPlan:
    """The trials and epochs ``config`` will cost (assumes a valid configuration)."""
    if config.tuner == "hyperband":
        return _hyperband_plan(config)
    return _sequential_plan(config)


def _sampled_trials(config: Budget, distinct: int | None) -> int:
    """Random search stops when it finds no new values; Bayesian only during its random start."""
    if distinct is None:
        return config.max_trials
    if config.tuner == "bayesian" and distinct >= bayesian_initial_points(config.space):
        return config.max_trials
    return min(config.max_trials, distinct)


def _sequential_plan(config: Budget) -> SearchPlan:
    if config.tuner == "grid":
        configurations = config.space.count()
        trials = min(config.max_trials, configurations)
    else:
        configurations = config.space.distinct_count()
        trials = _sampled_trials(config, configurations)
    _, most, mean = epochs_range(config.space)
    runs = trials * config.executions_per_trial
    notes = _sequential_notes(config, trials, configurations)
    values = discrete_values(config.space.epochs) or ()
    fewest, _ = epochs_saved_range(config.pruning_settings, [int(v) for v in values], runs)
    notes += _pruning_notes(config, fewest, runs * most)
    return SearchPlan(
        trials, runs * most, runs * mean, configurations, (), notes + _common_notes(config), epochs_fewest=fewest
    )


def _pruning_notes(config: Budget, fewest: int, most: int) -> tuple[str, ...]:
    if not config.pruning_settings.active or fewest >= most:
        return ()
    saved = 1 - fewest / most
    return (
        f"Pruning ({config.pruning_settings.rule}) stops unpromising trials early: {fewest:,} to {most:,} epochs, "
        f"saving up to {saved:.0%}; how much depends on how many trials fall behind.",
    )


def _sequential_notes(config: Budget, trials: int, configurations: int | None) -> tuple[str, ...]:
    if config.tuner == "grid":
        if trials < configurations:
            return (
                f"Grid search stops after max_trials ({config.max_trials}) of its {configurations:,} "
                "configurations, in grid order.",
            )
        return (f"Grid search runs all {configurations:,} configurations.",)
    notes = []
    if trials < config.max_trials:
        notes.append(
            f"The space has only {configurations:,} distinct configurations, so at most {trials:,} trials will "
            "run (fewer if random sampling keeps drawing ones already tried)."
        )
    if config.tuner == "bayesian":
        start = bayesian_initial_points(config.space)
        notes.append(f"Bayesian optimisation picks its first {start} trials at random (3 per hyperparameter).")
    return tuple(notes)


def _hyperband_plan(config: Budget) -> SearchPlan:
    brackets = hyperband_brackets(config.hyperband_max_epochs, config.hyperband_factor, config.hyperband_iterations)
    trials = sum(b.trials for b in brackets)
    epochs = sum(b.epochs for b in brackets) * config.executions_per_trial
    configurations = config.space.distinct_count(include_epochs=False)
    notes = [f"Hyperband runs {trials:,} trials in {len(brackets)} brackets; max_trials is not used."]
    fresh = sum(b.rounds[0].trials for b in brackets)
    if configurations is not None and configurations < fresh:
        notes.append(
            f"Hyperband draws {fresh:,} new configurations but the space has only {configurations:,}; "
            "the search stops early when it runs out."
        )
    return SearchPlan(trials, epochs, float(epochs), configurations, brackets, tuple(notes) + _common_notes(config))


def _common_notes(config: Budget) -> tuple[str, ...]:
    notes = []
    if config.executions_per_trial > 1:
        notes.append(
            f"Each trial trains {config.executions_per_trial} models (executions_per_trial) and reports their mean."
        )
    if config.early_stopping_patience:
        notes.append(
            f"Early stopping (patience {config.early_stopping_patience}) may end trials sooner; "
            "epoch counts are upper bounds."
        )
    return tuple(notes)
