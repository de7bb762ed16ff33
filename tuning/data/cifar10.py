"""CIFAR-10 from Keras' download cache or from a local copy of either official version.

Accepted local copies: ``cifar-10-python.tar.gz`` or ``cifar-10-binary.tar.gz``, their extracted
folders (``cifar-10-batches-py`` / ``cifar-10-batches-bin``), or a folder holding any of those.
Archives are read in memory; nothing is extracted.
"""

from __future__ import annotations

import os
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import numpy as np

from tuning.data.cache import load_cached
from tuning.data.cifar_formats import decode_binary_batch, decode_python_batch
from tuning.data.spec import ProgressFn
from tuning.errors import DataError

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
# Keras' own cache layout (keras.datasets.cifar10 and get_file with extract=True).
_KERAS_FNAME = "cifar-10-batches-py-target"

_BATCHES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")
_FORMATS: dict[str, tuple[tuple[str, ...], Callable[..., tuple[np.ndarray, np.ndarray]]]] = {
    "python": (_BATCHES, decode_python_batch),
    "binary": (tuple(f"{b}.bin" for b in _BATCHES), decode_binary_batch),
}
_FOLDERS = ("cifar-10-batches-py", "cifar-10-batches-bin")
_ARCHIVES = ("cifar-10-python.tar.gz", "cifar-10-binary.tar.gz")
_EXPECTED = (
    "expected cifar-10-python.tar.gz (cifar-10-batches-py/data_batch_1..5, test_batch) or "
    "cifar-10-binary.tar.gz (cifar-10-batches-bin/data_batch_1.bin..5.bin, test_batch.bin), "
    "or one of their extracted folders"
)

Batches = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _report(progress: ProgressFn | None, message: str, fraction: float | None) -> None:
    if progress is not None:
        progress(message, fraction)


def _folder_format(folder: Path) -> str | None:
    """The version ("python" / "binary") whose six batch files are all in ``folder``, if any."""
    for fmt, (names, _) in _FORMATS.items():
        if all((folder / name).is_file() for name in names):
            return fmt
    return None


def _decode(fmt: str, files: dict[str, bytes], origin: str) -> Batches:
    names, decode = _FORMATS[fmt]
    parts = [decode(files[name], source=f"{origin}/{name}") for name in names]
    x_train = np.concatenate([x for x, _ in parts[:-1]])
    y_train = np.concatenate([y for _, y in parts[:-1]])
    return (x_train, y_train), parts[-1]


def _read_folder(folder: Path, fmt: str, progress: ProgressFn | None) -> Batches:
    names = _FORMATS[fmt][0]
    files: dict[str, bytes] = {}
    for i, name in enumerate(names):
        _report(progress, f"Reading {folder / name}", i / len(names))
        try:
            files[name] = (folder / name).read_bytes()
        except OSError as exc:
            raise DataError(f"{folder / name} cannot be read: {exc.strerror or exc}.") from None
    return _decode(fmt, files, str(folder))


def _archive_members(path: Path, progress: ProgressFn | None) -> tuple[dict[str, bytes], list[str]]:
    """The batch files of the archive by base name, and all member names (one pass, no extraction)."""
    wanted = {name for names, _ in _FORMATS.values() for name in names}
    files: dict[str, bytes] = {}
    seen: list[str] = []
    member_name = "its table of contents"
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                member_name = member.name
                if len(seen) < 8:
                    seen.append(member.name)
                base = PurePosixPath(member.name).name
                if not member.isfile() or base not in wanted or base in files:
                    continue
                _report(progress, f"Reading {member.name} from {path.name}", len(files) / 6)
                handle = archive.extractfile(member)
                files[base] = handle.read() if handle is not None else b""
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise DataError(
            f"{path} is truncated or corrupt (while reading {member_name}): {exc}. "
            "Download it again or point to another copy."
        ) from None
    return files, seen


def _read_archive(path: Path, progress: ProgressFn | None) -> Batches:
    files, seen = _archive_members(path, progress)
    for fmt, (names, _) in _FORMATS.items():
        if all(name in files for name in names):
            return _decode(fmt, files, str(path))
    raise DataError(f"{path} is not a CIFAR-10 archive: {_EXPECTED}; found {', '.join(seen) or 'no files'}.")


def _locate(path: Path) -> tuple[Path, str | None]:
    """Where CIFAR-10 is at ``path``: (an archive, None), or (a folder of batch files, their format)."""
    if not path.exists():
        raise DataError(f"CIFAR-10 path {path} does not exist; {_EXPECTED}.")
    if path.is_file():
        return path, None
    for folder in (path, *(path / name for name in _FOLDERS)):
        fmt = _folder_format(folder)
        if fmt is not None:
            return folder, fmt
    for name in _ARCHIVES:
        if (path / name).is_file():
            return path / name, None
    found = ", ".join(sorted(p.name for p in path.iterdir())[:8]) or "an empty folder"
    raise DataError(f"{path} is not a CIFAR-10 folder: {_EXPECTED}; found {found}.")


def check_cifar10_path(path: str | Path) -> None:
    """Raise ``DataError`` unless ``path`` looks like a local CIFAR-10 copy (cheap: reads no batch)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"CIFAR-10 path {path} does not exist; {_EXPECTED}.")
    if path.is_file():
        if not tarfile.is_tarfile(path):
            raise DataError(f"{path} is not a CIFAR-10 archive (not a tar archive); {_EXPECTED}.")
        return
    candidates = (path, *(path / name for name in _FOLDERS))
    if any(_folder_format(folder) for folder in candidates) or any((path / a).is_file() for a in _ARCHIVES):
        return
    found = ", ".join(sorted(p.name for p in path.iterdir())[:8]) or "an empty folder"
    raise DataError(f"{path} is not a CIFAR-10 folder: {_EXPECTED}; found {found}.")


def _keras_home() -> Path:
    """Keras' cache root, chosen as Keras chooses it: $KERAS_HOME, else ~/.keras, else /tmp/.keras."""
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"]).expanduser()
    home = Path("~").expanduser()
    return (home if os.access(home, os.W_OK) else Path("/tmp")) / ".keras"


def cifar10_cached() -> Path | None:
    """Where Keras' cache already holds CIFAR-10 (a folder or an archive), or None. Never downloads."""
    datasets = _keras_home() / "datasets"
    folders = (datasets / _KERAS_FNAME / _FOLDERS[0], datasets / _FOLDERS[0])
    for folder in folders:
        if _folder_format(folder) == "python":
            return folder
    for archive in (f"{_KERAS_FNAME}_archive", _ARCHIVES[0], f"{_FOLDERS[0]}.tar.gz"):
        if (datasets / archive).is_file():
            return datasets / archive
    return None


def _download(progress: ProgressFn | None) -> Path:
    """Download (checked against the official SHA-256) and extract into Keras' cache; the folder."""
    import keras

    _report(progress, "Downloading CIFAR-10…", None)
    try:
        extracted = keras.utils.get_file(
            fname=_KERAS_FNAME,
            origin=CIFAR10_URL,
            file_hash=CIFAR10_SHA256,
            extract=True,
            cache_dir=str(_keras_home()),
        )
    except Exception as exc:  # Keras raises bare Exception for network errors
        raise DataError(
            f"CIFAR-10 could not be downloaded from {CIFAR10_URL} ({exc}). Without internet, download "
            "cifar-10-python.tar.gz elsewhere and point to it (--data-path), or use the synthetic dataset."
        ) from None
    return Path(extracted) / _FOLDERS[0]


def load_cifar10(path: str | Path | None = None, *, progress: ProgressFn | None = None) -> Batches:
    """CIFAR-10 as ((x_train, y_train), (x_test, y_test)): uint8 (N, 32, 32, 3) images, int64 labels.

    ``path`` is a local copy (see the module docstring); None uses Keras' cache, downloading once.
    """
    if path is None:
        path = cifar10_cached()
        if path is not None:
            _report(progress, f"Using CIFAR-10 from Keras' cache ({path})", None)
        else:
            path = _download(progress)
    where, fmt = _locate(Path(path).expanduser())
    sources = [where] if fmt is None else [where / name for name in _FORMATS[fmt][0]]
    _report(
        progress, f"Checking the decoded copy of CIFAR-10 ({sum(p.stat().st_size for p in sources) >> 20} MB)", None
    )
    decode = (lambda: _read_archive(where, progress)) if fmt is None else (lambda: _read_folder(where, fmt, progress))
    data = load_cached(_keras_home() / "datasets", sources, decode, note=lambda m: _report(progress, m, None))
    _report(progress, "CIFAR-10 ready", 1.0)
    return data
