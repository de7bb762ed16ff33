"""Hyperband brackets and rounds: whole records compared for equality, drawing smoke-tested."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plots.make_result import kt_trial, make_result, trial, write_project
from tuning.plots.hyperband import HyperbandData, HyperbandPoint, Promotion, hyperband_data, plot_hyperband
from tuning.results import load_project


def hb(bracket: int, round_: int, epochs: int, parent: str | None = None) -> dict[str, Any]:
    return {"bracket": bracket, "round": round_, "epochs": epochs, "initial_epoch": 0, "parent": parent}


def _result(direction: str = "max"):
    rows = [
        trial("a", 0.5, hb=hb(1, 0, 1)),
        trial("b", 0.7, hb=hb(1, 0, 1)),
        trial("c", None, status="FAILED", hb=hb(1, 0, 1)),
        trial("d", 0.8, hb=hb(1, 1, 3, "b")),
        trial("e", 0.6, hb=hb(0, 0, 3)),
    ]
    return make_result(rows, objective=("val_accuracy", direction), tuner="hyperband")


def test_record_spreads_rounds_by_score_and_links_promotions() -> None:
    point = HyperbandPoint
    assert hyperband_data(_result()) == HyperbandData(
        points=(
            point("a", "trial 1", 1, 0, 1, 1.0, 0.5, "COMPLETED", False),
            point("b", "trial 2", 1, 0, 1, 1.35, 0.7, "COMPLETED", True),
            point("c", "trial 3", 1, 0, 1, 0.65, None, "FAILED", False),
            point("d", "trial 4", 1, 1, 3, 1.0, 0.8, "COMPLETED", False),
            point("e", "trial 5", 0, 0, 3, 0.0, 0.6, "COMPLETED", False),
        ),
        promotions=(Promotion("b", "d", (1, 3), (1.35, 1.0)),),
        brackets=(0, 1),
        epochs=(1, 3),
        direction="max",
        color_title="val_accuracy (higher is better)",
        title="Hyperband: 5 trials in 2 brackets, 1 promoted to a next round",
    )


def test_min_objective_puts_the_lowest_score_on_top_and_reverses_colours() -> None:
    data = hyperband_data(_result("min"))
    assert [p.y for p in data.points[:3]] == [1.35, 1.0, 0.65]
    assert data.reverse_colors and data.color_title == "val_accuracy (lower is better)"


def test_other_tuners_give_an_empty_record_with_a_note() -> None:
    data = hyperband_data(make_result([trial("a", 1.0)], tuner="bayesian"))
    assert data.points == () and data.promotions == ()
    assert data.note == "This search did not use Hyperband (tuner: bayesian): it has no brackets."
    assert plot_hyperband(make_result([trial("a", 1.0)])).layout.annotations[0].text.startswith("This search")


def test_drawing_smoke() -> None:
    figure = plot_hyperband(_result())
    assert [t.name for t in figure.data] == ["promoted", "trials", "no score (failed or running)"]
    assert list(figure.data[0].x) == [1, 3, None]
    assert figure.layout.xaxis.type == "log"
    assert list(figure.layout.yaxis.ticktext) == ["bracket 0", "bracket 1"]


def test_a_hyperband_project_on_disk(tmp_path: Path) -> None:
    def values(lr: float, bracket: int, round_: int, epochs: int, parent: str | None = None) -> dict[str, Any]:
        tuner = {"tuner/epochs": epochs, "tuner/initial_epoch": 0 if parent is None else 1}
        tuner |= {"tuner/bracket": bracket, "tuner/round": round_} | ({"tuner/trial_id": parent} if parent else {})
        return {"lr": lr, "opt": "adam"} | tuner

    trials = [
        kt_trial("0000", values(0.01, 1, 0, 1), 0.9),
        kt_trial("0001", values(0.001, 1, 0, 1), 0.7),
        kt_trial("0002", values(0.001, 1, 1, 3, parent="0001"), 0.5),
    ]
    result = load_project(write_project(tmp_path / "hb", trials))
    assert result.tuner == "hyperband"
    data = hyperband_data(result)
    assert [(p.trial_id, p.bracket, p.round, p.epochs, p.promoted) for p in data.points] == [
        ("0000", 1, 0, 1, False),
        ("0001", 1, 0, 1, True),
        ("0002", 1, 1, 3, False),
    ]
    assert data.promotions == (Promotion("0001", "0002", (1, 3), (1.35, 1.0)),)
    assert data.direction == "min"  # inferred from the trials' val_loss
