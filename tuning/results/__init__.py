"""Readers of Keras Tuner project directories (ours and anyone's) into typed results.

``discover(folder)`` finds projects, ``load_project(project_dir)`` reads one, and ``ProjectReader`` keeps
one current for a live view, re-reading only what changed (see ``tuning.results.reader``).

Uploads (``tuning.results.uploads``) turn a zip into a folder these readers open.

May import: ``tuning.errors``, ``tuning.settings``, ``tuning.store`` (file layout and status). Never the engine.
"""

from __future__ import annotations

from tuning.results.files import discover
from tuning.results.model import (
    Condition,
    HyperparameterInfo,
    Objective,
    ProjectResult,
)
from tuning.results.reader import ProjectReader, load_project

__all__ = [
    "Condition",
    "HyperparameterInfo",
    "Objective",
    "ProjectReader",
    "ProjectResult",
    "discover",
    "load_project",
]
