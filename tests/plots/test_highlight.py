"""Highlighting chosen trials (``highlight=``) in the history, parallel, slice, curves and Hyperband figures.

Records are compared on the fields the option adds; the drawings are checked for the ringed points (or,
in parallel coordinates, for the brushed "selected" axis). Without ``highlight`` every record is as before.
"""

from __future__ import annotations

import plotly.graph_objects as go

from plots.make_result import make_result as make_plot_result
from plots.make_result import trial
from tests.analysis.make import LR, MOMENTUM, OPTIMIZER, ROWS, make_result
from tuning.plots.basics import SELECTED_COLOR
from tuning.plots.curves import curves_data, plot_curves
from tuning.plots.history import history_data, plot_history
from tuning.plots.hyperband import hyperband_data, plot_hyperband
from tuning.plots.parallel import parallel_data, plot_parallel
from tuning.plots.slices import plot_slice, slice_data

RESULT = make_result(ROWS, [OPTIMIZER, MOMENTUM, LR])  # trial ids 0000 to 0003


def rings(figure: go.Figure) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    """The (x, y) of every "selected" trace of ``figure``."""
    found = [t for t in figure.data if t.name == "selected"]
    assert all(t.marker.color == SELECTED_COLOR and t.marker.symbol == "circle-open" for t in found)
    return [(tuple(t.x), tuple(t.y)) for t in found]


def test_history_rings_scored_and_unscored_trials_where_they_are_drawn() -> None:
    data = history_data(RESULT, highlight=["0001", "0003", "unknown"])
    assert data.selected_x == (2.0, 4.0)
    assert data.selected_y == (0.5, data.no_score_y)  # the failed trial sits on the no-score line
    assert rings(plot_history(RESULT, highlight=["0001"])) == [((2.0,), (0.5,))]
    assert history_data(RESULT).selected_x == () and rings(plot_history(RESULT)) == []


def test_parallel_coordinates_brush_a_selected_axis_to_the_highlighted_trials() -> None:
    data = parallel_data(RESULT, highlight=["0002", "0003"])  # 0003 failed: not drawn, so not selected
    assert data.trial_ids == ("0000", "0001", "0002")
    assert data.selected == (False, False, True)
    first = plot_parallel(RESULT, highlight=["0002"]).data[0].dimensions[0]
    assert first.label == "selected"
    assert tuple(first.values) == (0.0, 0.0, 1.0)
    assert tuple(first.constraintrange) == (0.5, 1.0)
    assert parallel_data(RESULT, highlight=["0003"]).selected == ()  # nothing drawn is selected: no axis
    assert "selected" not in [d.label for d in plot_parallel(RESULT).data[0].dimensions]


def test_numeric_slice_rings_the_highlighted_points() -> None:
    data = slice_data(RESULT, "learning_rate", highlight=["0000", "0002"])
    assert (data.selected_x, data.selected_y) == ((1e-3, 1e-1), (0.25, 0.75))
    assert rings(plot_slice(RESULT, "learning_rate", highlight=["0001"])) == [((1e-2,), (0.5,))]
    momentum = slice_data(RESULT, "momentum", highlight=["0001"])  # 0001 did not use momentum: no ring
    assert momentum.selected_x == () and rings(plot_slice(RESULT, "momentum", highlight=["0001"])) == []


def test_categorical_slice_rings_points_at_their_strip_place() -> None:
    data = slice_data(RESULT, "optimizer", jitter=0, highlight=["0000", "0002"])
    assert data.strip_x == (0.0, 0.0, 1.0) and data.strip_y == (0.5, 0.75, 0.25)  # adam (0001, 0002), sgd
    assert (data.selected_x, data.selected_y) == ((0.0, 1.0), (0.75, 0.25))
    assert len(rings(plot_slice(RESULT, "optimizer", highlight=["0002"]))) == 1


def curves_result():
    points = [
        ("a", 0, 1, "loss", 1.0),
        ("a", 0, 2, "loss", 0.5),
        ("b", 0, 1, "loss", 0.75),
        ("c", 0, 1, "loss", 0.6),
    ]
    rows = [trial("a", 1.5), trial("b", 0.5), trial("c", 0.9)]
    return make_plot_result(rows, curves=points)


def test_curves_draw_every_highlighted_trial_on_top() -> None:
    result = curves_result()
    data = curves_data(result, highlight=["c", "a", "zz"])
    assert data.highlighted == "c" and data.highlight_label == "trial 3"
    assert data.selected == ("a",)
    assert {c.trial_id for c in data.curves if c.highlighted} == {"a", "c"}
    names = [t.name for t in plot_curves(result, highlight=["c", "a"]).data if "all trials" not in t.name]
    assert names == ["trial 1: train", "trial 3: train"]
    plain = curves_data(result)  # no highlight: the best trial, as before
    assert plain.highlighted == "b" and plain.selected == ()


def test_hyperband_rings_the_highlighted_trials() -> None:
    hb = {"bracket": 0, "round": 0, "epochs": 1, "initial_epoch": 0, "parent": None}
    rows = [trial("a", 0.5, hb=hb), trial("b", 0.7, hb=hb)]
    result = make_plot_result(rows, objective=("val_accuracy", "max"), tuner="hyperband")
    data = hyperband_data(result, highlight=["b", "nope"])
    assert data.selected == ("b",)
    b = next(p for p in data.points if p.trial_id == "b")
    assert rings(plot_hyperband(result, highlight=["b"])) == [((1,), (b.y,))]
    assert hyperband_data(result).selected == ()
