"""Learning curves: whole records compared for equality, drawing smoke-tested."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from plots.make_result import make_result, trial
from tuning.plots.curves import SOURCE_NOTES, Curve, CurvesData, curves_data, draw_curves, plot_curves


def _result(**kwargs: object):  # two trials, two executions each; "b" is the best (lowest val_loss)
    points = [
        ("a", 0, 1, "loss", 1.0),
        ("a", 0, 2, "loss", 0.5),
        ("a", 1, 1, "loss", 2.0),
        ("a", 1, 2, "loss", 1.5),
        ("a", 0, 1, "val_loss", 1.25),
        ("a", 1, 1, "val_loss", 1.75),
        ("b", 0, 1, "loss", 0.75),
        ("b", 0, 1, "val_loss", 0.5),
        ("b", 0, 1, "accuracy", 0.5),
    ]
    rows = [trial("a", 1.5), trial("b", 0.5), trial("c", None, status="RUNNING")]
    return make_result(rows, curves=points, **kwargs)


def test_record_with_executions_averaged_and_the_best_trial_highlighted() -> None:
    assert curves_data(_result()) == CurvesData(
        metric="loss",
        curves=(
            Curve("a", "trial 1", "train", None, (1, 2), (1.5, 1.0)),
            Curve("a", "trial 1", "validation", None, (1,), (1.5,)),
            Curve("b", "trial 2", "train", None, (1,), (0.75,), highlighted=True),
            Curve("b", "trial 2", "validation", None, (1,), (0.5,), highlighted=True),
        ),
        highlighted="b",
        highlight_label="trial 2 (best)",
        executions="mean",
        executions_note="mean of each trial's executions (up to 2) per epoch",
        source="engine",
        source_note=SOURCE_NOTES["engine"],
        markers=False,
        title="Learning curves: loss, training and validation (2 trials)",
    )


def test_every_execution_and_a_chosen_trial() -> None:
    data = curves_data(_result(), "val_loss", trial_id="a", executions="all")
    assert data.metric == "loss" and data.highlighted == "a" and data.highlight_label == "trial 1"
    assert data.executions_note == "every execution shown (up to 2 per trial)"
    assert data.curves[:4] == (
        Curve("a", "trial 1", "train", 0, (1, 2), (1.0, 0.5), highlighted=True),
        Curve("a", "trial 1", "train", 1, (1, 2), (2.0, 1.5), highlighted=True),
        Curve("a", "trial 1", "validation", 0, (1,), (1.25,), highlighted=True),
        Curve("a", "trial 1", "validation", 1, (1,), (1.75,), highlighted=True),
    )


def test_best_epoch_points_are_markers_with_the_readers_note() -> None:
    note = "Only the best epoch of each trial is known."
    data = curves_data(_result(curves_source="best_epoch", curves_note=note), "accuracy")
    assert data.markers and data.source_note == note
    assert data.curves == (Curve("b", "trial 2", "train", None, (1,), (0.5,), highlighted=True),)
    assert data.executions_note == "one execution per trial"
    assert draw_curves(data).data[0].mode == "markers"


def test_no_curves_gives_a_note() -> None:
    result = make_result([trial("a", 1.0)])
    result.curves_source = "none"
    data = curves_data(result)
    assert data.curves == () and data.note == "No per-epoch loss values for this project yet."
    assert data.source_note == SOURCE_NOTES["none"]
    assert draw_curves(data).layout.annotations[0].text == data.note


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="executions"):
        curves_data(_result(), executions="median")
    with pytest.raises(ValueError, match="No trial 'zz'"):
        curves_data(_result(), trial_id="zz")


def test_drawing_smoke() -> None:
    figure = plot_curves(_result())
    assert all(isinstance(t, go.Scatter) for t in figure.data)  # SVG: few points
    assert [t.name for t in figure.data] == [
        "train (all trials)",
        "validation (all trials)",
        "trial 2 (best): train",
        "trial 2 (best): validation",
    ]
    np.testing.assert_array_equal(figure.data[0].x, [1, 2, np.nan, 1, np.nan])  # NaN: a gap between two trials
    assert list(figure.data[0].text) == ["trial 1", "trial 1", None, "trial 2", None]
    assert SOURCE_NOTES["engine"] in figure.layout.title.text
