"""Which objective and which tuner a project used, when Keras Tuner did not write it down.

Keras Tuner saves neither in its files. This app's searches say both in ``explorer/config.json``; for any
other project they are deduced from evidence only (never guessed from likelihood):

* objective: the metric whose value at the trial's best step equals the trial's ``score``, counted over
  completed trials (``val_*`` preferred on ties); its direction as Keras Tuner stored it with the metric,
  else from its name (loss, error, mae, mse... are minimised);
* tuner: Hyperband from its ``brackets`` in ``oracle.json`` or ``tuner/epochs`` values in trials; Bayesian
  from its ``alpha``/``beta``/``num_initial_points``; grid from the grid position this app's grid oracle
  saves; otherwise "unknown" (a random search and Keras Tuner's own grid search leave identical files).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from tuning.results.model import TUNERS, Objective
from tuning.results.trials import TrialRecord, direction_of

DEFAULT_OBJECTIVE = "val_loss"  # Keras Tuner's own default objective
PREFERRED = ("val_loss", "val_accuracy")
HYPERBAND_KEYS = ("brackets", "current_bracket")
BAYESIAN_KEYS = ("num_initial_points", "alpha", "beta")
OUR_GRID_KEYS = ("ordered_ids", "populate_next")


def ours_objective(config: Mapping[str, Any] | None, status: Mapping[str, Any] | None) -> Objective | None:
    """The objective this app's configuration names, with its direction; None for other projects."""
    name = (config or {}).get("objective")
    if not isinstance(name, str) or not name:
        return None
    saved = (status or {}).get("objective")
    direction = saved.get("direction") if isinstance(saved, Mapping) and saved.get("name") == name else None
    return Objective(name, direction if direction in ("min", "max") else direction_of(name))


def matching_metrics(record: TrialRecord) -> tuple[str, ...]:
    """The metrics whose kept value equals the trial's score (evidence for the objective)."""
    if record.status != "COMPLETED" or not math.isfinite(record.score):
        return ()
    return tuple(name for name, value in record.best_metrics.items() if _same(value, record.score))


def _same(a: float, b: float) -> bool:
    return math.isfinite(a) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def infer_objective(matches: Counter[str], evidence: int, directions: Mapping[str, str]) -> tuple[Objective, str]:
    """The objective from ``matches`` (metric -> trials where it equals the score) over ``evidence`` trials.

    ``directions`` are the directions Keras Tuner stored per metric. Returns the objective and a notice.
    """
    if evidence == 0:
        name = next((n for n in PREFERRED if n in directions), DEFAULT_OBJECTIVE)
        direction = directions.get(name) or direction_of(name)
        return Objective(name, direction, inferred=True), (
            f"objective inferred: {name} ({direction}) assumed until a trial completes "
            "(Keras Tuner does not save the objective)"
        )
    top = max(matches.values(), default=0)
    if top == 0:
        return Objective("score", "min", inferred=True), (
            "objective inferred: no metric equals the trials' scores (several objectives combined?); "
            "trials are ranked by Keras Tuner's score, lower is better"
        )
    best = sorted(name for name, count in matches.items() if count == top)
    chosen = next((n for n in best if n.startswith("val_")), best[0])
    direction = directions.get(chosen) or direction_of(chosen)
    notice = f"objective inferred: {chosen} ({direction}), equal to the score in {top} of {evidence} completed trials"
    others = [n for n in best if n != chosen]
    if others:
        notice += f" (so are {', '.join(others)})"
    return Objective(chosen, direction, inferred=True), notice


def infer_tuner(
    oracle: Mapping[str, Any] | None, *, hyperband_values: bool, config: Mapping[str, Any] | None
) -> tuple[str, bool, str | None]:
    """(tuner, inferred, notice): this app's configured tuner, else what ``oracle.json`` shows."""
    ours = (config or {}).get("tuner")
    if ours in TUNERS:
        return ours, False, None
    keys = set(oracle or {})
    if keys & set(HYPERBAND_KEYS):
        return "hyperband", True, "tuner inferred: hyperband (oracle.json has Hyperband's brackets)"
    if hyperband_values:
        return "hyperband", True, "tuner inferred: hyperband (trials have Hyperband's tuner/epochs)"
    if "num_initial_points" in keys or {"alpha", "beta"} <= keys:
        return "bayesian", True, "tuner inferred: bayesian (oracle.json has Bayesian optimisation's settings)"
    if keys & set(OUR_GRID_KEYS):
        return "grid", True, "tuner inferred: grid (oracle.json has a grid position)"
    return (
        "unknown",
        True,
        (
            "tuner unknown: a random search and Keras Tuner's grid search save the same files"
            if oracle is not None
            else "tuner unknown: oracle.json could not be read"
        ),
    )
