"""Interaction heatmap: record by equality, counts in hover, reversed colours for losses, 10,000 trials."""

from __future__ import annotations

import time

from tests.analysis.make import LOSS, big, choice, floating, make_result
from tuning.plots.interaction import InteractionPlot, draw_interaction, interaction_data, plot_interaction

OPTIMIZER = choice("optimizer", "adam", "sgd")
LR = floating("learning_rate", 1e-4, 1e-1, log=True)
ROWS = [
    {"optimizer": "sgd", "learning_rate": 1e-3, "score": 0.25},
    {"optimizer": "adam", "learning_rate": 1e-2, "score": 0.5},
    {"optimizer": "adam", "learning_rate": 1e-1, "score": 0.75},
]


def test_heatmap_record() -> None:
    result = make_result(ROWS, [OPTIMIZER, LR])
    assert interaction_data(result, "learning_rate", "optimizer", bins=3) == InteractionPlot(
        title="Mean val_accuracy by learning rate and optimizer",
        x_title="Learning rate (log scale)",
        y_title="Optimizer",
        colorbar_title="val_accuracy<br>(higher is better)",
        x_labels=("0.0001–0.001", "0.001–0.01", "0.01–0.1"),
        y_labels=("adam", "sgd"),
        z=((None, None, 0.625), (None, 0.25, None)),
        counts=((0, 0, 2), (0, 1, 0)),
        hover=(
            (
                "Learning rate: 0.0001–0.001<br>Optimizer: adam<br>no trials",
                "Learning rate: 0.001–0.01<br>Optimizer: adam<br>no trials",
                "Learning rate: 0.01–0.1<br>Optimizer: adam<br>mean val_accuracy: 0.625<br>2 trials",
            ),
            (
                "Learning rate: 0.0001–0.001<br>Optimizer: sgd<br>no trials",
                "Learning rate: 0.001–0.01<br>Optimizer: sgd<br>mean val_accuracy: 0.25<br>1 trial",
                "Learning rate: 0.01–0.1<br>Optimizer: sgd<br>no trials",
            ),
        ),
        reverse_colors=False,
    )


def test_drawing_smoke_with_reversed_colours_for_a_loss_and_an_empty_project() -> None:
    figure = plot_interaction(make_result(ROWS, [OPTIMIZER, LR], objective=LOSS), "optimizer", "learning_rate")
    heatmap = figure.data[0]
    assert (heatmap.type, heatmap.reversescale, heatmap.x) == ("heatmap", True, ("adam", "sgd"))
    assert len(heatmap.z) == 8
    empty = draw_interaction(interaction_data(make_result([], [OPTIMIZER, LR]), "optimizer", "learning_rate"))
    assert list(empty.data[0].z[0]) == [None, None]


def test_ten_thousand_trials_in_time() -> None:
    result = big()
    start = time.perf_counter()
    figure = plot_interaction(result, "learning_rate", "momentum")
    assert time.perf_counter() - start < 3.0
    assert figure.data[0].y[-1] == "not used"
