"""Seeded, stratified subsets and splits of labelled data that keep every class present."""

from __future__ import annotations

import numpy as np

from tuning.errors import DataError


def _allocate(counts: np.ndarray, size: int, *, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per-class sizes summing to ``size``, close to proportional, within ``low..high``."""
    quota = counts / counts.sum() * size
    alloc = np.clip(np.floor(quota).astype(np.int64), low, high)
    while alloc.sum() < size:
        gap = np.where(alloc < high, quota - alloc, -np.inf)
        alloc[int(np.argmax(gap))] += 1
    while alloc.sum() > size:
        excess = np.where(alloc > low, alloc - quota, -np.inf)
        alloc[int(np.argmax(excess))] -= 1
    return alloc


def _check_labels(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"Expected a 1-D array of integer labels; found shape {y.shape}.")
    classes, counts = np.unique(y, return_counts=True)
    return classes, counts


def _pick(y: np.ndarray, classes: np.ndarray, alloc: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices: ``alloc[i]`` random members of each ``classes[i]``."""
    chosen = [
        rng.choice(np.flatnonzero(y == cls), size=int(k), replace=False) for cls, k in zip(classes, alloc, strict=True)
    ]
    return np.sort(np.concatenate(chosen)) if chosen else np.empty(0, dtype=np.int64)


def stratified_subset(y: np.ndarray, size: int, *, seed: int) -> np.ndarray:
    """Sorted indices of a seeded subset of ``size`` items with the class proportions of ``y``.

    Every class keeps at least one item, however small ``size`` is (``size`` 0 gives no indices).
    """
    classes, counts = _check_labels(y)
    if size < 0 or size > len(y):
        raise DataError(f"Expected a subset size between 0 and {len(y)}; found {size}.")
    if size == 0:
        return np.empty(0, dtype=np.int64)
    if size < len(classes):
        raise DataError(f"Expected a subset of at least {len(classes)} items (one per class); found {size}.")
    alloc = _allocate(counts, size, low=np.ones_like(counts), high=counts)
    return _pick(np.asarray(y), classes, alloc, np.random.default_rng(seed))


def stratified_split(y: np.ndarray, n_holdout: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (kept, held-out) indices: ``n_holdout`` items held out, every class on both sides."""
    classes, counts = _check_labels(y)
    if counts.size and counts.min() < 2:
        rare = classes[int(np.argmin(counts))]
        raise DataError(f"Expected at least 2 items of every class to split them; class {rare} has 1.")
    n_classes = len(classes)
    if not n_classes <= n_holdout <= len(y) - n_classes:
        raise DataError(
            f"Expected between {n_classes} and {len(y) - n_classes} held-out items "
            f"(one per class on each side) out of {len(y)}; found {n_holdout}."
        )
    alloc = _allocate(counts, n_holdout, low=np.ones_like(counts), high=counts - 1)
    held = _pick(np.asarray(y), classes, alloc, np.random.default_rng(seed))
    kept = np.setdiff1d(np.arange(len(y)), held, assume_unique=True)
    return kept, held
