"""Finding Keras Tuner projects on disk, and reading their JSON files safely while a search writes them.

Nothing here writes: a reader must leave the folder it reads exactly as it found it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuning.errors import SearchNotFoundError
from tuning.store.paths import read_jsonl

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


MAX_JSON_BYTES = 64 * 2**20  # a Keras Tuner file larger than this is not read (oracle.json of 100,000 trials: ~30 MB)


def read_json_file(path: Path, *, retries: int = RETRIES, delay: float = RETRY_DELAY_S) -> JsonRead:
    """The JSON object in ``path``, retried a few times when it is being rewritten (invalid or truncated).

    NaN and Infinity are accepted (Keras Tuner writes them). A missing file is not an error: ``data`` and
    ``error`` are both None.
    """
    error = None
    for attempt in range(retries + 1):
        sig = signature(path)
        if sig is None:
            return JsonRead(None, None)
        try:
            if path.stat().st_size > MAX_JSON_BYTES:
                return JsonRead(None, sig, f"larger than {MAX_JSON_BYTES >> 20} MB, not read")
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return JsonRead(None, None)
        except RecursionError:  # hostile nesting: json recurses once per level
            return JsonRead(None, sig, "nested too deeply to be a Keras Tuner file")
        except (OSError, ValueError) as exc:
            error = _describe(exc)
        else:
            if isinstance(data, dict):
                return JsonRead(data, sig)
            error = f"expected a JSON object, found {type(data).__name__}"
        if attempt < retries:
            time.sleep(delay)
    return JsonRead(None, signature(path), error)


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
    """An append-only ``.jsonl`` file read incrementally: each call returns only the lines added since."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def read_new(self, on_read: Callable[[Path], None]) -> tuple[list[dict[str, Any]], bool]:
        """(new records, whether the file was replaced or shrank and everything was read again)."""
        current = signature(self.path)
        size = current[1] if current is not None else 0
        restarted = size < self.offset
        if restarted:
            self.offset = 0
        if size == self.offset:
            return [], restarted
        on_read(self.path)
        records, self.offset = read_jsonl(self.path, offset=self.offset)
        return records, restarted
