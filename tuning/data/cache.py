"""A decoded, memory-mapped copy of CIFAR-10 that every process of a search shares.

Decoding the official archive (six pickled or binary batches) takes seconds and a private copy of every
image in each process. The first process to load an archive writes its decoded uint8 arrays as ``.npy``
files into ``<Keras cache>/datasets/hpx-cifar10-<checksum>/``; later loads (other workers, later searches)
map them read-only, so the operating system keeps one copy of the pages for all of them.

* The folder is named after the SHA-256 of the source (the archive, or the batch files of a folder), so a
  changed archive never meets a stale cache; ``meta.json`` repeats the checksum and each array's own
  SHA-256, size, shape and dtype, and a file that disagrees is refused and rebuilt.
* It is written into a temporary folder beside it and renamed into place, so a reader never sees half a
  cache; two processes writing at once both produce the same content, and one rename wins.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from tuning.errors import DataError

Arrays = tuple[np.ndarray, np.ndarray]
Batches = tuple[Arrays, Arrays]
NAMES = ("x_train", "y_train", "x_test", "y_test")
PREFIX = "hpx-cifar10-"
CHUNK = 4 * 2**20


def sha256_of(paths: Iterable[Path]) -> str:
    """The SHA-256 of the files' contents, one after the other."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def cache_folder(root: Path, checksum: str) -> Path:
    return root / f"{PREFIX}{checksum[:16]}"


def load_cached(
    root: Path, sources: list[Path], decode: Callable[[], Batches], *, note: Callable[[str], None] | None = None
) -> Batches:
    """The arrays ``decode()`` gives for ``sources``, memory-mapped from the cache under ``root``.

    The first call decodes and writes the cache; a missing, stale or damaged cache is (re)built. If the
    cache cannot be written (read-only disk), the decoded arrays are returned as they are.
    """
    checksum = sha256_of(sources)
    folder = cache_folder(root, checksum)
    problem = check_cache(folder, checksum)
    if problem is None:
        return _open(folder)
    if folder.exists() and note is not None:
        note(f"The decoded CIFAR-10 cache {folder} is unusable ({problem}); rebuilding it.")
    data = decode()
    try:
        write_cache(folder, checksum, data)
    except OSError as exc:
        if note is not None:
            note(f"Could not write the decoded CIFAR-10 cache to {folder} ({exc}); using the decoded copy.")
        return data
    return _open(folder)


def check_cache(folder: Path, checksum: str) -> str | None:
    """Why ``folder`` is not a good cache for the source with ``checksum`` (None when it is)."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return f"meta.json unreadable: {exc}"
    if not isinstance(meta, dict) or meta.get("source_sha256") != checksum:
        return "made from another copy of CIFAR-10"
    arrays = meta.get("arrays")
    if not isinstance(arrays, dict) or set(arrays) != set(NAMES):
        return "meta.json lists other arrays"
    for name in NAMES:
        path, expected = folder / f"{name}.npy", arrays[name]
        if not path.is_file() or not isinstance(expected, dict) or path.stat().st_size != expected.get("bytes"):
            return f"{path.name} is missing or has the wrong size"
        if sha256_of([path]) != expected.get("sha256"):
            return f"{path.name} is damaged (checksum differs)"
    return None


def write_cache(folder: Path, checksum: str, data: Batches) -> None:
    """Write ``data`` as the cache ``folder`` atomically (a temporary folder renamed into place)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        arrays = {}
        for name, array in zip(NAMES, (*data[0], *data[1]), strict=True):
            path = temporary / f"{name}.npy"
            np.save(path, np.ascontiguousarray(array), allow_pickle=False)
            arrays[name] = {"bytes": path.stat().st_size, "sha256": sha256_of([path]), "shape": list(array.shape)}
        meta = {"source_sha256": checksum, "arrays": arrays}
        (temporary / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):  # another process renamed its identical copy first
            os.replace(temporary, folder)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    if check_cache(folder, checksum) is not None:
        raise OSError(f"the cache in {folder} did not check out after writing")


def _open(folder: Path) -> Batches:
    try:
        x_train, y_train, x_test, y_test = (
            np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in NAMES
        )
    except (OSError, ValueError) as exc:
        raise DataError(f"The decoded CIFAR-10 cache {folder} cannot be opened ({exc}); delete it.") from None
    return (x_train, y_train), (x_test, y_test)
