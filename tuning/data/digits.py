"""Real images offline: scikit-learn's handwritten digits (1,797 8x8 grey images), upscaled to 32x32 RGB.

The set ships with scikit-learn and has no official test set: a fixed, stratified 300 of its images
(about 30 per digit, the same whatever the search's seed) are kept as the test set, and the other
1,497 are the training set that training and validation images are drawn from.
"""

from __future__ import annotations

import numpy as np

from tuning.data.splits import stratified_split

DIGITS_CLASSES: tuple[str, ...] = tuple(str(digit) for digit in range(10))
DIGITS_LABEL = "Handwritten digits (scikit-learn, 8x8 upscaled; not CIFAR-10)"
DIGITS_TOTAL = 1_797
DIGITS_TEST_SIZE = 300
DIGITS_TRAIN_SIZE = DIGITS_TOTAL - DIGITS_TEST_SIZE
_TEST_SEED = 0  # the test set does not move with the search's seed
_SIZE = 32
_LEVELS = 16  # the 8x8 images have grey levels 0..16

Arrays = tuple[np.ndarray, np.ndarray]


def _bilinear(size_in: int, size_out: int) -> np.ndarray:
    """The (size_out, size_in) matrix of bilinear interpolation between pixel centres."""
    pos = np.clip((np.arange(size_out) + 0.5) * size_in / size_out - 0.5, 0, size_in - 1)
    low = np.minimum(np.floor(pos).astype(np.int64), size_in - 2)
    weights = np.zeros((size_out, size_in), dtype=np.float32)
    rows = np.arange(size_out)
    weights[rows, low] = 1 - (pos - low)
    weights[rows, low + 1] = pos - low
    return weights


def upscale(images: np.ndarray, *, levels: int = _LEVELS) -> np.ndarray:
    """Grey images (n, h, w) with values 0..``levels`` as smooth (n, 32, 32, 3) uint8 RGB images."""
    rows, cols = _bilinear(images.shape[1], _SIZE), _bilinear(images.shape[2], _SIZE)
    big = np.einsum("yi,nij,xj->nyx", rows, images.astype(np.float32) / levels, cols)
    grey = np.clip(big * 255 + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)


def load_digits_split() -> tuple[Arrays, Arrays]:
    """((x_train, y_train), (x_test, y_test)): 1,497 and 300 images (N, 32, 32, 3) uint8, int64 labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = upscale(digits.images), digits.target.astype(np.int64)
    train_idx, test_idx = stratified_split(y, DIGITS_TEST_SIZE, seed=_TEST_SEED)
    return (x[train_idx], y[train_idx]), (x[test_idx], y[test_idx])
