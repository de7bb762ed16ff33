"""Confusion matrix: whole records compared for equality, drawing smoke-tested."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from tuning.plots.confusion import ConfusionData, confusion_data, draw_confusion, plot_confusion


def test_counts_rates_precision_and_recall() -> None:
    # cat: 2 right, 1 as dog; dog: 1 right; bird: never seen, predicted once (a dog)
    data = confusion_data([0, 0, 0, 1, 1], np.array([0, 0, 1, 1, 2]), ["cat", "dog", "bird"], normalize=True)
    assert data == ConfusionData(
        class_names=("cat", "dog", "bird"),
        counts=((2, 1, 0), (0, 1, 1), (0, 0, 0)),
        rates=((2 / 3, 1 / 3, 0.0), (0.0, 0.5, 0.5), (None, None, None)),
        precision=(1.0, 0.5, 0.0),
        recall=(2 / 3, 0.5, None),
        accuracy=0.6,
        total=5,
        normalize=True,
        title="Confusion matrix (share of each true class; 5 images, accuracy 60.0%)",
    )


def test_empty_labels_and_never_predicted_classes() -> None:
    data = confusion_data([], [], ["a", "b"], normalize=False)
    assert data.counts == ((0, 0), (0, 0)) and data.accuracy is None
    assert data.precision == (None, None) and data.recall == (None, None)
    assert data.title == "Confusion matrix (images; 0 images)"


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [([0, 1], [0], "same length"), ([0, 3], [0, 1], r"0\.\.1"), ([0.5], [0], "integer"), ([-1], [0], r"0\.\.1")],
)
def test_bad_labels_are_refused(y_true: list, y_pred: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        confusion_data(y_true, y_pred, ["a", "b"], normalize=True)


def test_drawing_smoke() -> None:
    figure = plot_confusion([0, 1, 1], [0, 1, 0], ["cat", "dog"])
    heatmap = figure.data[0]
    assert isinstance(heatmap, go.Heatmap)
    assert list(heatmap.x) == ["cat (precision 50%)", "dog (precision 100%)"]
    assert list(heatmap.y) == ["cat (recall 100%)", "dog (recall 50%)"]
    assert heatmap.text[0][0] == "100%<br>(1)"
    counts = draw_confusion(confusion_data([0, 1], [0, 1], ["a", "b"], normalize=False))
    assert list(counts.data[0].text[0]) == ["1", "0"]
