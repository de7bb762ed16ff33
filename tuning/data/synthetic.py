"""The built-in synthetic set: 32x32 colour images of ten shapes and textures, made from a seed.

It needs no download and is learnable by a small CNN in a minute on a laptop CPU, yet not trivially:
every image has its own colours, size, position and pixel noise. It is not CIFAR-10 and is always
labelled as synthetic.

Made so that the usual effects of hyperparameters show as on CIFAR-10 (batch normalisation helps and
tolerates a larger learning rate, a far too large rate diverges, a far too small one crawls): the object
is large and near the centre, lighter than its background, and every image has the same mean brightness
and contrast. Small shapes anywhere in the frame, of either polarity, on backgrounds of any brightness
(the first version) kept batch-normalised networks at chance at ordinary learning rates (issue 12).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

SYNTHETIC_CLASSES: tuple[str, ...] = (
    "circle",
    "square",
    "triangle",
    "cross",
    "ring",
    "horizontal stripes",
    "vertical stripes",
    "diagonal stripes",
    "checkerboard",
    "dots",
)
SYNTHETIC_LABEL = "Synthetic shapes (built-in, not CIFAR-10)"

_SIZE = 32
_STREAMS = {"train": 0, "test": 1}
_NOISE_STD = 0.05
_JITTER = 3.0  # pixels the object's centre moves from the image's centre, at most
_SIZES = (8.0, 12.0)  # the object's radius or half-width, in pixels
_MEAN, _CONTRAST = 0.45, 0.2  # every image's mean and standard deviation over its pixels, in [0, 1]

# Pixel coordinates, shape (1, 32, 32), broadcast against per-image parameters (k, 1, 1).
_YY, _XX = np.mgrid[0:_SIZE, 0:_SIZE].astype(np.float32)[:, None]


@dataclass(frozen=True)
class _Geometry:
    """Pixel offsets from each shape's centre (k, 32, 32), and its size, period and phase (k, 1, 1)."""

    dx: np.ndarray
    dy: np.ndarray
    size: np.ndarray
    period: np.ndarray
    phase: np.ndarray

    def box(self, scale: float = 1.2) -> np.ndarray:
        return np.maximum(np.abs(self.dx), np.abs(self.dy)) <= scale * self.size

    def stripes(self, u: np.ndarray) -> np.ndarray:
        return np.mod(u + self.phase, self.period) < self.period / 2


def _circle(g: _Geometry) -> np.ndarray:
    return g.dx**2 + g.dy**2 <= g.size**2


def _square(g: _Geometry) -> np.ndarray:
    return g.box(0.8)


def _triangle(g: _Geometry) -> np.ndarray:
    return (g.dy <= 0.8 * g.size) & (np.abs(g.dx) <= 0.6 * (g.dy + g.size))


def _cross(g: _Geometry) -> np.ndarray:
    arm, ax, ay = np.maximum(1.5, g.size / 3), np.abs(g.dx), np.abs(g.dy)
    return ((ax <= arm) & (ay <= g.size)) | ((ay <= arm) & (ax <= g.size))


def _ring(g: _Geometry) -> np.ndarray:
    r2, inner = g.dx**2 + g.dy**2, np.maximum(g.size - np.maximum(2.0, 0.4 * g.size), 0)
    return (r2 <= g.size**2) & (r2 >= inner**2)


def _horizontal_stripes(g: _Geometry) -> np.ndarray:
    return g.box() & g.stripes(g.dy)


def _vertical_stripes(g: _Geometry) -> np.ndarray:
    return g.box() & g.stripes(g.dx)


def _diagonal_stripes(g: _Geometry) -> np.ndarray:
    return g.box() & g.stripes((g.dx + g.dy) / np.sqrt(2))


def _checkerboard(g: _Geometry) -> np.ndarray:
    return g.box() & (g.stripes(g.dx) ^ g.stripes(g.dy))


def _dots(g: _Geometry) -> np.ndarray:
    u = np.mod(g.dx + g.phase, g.period) - g.period / 2
    v = np.mod(g.dy + g.phase, g.period) - g.period / 2
    return g.box() & (u**2 + v**2 <= (g.period / 3.2) ** 2)


# One mask function per class, in the order of SYNTHETIC_CLASSES.
_SHAPES: tuple[Callable[[_Geometry], np.ndarray], ...] = (
    _circle,
    _square,
    _triangle,
    _cross,
    _ring,
    _horizontal_stripes,
    _vertical_stripes,
    _diagonal_stripes,
    _checkerboard,
    _dots,
)


def _masks(label: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` float masks (k, 32, 32) of class ``label``, near the centre, with random size and period."""
    cx, cy = (_SIZE / 2 - 0.5 + rng.uniform(-_JITTER, _JITTER, size=(2, k, 1, 1))).astype(np.float32)
    size = rng.uniform(*_SIZES, size=(k, 1, 1)).astype(np.float32)
    period = rng.uniform(3.5, 6.5, size=(k, 1, 1)).astype(np.float32)
    phase = rng.uniform(0, 6.5, size=(k, 1, 1)).astype(np.float32)
    return _SHAPES[label](_Geometry(_XX - cx, _YY - cy, size, period, phase)).astype(np.float32)


def _colours(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Background and foreground colours (n, 1, 1, 3) in [0, 1]: the foreground is the lighter one."""
    bg_level = rng.uniform(0.1, 0.9, size=(n, 1, 1, 1))
    fg_level = bg_level + rng.uniform(0.25, 0.5, size=(n, 1, 1, 1))
    bg = np.clip(bg_level + rng.uniform(-0.15, 0.15, size=(n, 1, 1, 3)), 0, 1)
    fg = np.clip(fg_level + rng.uniform(-0.25, 0.25, size=(n, 1, 1, 3)), 0, 1)
    return bg.astype(np.float32), fg.astype(np.float32)


def make_synthetic(n: int, *, seed: int, split: Literal["train", "test"] = "train") -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (n, 32, 32, 3) uint8 and int64 labels, balanced over the ten classes.

    The same ``seed`` and ``split`` give identical arrays; the "train" and "test" splits of a seed are
    independent random streams.
    """
    if n < 0:
        raise ValueError(f"Expected a number of images >= 0; found {n}.")
    rng = np.random.default_rng([seed, _STREAMS[split]])
    y = rng.permutation(np.arange(n) % len(SYNTHETIC_CLASSES)).astype(np.int64)
    mask = np.empty((n, _SIZE, _SIZE, 1), dtype=np.float32)
    for label in range(len(SYNTHETIC_CLASSES)):
        where = np.flatnonzero(y == label)
        mask[where, :, :, 0] = _masks(label, len(where), rng)
    bg, fg = _colours(n, rng)
    img = bg + (fg - bg) * mask
    img += _NOISE_STD * rng.standard_normal(size=img.shape, dtype=np.float32)
    return np.clip(_standardise(img) * 255 + 0.5, 0, 255).astype(np.uint8), y


def _standardise(img: np.ndarray) -> np.ndarray:
    """Images (n, 32, 32, 3) shifted and scaled to the same mean and standard deviation over their pixels."""
    mean, std = img.mean(axis=(1, 2, 3), keepdims=True), img.std(axis=(1, 2, 3), keepdims=True)
    return _MEAN + _CONTRAST * (img - mean) / np.maximum(std, 1e-3)
