"""How good a trained model really is: metrics on the held-out test set, per class, and a gallery of images.

``evaluate(model, test_set)`` predicts every test image once and returns an ``Evaluation``: accuracy, the
model's own loss, scikit-learn's per-class precision, recall, F1 and support, the confusion matrix, and each
image's true and predicted label and confidence. ``gallery`` picks test images to show (all, or only mistakes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from tuning.errors import DataError

if TYPE_CHECKING:
    import keras

    from tuning.bestmodel.source import HeldOutSet

PREDICT_BATCH = 256
GALLERY_LIMIT = 48


@dataclass(frozen=True)
class ClassScores:
    """Precision, recall and F1 of one class (None where undefined: never predicted, or no image) and support."""

    name: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int


@dataclass(frozen=True, eq=False)
class Evaluation:
    """A model's results on a test set. Arrays are aligned with the test set: ``indices[i]`` is image i."""

    class_names: tuple[str, ...]
    accuracy: float
    loss: float
    per_class: tuple[ClassScores, ...]
    confusion: np.ndarray  # (classes, classes): confusion[i, j] images of class i predicted as j
    y_true: np.ndarray
    y_pred: np.ndarray
    confidence: np.ndarray  # the predicted class's probability
    indices: np.ndarray

    @property
    def total(self) -> int:
        return len(self.y_true)

    @property
    def mistakes(self) -> int:
        return int((self.y_true != self.y_pred).sum())

    def per_class_table(self) -> pd.DataFrame:
        """One row per class: precision, recall, F1 (NaN where undefined) and support."""
        table = pd.DataFrame(
            [(c.name, c.precision, c.recall, c.f1, c.support) for c in self.per_class],
            columns=["class", "precision", "recall", "f1", "support"],
        )
        return table.astype({"precision": "float64", "recall": "float64", "f1": "float64", "support": "int64"})


@dataclass(frozen=True, eq=False)
class GalleryItem:
    """One test image with its true and predicted class."""

    index: int
    image: np.ndarray  # uint8 (32, 32, 3)
    true_label: str
    predicted_label: str
    confidence: float

    @property
    def correct(self) -> bool:
        return self.true_label == self.predicted_label

    @property
    def caption(self) -> str:
        mark = "✓" if self.correct else "✗"
        return f"{mark} {self.predicted_label} ({self.confidence:.0%}) · true: {self.true_label}"


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def class_scores(y_true: np.ndarray, y_pred: np.ndarray, class_names: tuple[str, ...]) -> tuple[ClassScores, ...]:
    """scikit-learn's per-class precision, recall, F1 and support; None where a ratio divides by zero."""
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=np.nan
    )
    return tuple(
        ClassScores(name, _optional(p), _optional(r), _optional(f), int(s))
        for name, p, r, f, s in zip(class_names, precision, recall, f1, support, strict=True)
    )


def _predict(model: keras.Model, test_set: HeldOutSet) -> np.ndarray:
    """Class probabilities of every test image."""
    from tuning.data import make_tf_dataset

    batches = make_tf_dataset(test_set.x, test_set.y, batch_size=PREDICT_BATCH, training=False)
    return np.asarray(model.predict(batches, verbose=0), dtype="float64")


def _loss(model: keras.Model, test_set: HeldOutSet, probabilities: np.ndarray) -> float:
    """The model's own compiled loss (cross-entropy, label smoothing, focal...) on the whole test set."""
    import keras

    from tuning.engine.hypermodel import one_hot

    if not model.loss:
        return math.nan
    loss = keras.losses.get(model.loss) if isinstance(model.loss, str) else model.loss
    targets = one_hot(test_set.y, len(test_set.class_names))
    return float(np.mean(keras.ops.convert_to_numpy(loss(targets, probabilities))))


def evaluate(model: keras.Model, test_set: HeldOutSet) -> Evaluation:
    """``model``'s accuracy, loss, per-class scores and confusion matrix on ``test_set``.

    ``DataError`` when the test set is empty (a search with ``test_size`` 0) or the model's outputs do not
    match the test set's classes.
    """
    n_classes = len(test_set.class_names)
    if len(test_set) == 0:
        raise DataError(
            "The test set is empty (the search's data settings have test_size 0), so there is nothing to "
            "evaluate on. Start a search with a test set (test_size of at least 10)."
        )
    probabilities = _predict(model, test_set)
    if probabilities.ndim != 2 or probabilities.shape[1] != n_classes:
        raise DataError(
            f"Expected the model to output one probability per class ({n_classes}: "
            f"{', '.join(test_set.class_names)}); found outputs of shape {probabilities.shape}."
        )
    y_true = np.asarray(test_set.y, dtype=np.int64)
    y_pred = probabilities.argmax(axis=1).astype(np.int64)
    return Evaluation(
        class_names=test_set.class_names,
        accuracy=float((y_true == y_pred).mean()),
        loss=_loss(model, test_set, probabilities),
        per_class=class_scores(y_true, y_pred, test_set.class_names),
        confusion=confusion_matrix(y_true, y_pred, labels=list(range(n_classes))),
        y_true=y_true,
        y_pred=y_pred,
        confidence=probabilities[np.arange(len(y_pred)), y_pred],
        indices=np.arange(len(y_true)),
    )


def gallery(
    evaluation: Evaluation,
    test_set: HeldOutSet,
    *,
    mistakes_only: bool = False,
    true_class: str | None = None,
    limit: int = GALLERY_LIMIT,
) -> list[GalleryItem]:
    """Up to ``limit`` test images in test-set order: all, or only the mistakes, optionally of one true class.

    Mistakes come most confident first (the most surprising errors); otherwise images keep their order.
    """
    chosen = evaluation.indices
    if mistakes_only:
        wrong = evaluation.y_true != evaluation.y_pred
        chosen = chosen[wrong][np.argsort(-evaluation.confidence[wrong], kind="stable")]
    if true_class is not None:
        wanted = evaluation.class_names.index(true_class)
        chosen = chosen[evaluation.y_true[chosen] == wanted]
    names = evaluation.class_names
    return [
        GalleryItem(
            index=int(i),
            image=test_set.x[i],
            true_label=names[evaluation.y_true[i]],
            predicted_label=names[evaluation.y_pred[i]],
            confidence=float(evaluation.confidence[i]),
        )
        for i in chosen[: max(0, limit)]
    ]
