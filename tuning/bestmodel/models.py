"""The trained models a search can offer, and evaluating one of them on the held-out test set.

A search made by this app has up to two: the best trial's model (``"best"``: rebuilt, with the weights Keras
Tuner saved at its best epoch) and the final model (``"final"``: the best configuration trained again on the
whole training set, see ``tuning.bestmodel.final``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tuning.bestmodel.evaluate import Evaluation, evaluate
from tuning.bestmodel.final import FinalPaths, load_final_model, read_final_status
from tuning.bestmodel.source import HeldOutSet, best_trial, load_best_model, load_test_set, search_config
from tuning.results.model import ProjectResult

Which = Literal["best", "final"]


@dataclass(frozen=True)
class ModelChoice:
    """One model a search offers: which, a label to show, its file, and whether that file exists."""

    which: Which
    label: str
    path: Path

    @property
    def available(self) -> bool:
        return self.path.is_file()

    def signature(self) -> tuple[str, str, int] | None:
        """Identifies the file's current content (path, which, modification time): a key for caches."""
        try:
            return (str(self.path), self.which, self.path.stat().st_mtime_ns)
        except OSError:
            return None


def model_choices(result: ProjectResult) -> list[ModelChoice]:
    """The best trial's model, then the final model (whether their files exist or not)."""
    best = best_trial(result)
    number = f"trial {best.number}" if best.number is not None else f"trial {best.trial_id}"
    final = read_final_status(result.project_dir)
    trained = f"{final.epochs} epochs on {final.train_images} images" if final.train_images else "not trained yet"
    return [
        ModelChoice("best", f"Best trial ({number}, weights saved by the search)", best.weights),
        ModelChoice("final", f"Final model ({trained})", FinalPaths.of(result.project_dir).model),
    ]


def evaluate_saved(result: ProjectResult, which: Which = "best") -> tuple[Evaluation, HeldOutSet]:
    """Load the search's ``which`` model and its held-out test set, and evaluate the one on the other.

    Errors as ``load_best_model`` / ``load_final_model`` raise them (a foreign project, missing weights...).
    """
    config = search_config(result)
    model = load_best_model(result) if which == "best" else load_final_model(result.project_dir)
    test_set = load_test_set(config)
    return evaluate(model, test_set), test_set
