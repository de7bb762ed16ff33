"""The speed measurement (a real, short child process) and the duration estimate."""

from __future__ import annotations

import dataclasses

import pytest

from tuning.design.estimate import estimate_seconds, measure_speed
from tuning.space.config import SearchConfig
from tuning.space.searchspace import Fixed


def test_measure_speed_trains_for_real() -> None:
    assert measure_speed(seconds=0.5) > 0


def test_estimate_scales_with_epochs_and_speed() -> None:
    config = SearchConfig()
    three, six = (dataclasses.replace(config, space=config.space.with_values(epochs=Fixed(n))) for n in (3, 6))
    assert estimate_seconds(six, 1000) > 1.5 * estimate_seconds(three, 1000)
    assert estimate_seconds(three, 2000) < estimate_seconds(three, 1000)
    with pytest.raises(ValueError):
        estimate_seconds(config, 0)
