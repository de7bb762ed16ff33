"""Decoders for the two official CIFAR-10 batch formats, from bytes to NHWC uint8 images.

The python version's batches are pickles. They are read with an unpickler that can only build NumPy
arrays, never with ``pickle.load``: a doctored file cannot run code.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np

from tuning.data.spec import NUM_CLASSES
from tuning.errors import DataError

try:  # NumPy >= 2
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import _reconstruct

PIXELS = 32 * 32 * 3
RECORD_BYTES = 1 + PIXELS  # binary version: 1 label byte, then 1024 red, 1024 green, 1024 blue bytes

# Everything the official python-version batches need (written by Python 2 with old NumPy).
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds NumPy arrays, dicts, lists and strings, and refuses everything else."""

    def __init__(self, data: bytes, *, source: str) -> None:
        super().__init__(io.BytesIO(data), encoding="bytes")
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise DataError(
                f"{self._source}: refuses to load {module}.{name}; a CIFAR-10 batch holds only NumPy "
                "arrays, labels and file names. The file is not an original CIFAR-10 batch."
            ) from None


def _load_pickle(data: bytes, source: str) -> Any:
    try:
        return _ArrayOnlyUnpickler(data, source=source).load()
    except DataError:
        raise
    except Exception as exc:  # a corrupt pickle can fail in many ways; all mean the same here
        raise DataError(f"{source} is truncated or corrupt: {type(exc).__name__}: {exc}") from None


def _entry(batch: dict[Any, Any], key: str, source: str) -> Any:
    for candidate in (key.encode(), key):
        if candidate in batch:
            return batch[candidate]
    found = ", ".join(repr(k) for k in list(batch)[:6])
    raise DataError(f"{source}: expected a CIFAR-10 batch with a {key!r} entry; found keys {found}.")


def _check_labels(labels: np.ndarray, count: int, source: str) -> np.ndarray:
    if labels.shape != (count,):
        raise DataError(f"{source}: expected {count} labels, one per image; found {labels.size}.")
    if count and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(f"{source}: expected labels 0..{NUM_CLASSES - 1}; found {labels.min()}..{labels.max()}.")
    return labels.astype(np.int64)


def _to_nhwc(flat: np.ndarray) -> np.ndarray:
    """Rows of 3072 channel-major bytes (R plane, G plane, B plane) to (N, 32, 32, 3)."""
    return np.ascontiguousarray(flat.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def decode_python_batch(data: bytes, *, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 and int64 labels of one python-version batch (a pickle)."""
    batch = _load_pickle(data, source)
    if not isinstance(batch, dict):
        raise DataError(f"{source}: expected a CIFAR-10 batch (a dict); found {type(batch).__name__}.")
    pixels, labels = _entry(batch, "data", source), _entry(batch, "labels", source)
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 2:
        found = f"{pixels.dtype} {pixels.shape}" if isinstance(pixels, np.ndarray) else type(pixels).__name__
        raise DataError(f"{source}: expected 'data' to be a uint8 array (N, {PIXELS}); found {found}.")
    if pixels.shape[1] != PIXELS:
        raise DataError(f"{source}: expected {PIXELS} values per image; found {pixels.shape[1]}.")
    try:
        y = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{source}: expected 'labels' to be a list of integers.") from None
    return _to_nhwc(pixels), _check_labels(y, len(pixels), source)


def decode_binary_batch(data: bytes, *, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 and int64 labels of one binary-version batch."""
    if not data or len(data) % RECORD_BYTES:
        raise DataError(
            f"{source} is truncated or corrupt: expected a whole number of {RECORD_BYTES}-byte records "
            f"(1 label byte + {PIXELS} pixel bytes each); found {len(data)} bytes."
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = _check_labels(records[:, 0].astype(np.int64), len(records), source)
    return _to_nhwc(records[:, 1:]), labels
