"""Readers of Keras Tuner project directories (ours and anyone's) into typed results.

``discover(folder)`` finds projects, ``load_project(project_dir)`` reads one, and ``ProjectReader`` keeps
one current for a live view, re-reading only what changed (see ``tuning.results.reader``).

Uploads (``tuning.results.uploads``) turn a zip into a folder these readers open.

May import: ``tuning.errors``, ``tuning.settings``, ``tuning.store`` (file layout and status). Never the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuning.results.files import discover
    from tuning.results.model import Condition, HyperparameterInfo, Objective, ProjectResult
    from tuning.results.reader import ProjectReader, load_project

# Imported when first used (PEP 562): the trial-parsing child process (``tuning.results.parsing``) imports
# this package too, and needs neither pandas nor the reader; it starts in a fraction of the time.
_HOMES = {
    "Condition": "tuning.results.model",
    "HyperparameterInfo": "tuning.results.model",
    "Objective": "tuning.results.model",
    "ProjectResult": "tuning.results.model",
    "ProjectReader": "tuning.results.reader",
    "discover": "tuning.results.files",
    "load_project": "tuning.results.reader",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tuning.results' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = [
    "Condition",
    "HyperparameterInfo",
    "Objective",
    "ProjectReader",
    "ProjectResult",
    "discover",
    "load_project",
]
