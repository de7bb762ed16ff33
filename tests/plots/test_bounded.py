"""Bounded figures: beyond a cap, a sample plus the best and highlighted trials, said on the chart; the
best-so-far line still follows every trial; small projects are drawn whole and unchanged."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from tests.plots.make_result import make_result, trial
from tuning.analysis.fingerprint import fingerprint
from tuning.analysis.history import best_so_far
from tuning.plots import bounded
from tuning.plots.history import history_data, plot_history
from tuning.plots.parallel import plot_parallel
from tuning.results.model import ProjectResult


def big(n: int = 600, *, epochs: int = 3) -> ProjectResult:
    """``n`` trials minimising val_loss (every 10th failed), with learning curves."""
    rng = np.random.default_rng(0)
    rows, points = [], []
    for i in range(n):
        trial_id = f"{i:04d}"
        failed = i % 10 == 9
        hp = {"learning_rate": float(10 ** rng.uniform(-4, -1)), "optimizer": "adam", "units": 8 * (1 + i % 8)}
        rows.append(
            trial(trial_id, None if failed else float(rng.random()), status="FAILED" if failed else "COMPLETED", hp=hp)
        )
        points += [(trial_id, 0, e, m, float(rng.random())) for e in range(1, epochs + 1) for m in ("loss", "val_loss")]
    return make_result(rows, curves=points)


def points_of(figure: go.Figure) -> int:
    return sum(len(t.x) for t in figure.data if getattr(t, "mode", "") == "markers" and t.name != "selected")


def subtitle(figure: go.Figure) -> str:
    return figure.layout.title.subtitle.text or ""


def test_a_small_project_is_drawn_whole_without_a_notice() -> None:
    result = big(40)
    figure = bounded.bounded_history(result, cap=100)
    assert points_of(figure) == 40 and subtitle(figure) == ""
    assert figure.to_json() == plot_history(result).to_json()
    assert bounded.bounded_parallel(result, cap=100).to_json() == plot_parallel(result).to_json()


def test_history_draws_the_cap_and_says_so_while_the_best_line_follows_every_trial() -> None:
    result = big(600)
    figure = bounded.bounded_history(result, highlight=["0007"], cap=100)
    assert points_of(figure) == 100
    assert subtitle(figure) == (
        "100 of 600 trials drawn: the best 10, 1 selected, a sample of the rest, spread evenly over the search"
    )
    line = next(t for t in figure.data if t.name == "Best so far")
    history = best_so_far(result)
    assert line.y[-1] == history.best[-1] and min(line.x) == 1 and max(line.x) == 600
    assert len(line.x) < 600  # only its corners


def test_history_data_with_drawn_keeps_only_those_points() -> None:
    result = big(30)
    drawn = {"0000", "0004", "0009"}
    data = history_data(result, drawn=drawn)
    assert sorted(x for p in data.points for x in p.x) == [1, 5, 10]
    assert history_data(result, drawn=None).best_x == tuple(float(i) for i in range(1, 31))


def test_parallel_curves_and_slices_are_capped_and_keep_the_highlighted_trial() -> None:
    result = big(600)
    parallel = bounded.bounded_parallel(result, highlight=["0042"], cap=50)
    dimensions = parallel.data[0].dimensions
    assert len(dimensions[0].values) == 50 and dimensions[0].label == "selected"
    assert subtitle(parallel).startswith("50 of 540 trials drawn: the best 5, 1 selected")
    curves = bounded.bounded_curves(result, "loss", highlight=["0042"], cap=20)
    drawn = {c.split(":")[0] for c in (t.name or "" for t in curves.data)}
    assert "trial 43" in drawn and subtitle(curves).startswith("20 of 600 trials drawn")
    for figure in bounded.bounded_slices(result, highlight=["0042"], cap=60):
        scatter = next(t for t in figure.data if t.name != "selected" and t.type in ("scatter", "scattergl"))
        assert len(scatter.x) <= 60 and subtitle(figure).startswith("60 of 540 trials drawn")


def test_a_bounded_figure_stays_small_however_many_trials() -> None:
    sizes = [len(bounded.bounded_history(big(n), cap=200).to_json()) for n in (400, 1_600)]
    assert sizes[1] < 1.1 * sizes[0]
    assert len(bounded.bounded_parallel(big(1_600), cap=200).data[0].dimensions[0].values) == 200


def test_one_trials_curves() -> None:
    figure = bounded.trial_curves(big(50), "0013", "loss")
    assert "training and validation (1 trial)" in figure.layout.title.text
    drawn = {t.name for t in figure.data if t.name and "all trials" not in t.name}
    assert drawn and all(name.startswith("trial 14") for name in drawn)


def test_the_fingerprint_changes_with_the_trials_only() -> None:
    result = big(50)
    same = big(50)
    assert fingerprint(result) == fingerprint(same)
    same.trials.loc["0003", "score"] = 0.123
    assert fingerprint(result) != fingerprint(same)
    fewer = make_result([trial("0000", 0.5)], curves=[])
    assert fingerprint(fewer) != fingerprint(result)
