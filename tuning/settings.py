"""Where the app keeps its searches: ``$HPX_RUNS_DIR``, else ``runs/`` in the working directory."""

from __future__ import annotations

import os
from pathlib import Path

RUNS_ENV = "HPX_RUNS_DIR"


def runs_dir() -> Path:
    """The folder that holds the app's searches (created on first use by the code that writes there)."""
    return Path(os.environ.get(RUNS_ENV) or "runs").expanduser().absolute()
