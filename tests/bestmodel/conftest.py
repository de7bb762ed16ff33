"""A real, finished tiny search on the synthetic set, shared by the best-model tests (read, never changed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from searches import tiny_config
from tuning.engine import jobs, launch


@pytest.fixture(scope="session")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A completed two-trial search of this app; tests that write copy it first (see ``copy_of``)."""
    project_dir = jobs.create_search(tiny_config(), tmp_path_factory.mktemp("bestmodel"), "done")
    assert launch.run_search(project_dir, resume=False).state == "completed"
    return project_dir


@pytest.fixture
def search_copy(finished: Path, tmp_path: Path) -> Path:
    """A private copy of the finished search, free to change."""
    return Path(shutil.copytree(finished, tmp_path / finished.name))
