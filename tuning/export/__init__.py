"""Exports of a search's result: summary (dict), CSV, JSON, a Python script, an HTML report.

``export(result, fmt)`` gives the text of one format (``FORMATS``); each also has its own function.

May import: ``tuning.errors``, ``tuning.space``, ``tuning.results``, ``tuning.analysis``, ``tuning.plots``.
"""

from __future__ import annotations

from collections.abc import Callable

from tuning.errors import ExportError
from tuning.export.report import to_html
from tuning.export.script import to_python
from tuning.export.tables import summary, to_csv, to_json, trial_table
from tuning.results.model import ProjectResult

__all__ = [
    "FORMATS",
    "ExportError",
    "export",
    "summary",
    "to_csv",
    "to_html",
    "to_json",
    "to_python",
    "trial_table",
]

FORMATS: dict[str, Callable[[ProjectResult], str]] = {
    "csv": to_csv,
    "json": to_json,
    "py": to_python,
    "html": to_html,
}


def export(result: ProjectResult, fmt: str) -> str:
    """The result in format ``fmt`` (csv, json, py or html) as text."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}.")
    return FORMATS[fmt](result)
