"""Where the app keeps its searches and uploads, and which folders it may read for analysis.

- ``runs_dir()``: ``$HPX_RUNS_DIR``, else ``runs/`` in the working directory.
- ``uploads_dir()``: ``$HPX_UPLOADS_DIR``, else ``<runs_dir>/_uploads``; uploaded zips are extracted there.
- ``analysis_roots()``: the folders whose projects may be analysed: the runs folder, then the folders listed in
  ``$HPX_ANALYSIS_ROOTS`` (separated by ``os.pathsep``), then the uploads folder when it lies outside both.
- ``pythonpath_with_package(existing)``: a PYTHONPATH under which a child Python (a worker, a parsing child)
  imports this package, wherever it was started from.
- ``confine_path(text)``: a folder path typed by a user, resolved and accepted only inside those roots, so a
  server deployment cannot be used to read arbitrary files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from tuning.errors import PathNotAllowedError

RUNS_ENV = "HPX_RUNS_DIR"
UPLOADS_ENV = "HPX_UPLOADS_DIR"
ANALYSIS_ROOTS_ENV = "HPX_ANALYSIS_ROOTS"
UPLOADS_FOLDER = "_uploads"


def pythonpath_with_package(existing: str | None) -> str:
    """A PYTHONPATH that lets a child Python import this package, wherever it is started from."""
    root = str(Path(__file__).resolve().parents[1])
    return os.pathsep.join(p for p in (root, existing) if p)


def runs_dir() -> Path:
    """The folder that holds the app's searches (created on first use by the code that writes there)."""
    return Path(os.environ.get(RUNS_ENV) or "runs").expanduser().absolute()


def uploads_dir() -> Path:
    """The folder uploaded zips are extracted into (created on first upload), resolved.

    By default ``_uploads`` inside the runs folder: its projects are found again under that root, while
    ``tuning.engine.jobs.list_searches`` does not list it (it lists only folders holding this app's config file).
    """
    configured = os.environ.get(UPLOADS_ENV)
    folder = Path(configured).expanduser() if configured else runs_dir() / UPLOADS_FOLDER
    return folder.resolve()


def configured_roots() -> list[Path]:
    """The folders listed in ``$HPX_ANALYSIS_ROOTS``, resolved, in order, whether they exist or not."""
    text = os.environ.get(ANALYSIS_ROOTS_ENV) or ""
    return [Path(part.strip()).expanduser().resolve() for part in text.split(os.pathsep) if part.strip()]


def missing_analysis_roots() -> list[Path]:
    """The configured roots that are not existing folders (left out of ``analysis_roots``), to warn about."""
    return [root for root in configured_roots() if not root.is_dir()]


def analysis_roots() -> list[Path]:
    """The folders whose projects may be analysed, resolved and without repeats, the runs folder first.

    Then each root of ``$HPX_ANALYSIS_ROOTS`` that is an existing folder and not inside a root listed before it
    (``missing_analysis_roots`` names those left out because they do not exist), then the uploads folder
    unless it is inside one of them. The runs and uploads folders are kept even before they exist: the app
    creates them. A project below two roots (the runs folder inside a configured root) is found from both.
    """
    roots = [runs_dir().resolve()]
    for root in [*(r for r in configured_roots() if r.is_dir()), uploads_dir()]:
        if not any(root.is_relative_to(r) for r in roots):
            roots.append(root)
    return roots


def confine_path(text: str, roots: Sequence[Path] | None = None) -> Path:
    """The existing folder ``text`` names, resolved, when it lies inside one of ``roots`` (``analysis_roots()``).

    ``~`` is expanded, a relative path is taken relative to the first root, and links are followed before
    the check, so neither ``..`` nor a link can lead outside. A path outside every root is refused with
    ``PathNotAllowedError`` without saying whether it exists; inside, a path that is missing or not a folder
    is refused with ``PathNotAllowedError`` too.
    """
    allowed = [Path(r).expanduser().resolve() for r in (analysis_roots() if roots is None else roots)]
    if not allowed:
        raise PathNotAllowedError("No folder may be analysed: no analysis root is configured.")
    typed = text.strip()
    if not typed:
        raise PathNotAllowedError(f"No folder given: type the path of a folder inside {_listing(allowed)}.")
    try:
        path = (allowed[0] / Path(typed).expanduser()).resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise PathNotAllowedError(f"{typed!r} is not a usable folder path ({exc}).") from None
    if not any(path.is_relative_to(root) for root in allowed):
        raise PathNotAllowedError(
            f"{typed} ({path}) is outside the folders that may be analysed: {_listing(allowed)}. "
            f"Choose a folder inside one of them, or add its folder to {ANALYSIS_ROOTS_ENV} "
            f"(folders separated by {os.pathsep!r}) and restart the app."
        )
    if not path.exists():
        raise PathNotAllowedError(f"{path} does not exist: expected a folder holding a Keras Tuner project.")
    if not path.is_dir():
        raise PathNotAllowedError(f"{path} is a file, not a folder: give the folder that holds oracle.json.")
    return path


def _listing(roots: Sequence[Path]) -> str:
    return ", ".join(str(r) for r in roots)
