"""Readers of Keras Tuner project directories (ours and anyone's) into typed results."""

from __future__ import annotations

from tuning.results.model import (
    Condition,
    HyperparameterInfo,
    Objective,
    ProjectResult,
)

__all__ = ["Condition", "HyperparameterInfo", "Objective", "ProjectResult"]
