"""The files a search keeps beside Keras Tuner's own, and safe ways to write and read them.

A search is an ordinary Keras Tuner project directory (``DIRECTORY/PROJECT/``: ``oracle.json``,
``tuner0.json``, ``trial_*/``) plus one folder of ours, ``explorer/``, holding the configuration, the
status, per-epoch metrics, trial events, the process log, the lock and the control file. JSON files are
replaced atomically (temp file + ``os.replace``); ``.jsonl`` files are append-only lines, so a reader
never sees half a record.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OURS = "explorer"


@dataclass(frozen=True)
class SearchPaths:
    """Where every file of one search lives."""

    project_dir: Path

    @classmethod
    def of(cls, project_dir: str | os.PathLike[str]) -> SearchPaths:
        return cls(Path(project_dir).expanduser().absolute())

    @property
    def ours(self) -> Path:
        return self.project_dir / OURS

    @property
    def config(self) -> Path:
        return self.ours / "config.json"

    @property
    def status(self) -> Path:
        return self.ours / "status.json"

    @property
    def metrics(self) -> Path:
        return self.ours / "metrics.jsonl"

    @property
    def events(self) -> Path:
        return self.ours / "events.jsonl"

    @property
    def log(self) -> Path:
        return self.ours / "search.log"

    @property
    def lock(self) -> Path:
        return self.ours / "lock"

    @property
    def control(self) -> Path:
        return self.ours / "control.json"

    @property
    def oracle(self) -> Path:
        return self.project_dir / "oracle.json"

    def is_search(self) -> bool:
        """Whether this folder holds a search made by this engine."""
        return self.config.is_file()


def _clean(value: Any) -> Any:
    """Replace NaN and infinities (not valid JSON) by None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON so that readers see the old file or the new one, never a mix."""
    write_text_atomic(path, json.dumps(_clean(data), indent=2, sort_keys=True, allow_nan=False))


def write_text_atomic(path: Path | str, text: str) -> None:
    """Replace ``path`` by ``text`` atomically (temp file in the same folder, fsync, ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one record as a single line (one ``write`` call on an ``O_APPEND`` file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(_clean(record), sort_keys=True, allow_nan=False) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def file_size(path: Path) -> int:
    """The size of ``path`` in bytes; 0 when it does not exist (yet)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


MAX_NESTING = 64  # levels of JSON arrays and objects; Keras Tuner's files and ours use fewer than 12


def too_deep(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` levels (walked level by level, without
    recursion: what ``copy.deepcopy``, ``repr`` or a JSON encoder would do to it could overflow the stack)."""
    level = [value]
    for _ in range(limit):
        level = [v for c in level for v in (c.values() if type(c) is dict else c) if type(v) in (dict, list)]
        if not level:
            return False
    return True


_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_QUOTE_OR_BRACKET = bytes(set(range(256)) - set(b'"[]{}'))


def text_too_deep(text: bytes, limit: int = MAX_NESTING) -> bool | None:
    """``too_deep`` for the text of a JSON document that parsed, read from its bytes; None when that cannot
    be told cheaply (a string holds a bracket, or the text is not UTF-8), and the parsed value must be walked.

    Walking a parsed trial file visits every epoch's containers; this costs a few C-level passes over the
    bytes. Keep the quotes and brackets alone, drop each string's pair of quotes (after its escapes): if no
    quote is left, no string held a bracket, and what remains is the nesting itself, one level of which each
    pass of removing ``[]`` takes off.
    """
    if b"\x00" in text:  # UTF-16 or UTF-32, which json also accepts: its bytes do not read as below
        return None
    if b"\\" in text:  # escapes: an escaped backslash first (pairs read from the left), then escaped quotes
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = text.translate(None, _NOT_QUOTE_OR_BRACKET).replace(b'""', b"")
    if b'"' in marks:  # a string held a bracket (a quote pairs with its own only when nothing is between)
        return None
    nesting = marks.translate(_BRACKETS)
    for _ in range(limit):
        if not nesting:
            return False
        nesting = nesting.replace(b"[]", b"")
    return bool(nesting)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when it is missing, unreadable or hostile (nested too deeply)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: hostile nesting
        return None
    return data if isinstance(data, dict) and not too_deep(data) else None


def read_jsonl(path: Path, *, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Complete records from byte ``offset`` on, and the offset to continue from next time.

    A trailing line without its newline (being written right now) is left for the next read.
    """
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
    except FileNotFoundError:
        return [], offset
    end = chunk.rfind(b"\n") + 1
    records = []
    for line in chunk[:end].splitlines():
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: hostile nesting
            continue
        if isinstance(record, dict) and not too_deep(record):
            records.append(record)
    return records, offset + end


def tail_text(path: Path, *, max_bytes: int = 20_000) -> str:
    """The end of a text file (the search log), decoded leniently; empty when missing."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return text if size <= max_bytes else text.split("\n", 1)[-1]
