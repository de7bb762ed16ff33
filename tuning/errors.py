"""The small hierarchy of errors the engine raises for things a user can cause.

Every message says what was expected and what was found, so pages and the command line can show it
as is (never a traceback).
"""

from __future__ import annotations


class TuningError(Exception):
    """Base class of every error a user of the engine can cause."""


class ConfigError(TuningError, ValueError):
    """An invalid search configuration; ``field`` names the offending setting (e.g. ``space.dropout``)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class DataError(TuningError):
    """A dataset that cannot be found, read or trusted."""


class SearchNotFoundError(TuningError):
    """A folder that is not a search made by this engine."""


class SearchLockedError(TuningError):
    """Another process is already running this search."""

    def __init__(self, project_dir: str, pid: int | None) -> None:
        self.project_dir = project_dir
        self.pid = pid
        who = f"process {pid}" if pid else "another process"
        super().__init__(
            f"The search in {project_dir} is already running ({who}). Stop it first, or wait for it to finish."
        )


class SearchStateError(TuningError):
    """An action that does not fit the search's state (resume a completed search, stop a stopped one...)."""


class ExportError(TuningError):
    """A result that cannot be exported in the format asked for (e.g. no script for a foreign search)."""


class PathNotAllowedError(TuningError):
    """A folder path a user gave that may not be read: outside the analysis roots, missing, or not a folder."""


class UploadError(TuningError):
    """An uploaded zip that cannot be accepted: not a zip, hostile members, over a limit, or no project inside."""
