"""Finding Keras Tuner projects on disk, and reading their JSON files safely while a search writes them.

Nothing here writes: a reader must leave the folder it reads exactly as it found it.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tuning.errors import SearchNotFoundError
from tuning.store.paths import (
    MAX_JSON_BYTES,
    MAX_JSONL_BYTES,
    MAX_LINE_BYTES,
    MAX_NESTING,
    NOT_REGULAR,
    read_jsonl_records,
    read_to_end,
    text_too_deep,
    too_deep,
)

ORACLE = "oracle.json"
OUR_CONFIG = Path("explorer") / "config.json"
MAX_DEPTH = 6
SKIPPED_DIRS = frozenset({".venv", "venv", "node_modules", "__pycache__", "site-packages"})
RETRIES = 3
RETRY_DELAY_S = 0.02

Signature = tuple[int, int]  # (mtime_ns, size): a file's identity for caching


def signature(path: str | os.PathLike[str]) -> Signature | None:
    """The file's (mtime_ns, size), or None when it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def is_project(folder: Path) -> bool:
    """Whether ``folder`` is a Keras Tuner project (``oracle.json``) or a search of this app not yet started."""
    return (folder / ORACLE).is_file() or (folder / OUR_CONFIG).is_file()


def require_project(folder: str | os.PathLike[str]) -> Path:
    """``folder`` as an absolute path, or ``SearchNotFoundError`` when it holds no project."""
    path = Path(folder).expanduser().absolute()
    if not path.is_dir():
        raise SearchNotFoundError(_not_a_folder(path))
    if not is_project(path):
        raise SearchNotFoundError(
            f"No Keras Tuner project in {path}: expected an {ORACLE} file (Keras Tuner) or {OUR_CONFIG} (this app)."
        )
    return path


def discover(folder: str | os.PathLike[str], *, max_depth: int = MAX_DEPTH) -> list[Path]:
    """Every project in ``folder`` or below it (up to ``max_depth`` levels), sorted.

    Hidden folders and virtual environments are skipped; a project's own subfolders are not searched.
    """
    root = Path(folder).expanduser().absolute()
    if not root.is_dir():
        raise SearchNotFoundError(_not_a_folder(root))
    found: list[Path] = []
    _walk(root, max_depth, found)
    return sorted(found)


def _walk(folder: Path, depth: int, found: list[Path]) -> None:
    if is_project(folder):
        found.append(folder)
        return
    if depth <= 0:
        return
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name in SKIPPED_DIRS:
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            _walk(Path(entry.path), depth - 1, found)


def _not_a_folder(path: Path) -> str:
    if path.exists():
        return f"{path} is a file, not a folder of Keras Tuner projects."
    return f"{path} does not exist: expected a folder holding Keras Tuner projects."


@dataclass(frozen=True)
class JsonRead:
    """The outcome of reading one JSON file: its object, or why there is none."""

    data: dict[str, Any] | None
    signature: Signature | None
    error: str | None = None


TOO_DEEP = f"nested too deeply to be a Keras Tuner file (more than {MAX_NESTING} levels)"


@dataclass(frozen=True)
class RawRead:
    """One file's bytes as read: its signature, its content (None when too large, or on ``error``), and why
    it could not be read. ``signature`` None: the file does not exist."""

    signature: Signature | None
    content: bytes | None
    error: str | None = None


def read_bytes(path: str | os.PathLike[str]) -> RawRead:
    """A file's bytes and signature from one open: a missing file, a file over the size cap and anything but
    a regular file (a FIFO would block, a device never end) are said, not read."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below as not a regular file.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return RawRead(None, None)
    except OSError as exc:
        return RawRead(signature(path), None, _describe(exc))
    try:
        st = os.fstat(fd)
        sig = (st.st_mtime_ns, st.st_size)
        if not stat.S_ISREG(st.st_mode):
            return RawRead(sig, None, NOT_REGULAR)
        if st.st_size > MAX_JSON_BYTES:
            return RawRead(sig, None)
        content = read_to_end(fd, st.st_size, MAX_JSON_BYTES)
        return RawRead(sig, content)
    except OSError as exc:
        return RawRead(signature(path), None, _describe(exc))
    finally:
        os.close(fd)


def loads(content: bytes) -> Any:
    """JSON from bytes: orjson (several times faster than ``json``) for what it accepts; the standard library
    for the rest, with its messages: NaN and Infinity (Keras Tuner writes them), integers beyond 64 bits,
    and anything broken. ``RecursionError`` for hostile nesting, as ``json`` raises it."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def read_json_file(
    path: str | os.PathLike[str], *, retries: int = RETRIES, delay: float = RETRY_DELAY_S, first: RawRead | None = None
) -> JsonRead:
    """The JSON object in ``path``, retried a few times when it is being rewritten (invalid or truncated).

    NaN and Infinity are accepted (Keras Tuner writes them). A missing file is not an error: ``data`` and
    ``error`` are both None. ``first``: the file's bytes already read (by a prefetch), used for the first try.
    """
    error = None
    for attempt in range(retries + 1):
        raw = first if attempt == 0 and first is not None else read_bytes(path)
        sig = raw.signature
        if sig is None:
            return JsonRead(None, None)
        if raw.content is None:
            if raw.error is None:
                size = f" ({_mb(sig[1])})" if sig[1] > MAX_JSON_BYTES else ""
                return JsonRead(None, sig, f"larger than the {_mb(MAX_JSON_BYTES)} cap per file{size}, not read")
            if raw.error == NOT_REGULAR:  # a FIFO or a device stays one: not retried
                return JsonRead(None, sig, raw.error)
            error = raw.error
        else:
            try:
                data = loads(raw.content)
            except RecursionError:  # hostile nesting: json recurses once per level
                return JsonRead(None, sig, TOO_DEEP)
            except ValueError as exc:
                error = _describe(exc)
            else:
                if isinstance(data, dict) and _too_deep(raw.content, data):
                    return JsonRead(None, sig, TOO_DEEP)
                if isinstance(data, dict):
                    return JsonRead(data, sig)
                error = f"expected a JSON object, found {type(data).__name__}"
        if attempt < retries:
            time.sleep(delay)
    return JsonRead(None, signature(path), error)


def _too_deep(content: bytes, data: Any) -> bool:
    quick = text_too_deep(content)
    return too_deep(data) if quick is None else quick


def _mb(size: int) -> str:
    """A size as people read it: "64 MB", "0.5 MB", "1 GB"."""
    if size >= 2**30:
        return f"{size / 2**30:.3g} GB"
    return f"{size / 2**20:.3g} MB"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid or truncated JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
    return str(exc)


class CachedJson:
    """One JSON file, re-read only when its signature changes; a failed read keeps the previous content."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.signature: Signature | None = None
        self.data: dict[str, Any] | None = None
        self.error: str | None = None

    def refresh(self, on_read: Callable[[Path], None]) -> bool:
        """Re-read the file if it changed; return whether ``data`` changed."""
        current = signature(self.path)
        if current == self.signature:
            return False
        if current is None:
            changed = self.data is not None
            self.signature, self.data, self.error = None, None, None
            return changed
        on_read(self.path)
        read = read_json_file(self.path)
        self.signature = read.signature
        if read.data is None:
            self.error = read.error
            return False
        self.data, self.error = read.data, None
        return True


class JsonlTail:
    """An append-only ``.jsonl`` file read incrementally: each call returns only the lines added since.

    ``skipped`` counts the lines left out so far (not a JSON object, or too long), ``capped`` says the file
    passed the size cap (nothing past it is read), ``error`` why the file could not be read at all.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.skipped = 0
        self.capped = False
        self.error: str | None = None

    def read_new(self, on_read: Callable[[Path], None]) -> tuple[list[dict[str, Any]], bool]:
        """(new records, whether the file was replaced or shrank and everything was read again)."""
        current = signature(self.path)
        size = current[1] if current is not None else 0
        restarted = size < self.offset
        if restarted:
            self.offset, self.skipped, self.capped = 0, 0, False
        if size == self.offset or self.capped:
            return [], restarted
        on_read(self.path)
        found = read_jsonl_records(self.path, offset=self.offset)
        self.offset, self.capped, self.error = found.offset, found.capped, found.error
        self.skipped += found.skipped
        return found.records, restarted

    def notices(self, name: str) -> list[str]:
        """What a reader should be told about this file (``name`` as shown)."""
        found = [f"could not read {name}: {self.error}"] if self.error else []
        if self.skipped:
            lines = "line" if self.skipped == 1 else "lines"
            found.append(
                f"{name}: left out {self.skipped} {lines} that are not a JSON record or longer than "
                f"{_mb(MAX_LINE_BYTES)}"
            )
        if self.capped:
            found.append(f"{name} is larger than the {_mb(MAX_JSONL_BYTES)} cap per file: lines past it are not read")
        return found
