"""A confusion matrix for the best-model page: counts, row-normalised rates, precision and recall.

``confusion_data`` computes a ``ConfusionData`` record from true and predicted labels; ``draw_confusion``
draws it as a heatmap (true classes down, predicted across); ``plot_confusion`` does both. Rates,
precision and recall that would divide by zero (a class with no image, or never predicted) are None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go


@dataclass(frozen=True)
class ConfusionData:
    """``counts[i][j]``: images of class i predicted as j; ``rates``: each row divided by its total."""

    class_names: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    rates: tuple[tuple[float | None, ...], ...]
    precision: tuple[float | None, ...]
    recall: tuple[float | None, ...]
    accuracy: float | None
    total: int
    normalize: bool  # draw rates (True) or counts (False)
    title: str


def _labels(values: Sequence[int] | np.ndarray, what: str, n_classes: int) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{what} must be a flat sequence of integer class indices; found shape {array.shape}.")
    if array.size and (array.min() < 0 or array.max() >= n_classes):
        raise ValueError(f"{what} must be class indices in 0..{n_classes - 1}; found {array.min()}..{array.max()}.")
    return array.astype(np.int64)


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def confusion_data(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    class_names: Sequence[str],
    *,
    normalize: bool,
) -> ConfusionData:
    """The confusion matrix of integer labels ``y_true`` against predictions ``y_pred``."""
    n = len(class_names)
    if n == 0:
        raise ValueError("class_names must name at least one class.")
    true, pred = _labels(y_true, "y_true", n), _labels(y_pred, "y_pred", n)
    if len(true) != len(pred):
        raise ValueError(f"y_true and y_pred must have the same length; found {len(true)} and {len(pred)}.")
    matrix = np.bincount(true * n + pred, minlength=n * n).reshape(n, n)
    rows, columns, diagonal = matrix.sum(axis=1), matrix.sum(axis=0), np.diag(matrix)
    total = int(matrix.sum())
    correct = int(diagonal.sum())
    accuracy = _ratio(correct, total)
    what = "share of each true class" if normalize else "images"
    score = "" if accuracy is None else f", accuracy {accuracy:.1%}"
    return ConfusionData(
        class_names=tuple(str(c) for c in class_names),
        counts=tuple(tuple(int(v) for v in row) for row in matrix),
        rates=tuple(tuple(_ratio(int(v), int(rows[i])) for v in row) for i, row in enumerate(matrix)),
        precision=tuple(_ratio(int(diagonal[j]), int(columns[j])) for j in range(n)),
        recall=tuple(_ratio(int(diagonal[i]), int(rows[i])) for i in range(n)),
        accuracy=accuracy,
        total=total,
        normalize=normalize,
        title=f"Confusion matrix ({what}; {total} images{score})",
    )


def _cell_text(data: ConfusionData) -> list[list[str]]:
    if not data.normalize:
        return [[str(v) for v in row] for row in data.counts]
    return [
        ["" if rate is None else f"{rate:.0%}<br>({count})" for rate, count in zip(rates, counts, strict=True)]
        for rates, counts in zip(data.rates, data.counts, strict=True)
    ]


def _axis_labels(names: tuple[str, ...], values: tuple[float | None, ...], what: str) -> list[str]:
    return [f"{name} ({what} {'-' if v is None else f'{v:.0%}'})" for name, v in zip(names, values, strict=True)]


def draw_confusion(data: ConfusionData) -> go.Figure:
    """A heatmap of a ``ConfusionData`` record; axis labels carry each class's precision and recall."""
    z = data.rates if data.normalize else data.counts
    heatmap = go.Heatmap(
        z=[[np.nan if v is None else v for v in row] for row in z],
        x=_axis_labels(data.class_names, data.precision, "precision"),
        y=_axis_labels(data.class_names, data.recall, "recall"),
        text=_cell_text(data),
        texttemplate="%{text}",
        colorscale="Blues",
        zmin=0,
        zmax=1 if data.normalize else None,
        hovertemplate="true %{y}<br>predicted %{x}<br>%{text}<extra></extra>",
        colorbar={"title": {"text": "share" if data.normalize else "images"}},
    )
    figure = go.Figure(heatmap, layout={"title": {"text": data.title}})
    figure.update_xaxes(title={"text": "predicted class"}, side="bottom")
    figure.update_yaxes(title={"text": "true class"}, autorange="reversed")
    return figure


def plot_confusion(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    class_names: Sequence[str],
    *,
    normalize: bool = True,
) -> go.Figure:
    """The confusion matrix of ``y_pred`` against ``y_true`` (rates per true class, or counts)."""
    return draw_confusion(confusion_data(y_true, y_pred, class_names, normalize=normalize))
