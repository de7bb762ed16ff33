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
import stat
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


# Size caps: what reading one file may cost, whatever is in it. A Keras Tuner JSON file (``oracle.json``, a
# ``trial.json``) or one of ours: a real ``oracle.json`` holds about 300 bytes per trial (~30 MB at 100,000).
MAX_JSON_BYTES = 64 * 2**20
# An append-only ``.jsonl`` file of ours: a line of ``metrics.jsonl`` is about 300 bytes (one epoch), so the
# cap holds about 3.5 million epochs; lines past it are not read (a notice says so).
MAX_JSONL_BYTES = 2**30
# One line of a ``.jsonl`` file: ours are below 2 kB (an epoch's metrics, a trial's hyperparameters).
MAX_LINE_BYTES = 2**20
READ_BLOCK = 8 * 2**20  # a .jsonl file is read block by block: memory stays bounded however large it is
NOT_REGULAR = "not a regular file"


def read_to_end(fd: int, size: int, cap: int) -> bytes | None:
    """The bytes of an open file of ``size`` bytes (it may grow meanwhile); None past ``cap`` bytes.

    Each read asks for what the file holds plus one byte: asking for the cap itself would allocate the cap
    for every small file (the allocation and its shrinking cost more than reading a trial file).
    """
    parts = [os.read(fd, size + 1)]
    total = len(parts[0])
    while total > size and parts[-1]:  # grown since fstat: read on to the end, or past the cap
        if total > cap:
            return None
        parts.append(os.read(fd, min(1 << 20, cap + 1 - total)))
        total += len(parts[-1])
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_capped(path: str | os.PathLike[str], cap: int = MAX_JSON_BYTES) -> bytes | None:
    """A regular file's bytes; None when it is missing, unreadable, not a regular file (a FIFO would block,
    a device never end) or larger than ``cap``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > cap:
            return None
        return read_to_end(fd, st.st_size, cap)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when it is missing, unreadable, over the size cap, or hostile
    (nested too deeply, not a regular file)."""
    content = read_capped(path)
    if content is None:
        return None
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: hostile nesting
        return None
    return data if isinstance(data, dict) and not too_deep(data) else None


@dataclass(frozen=True)
class JsonlRead:
    """What one read of a ``.jsonl`` file found: its records, where to go on from, the lines it left out (not
    a JSON object, too deep or longer than ``MAX_LINE_BYTES``), whether lines lie past the size cap, and why
    the file could not be read at all."""

    records: list[dict[str, Any]]
    offset: int
    skipped: int = 0
    capped: bool = False
    error: str | None = None


def read_jsonl_records(path: Path, *, offset: int = 0, cap: int | None = None) -> JsonlRead:
    """Complete records from byte ``offset`` on, reading the file up to byte ``cap`` (``MAX_JSONL_BYTES``).

    A trailing line without its newline (being written right now) is left for the next read. The file is
    read block by block, so a huge file or line costs a bounded amount of memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return JsonlRead([], offset)
    except OSError as exc:
        return JsonlRead([], offset, error=exc.strerror or type(exc).__name__)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO would block, a device never end
            return JsonlRead([], offset, error=NOT_REGULAR)
        os.lseek(fd, offset, os.SEEK_SET)
        return _scan_lines(fd, offset, MAX_JSONL_BYTES if cap is None else cap)
    except OSError as exc:
        return JsonlRead([], offset, error=exc.strerror or type(exc).__name__)
    finally:
        os.close(fd)


def _scan_lines(fd: int, offset: int, cap: int) -> JsonlRead:
    records: list[dict[str, Any]] = []
    skipped = 0
    done = offset  # every byte before it belongs to a complete line, handled
    pending = b""  # the start of the unfinished line at ``done`` (empty while skipping an overlong line)
    overlong = False  # the line at ``done`` is already longer than MAX_LINE_BYTES
    position = offset
    while position < cap:
        block = os.read(fd, min(READ_BLOCK, cap - position))
        if not block:
            return JsonlRead(records, done, skipped)
        base, position = position, position + len(block)
        start = 0
        while (newline := block.find(b"\n", start)) >= 0:
            if overlong or len(pending) + newline - start > MAX_LINE_BYTES:
                skipped += 1
            else:
                line = pending + block[start:newline] if pending else block[start:newline]
                if line.strip():
                    record = _record(line)
                    if record is None:
                        skipped += 1
                    else:
                        records.append(record)
            pending, overlong = b"", False
            start = newline + 1
            done = base + start
        if not overlong:
            pending += block[start:]
            if len(pending) > MAX_LINE_BYTES:
                pending, overlong = b"", True
    return JsonlRead(records, done, skipped, capped=bool(os.read(fd, 1)))


def _record(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: hostile nesting
        return None
    return record if isinstance(record, dict) and not too_deep(record) else None


def read_jsonl(path: Path, *, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Complete records from byte ``offset`` on, and the offset to continue from next time (see
    ``read_jsonl_records``: lines that are not records are left out, nothing past the size cap is read)."""
    found = read_jsonl_records(path, offset=offset)
    return found.records, found.offset


def tail_text(path: Path, *, max_bytes: int = 20_000) -> str:
    """The end of a text file (the search log), decoded leniently; empty when missing, unreadable or not a
    regular file (a FIFO would block)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return ""
        size = st.st_size
        data = os.pread(fd, max_bytes, max(0, size - max_bytes))
    except OSError:
        return ""
    finally:
        os.close(fd)
    text = data.decode("utf-8", errors="replace")
    return text if size <= max_bytes else text.split("\n", 1)[-1]
