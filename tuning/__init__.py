"""Hyperparameter Explorer's engine: search spaces, data, background Keras Tuner searches.

This package never imports Streamlit; the app, notebooks and the command line are all clients.
"""

from __future__ import annotations

import os
from pathlib import Path

__version__ = "0.1.0"


def pythonpath_with_package(existing: str | None) -> str:
    """A PYTHONPATH that lets a child Python import this package, wherever it is started from."""
    root = str(Path(__file__).resolve().parent.parent)
    return os.pathsep.join(p for p in (root, existing) if p)
