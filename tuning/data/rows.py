"""``ImageRows``: some rows of a memory-mapped image array, read only when they are used.

A search on CIFAR-10 trains on a subset of the decoded cache (``tuning.data.cache``), which every process
memory-maps. Copying the subset out (``x[idx]``) and then into a TensorFlow constant would give each worker
two private copies of its images; ``ImageRows`` keeps the cache's array and the chosen row numbers instead,
and ``make_tf_dataset`` reads each batch's rows from the map, so the images stay in the page cache once,
shared by every process that trains on them.

Anything that needs a real array gets one: ``np.asarray(rows)`` (and every NumPy function) reads the rows
into a new array, ``rows[i]`` is one image, ``rows[a:b]`` or ``rows[indices]`` an array of those rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class ImageRows:
    """Rows ``index`` of ``base`` (an array, usually a read-only memory map), in that order."""

    __slots__ = ("base", "index")

    def __init__(self, base: np.ndarray, index: np.ndarray | None = None) -> None:
        self.base = base
        self.index = np.arange(len(base), dtype=np.intp) if index is None else np.asarray(index, dtype=np.intp)
        if self.index.ndim != 1:
            raise ValueError(f"expected a 1-D array of row numbers; found shape {self.index.shape}")

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), *self.base.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return self.base.dtype

    @property
    def ndim(self) -> int:
        return self.base.ndim

    @property
    def nbytes(self) -> int:
        """What the rows take once read into an array."""
        return int(np.prod(self.shape)) * self.base.dtype.itemsize

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, key: Any) -> np.ndarray:
        return np.asarray(self.base[self.index[key]])

    def take(self, rows: np.ndarray) -> ImageRows:
        """Rows ``rows`` of these rows, still unread."""
        return ImageRows(self.base, self.index[np.asarray(rows, dtype=np.intp)])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        rows = np.asarray(self.base[self.index])
        return rows if dtype is None else rows.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"ImageRows({len(self)} of {len(self.base)} rows, shape {self.shape}, {self.dtype})"


def pick(x: np.ndarray | ImageRows, rows: np.ndarray | None = None) -> np.ndarray | ImageRows:
    """Rows ``rows`` (all if None) of ``x``: left unread where ``x`` is memory-mapped or already ``ImageRows``,
    copied out of an array in memory (as ``x[rows]``)."""
    if isinstance(x, ImageRows):
        return x if rows is None else x.take(rows)
    if isinstance(x, np.memmap):
        return ImageRows(x, rows)
    return x if rows is None else x[rows]
