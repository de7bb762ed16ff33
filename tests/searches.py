"""Factories for tiny, real searches: configurations that train in seconds on two CPU cores."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tuning.data import DataSpec
from tuning.space.config import SearchConfig
from tuning.space.searchspace import SearchSpace
from tuning.space.specs import Choice, Fixed, FloatRange
from tuning.store.status import SearchStatus, read_status


def tiny_space(**specs: Any) -> SearchSpace:
    """A space of small CNNs (one conv block of 8 or 16 filters, no dense layer), one epoch each."""
    base = SearchSpace().with_values(
        conv_blocks=Fixed(1),
        filters=Choice((8, 16)),
        batch_norm=Fixed(False),
        dense_layers=Fixed(0),
        dropout=FloatRange(0.0, 0.5, step=0.25),
        optimizer=Choice(("adam", "sgd")),
        learning_rate=FloatRange(1e-3, 1e-2, sampling="log"),
        batch_size=Fixed(32),
        epochs=Fixed(1),
    )
    return base.with_values(**specs) if specs else base


def diverging_space(**specs: Any) -> SearchSpace:
    """ELU layers trained by SGD at a learning rate of 1.0 with momentum 0.99: the loss becomes NaN."""
    return tiny_space(
        optimizer=Fixed("sgd"),
        momentum=Fixed(0.99),
        activation=Fixed("elu"),
        conv_blocks=Fixed(2),
        filters=Fixed(32),
        dense_layers=Fixed(2),
        dense_units=Fixed(256),
        **specs,
    )


def tiny_config(*, train_size: int = 300, space: SearchSpace | None = None, **fields: Any) -> SearchConfig:
    """A search on a few hundred synthetic images, in one process; ``fields`` override SearchConfig's.

    One process (``workers=1``) unless asked: the tests of several workers and of "auto" say so.
    """
    data = DataSpec(name="synthetic", train_size=train_size, validation_split=0.2, test_size=100, seed=0)
    config = SearchConfig(space=space or tiny_space(), data=data, max_trials=2, seed=1, workers=1)
    return dataclasses.replace(config, **fields)


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str | Callable[[], str], poll: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail the test with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what() if callable(what) else what}")


def wait_for_state(project_dir: Path, states: tuple[str, ...], *, timeout: float = 180) -> SearchStatus:
    return wait_for(
        lambda: (s := read_status(project_dir)).state in states and s,
        timeout=timeout,
        what=lambda: f"state in {states} (last: {read_status(project_dir).state})",
    )


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def trial_files(project_dir: Path) -> dict[str, dict[str, Any]]:
    """Every trial.json of a Keras Tuner project, by trial id."""
    return {
        p.parent.name.removeprefix("trial_"): json.loads(p.read_text())
        for p in sorted(project_dir.glob("trial_*/trial.json"))
    }


ROOT = Path(__file__).resolve().parents[1]


def cli(
    *args: str, timeout: float = 300, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tuning ARGS`` as a user would, in a real process; ``env`` adds variables."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tuning", *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=full_env
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``error: ...`` line of a refused command (exit status 2, no traceback)."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]
