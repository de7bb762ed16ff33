"""What data a search uses (``DataSpec``, plain and JSON-able) and what loading it gives (``Dataset``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tuning.data.digits import DIGITS_TEST_SIZE, DIGITS_TOTAL, DIGITS_TRAIN_SIZE
from tuning.data.rows import ImageRows
from tuning.errors import ConfigError

ProgressFn = Callable[[str, float | None], None]
"""Receives (message, fraction done in 0..1, or None when unknown)."""

DATASET_NAMES = ("synthetic", "digits", "cifar10")
NUM_CLASSES = 10
MIN_TRAIN_SIZE = 2 * NUM_CLASSES  # one image per class for training and one for validation


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


@dataclass(frozen=True)
class DataSpec:
    """Which dataset, from where, and how much of it: training+validation and test sizes, seed."""

    name: str = "synthetic"
    path: str | None = None
    train_size: int | None = 2000
    validation_split: float = 0.2
    test_size: int | None = None  # None: the whole official test set (CIFAR-10: 10,000 images)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The spec as a JSON-able dict (``from_dict`` reads it back)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataSpec:
        """A validated spec from a dict; unknown keys raise ConfigError, missing ones take defaults."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(
                f"data.{unknown[0]}", f"expected one of {', '.join(sorted(known))}; found {unknown[0]!r}."
            )
        spec = cls(**d)
        spec.validate()
        return spec

    def validate(self) -> None:
        """Raise ConfigError naming the first invalid field (``data.<field>``)."""
        if self.name not in DATASET_NAMES:
            raise ConfigError("data.name", f"expected one of {', '.join(DATASET_NAMES)}; found {self.name!r}.")
        if self.path is not None and not isinstance(self.path, str):
            raise ConfigError("data.path", f"expected a path as text or None; found {self.path!r}.")
        if self.path is not None and self.name != "cifar10":
            raise ConfigError("data.path", f"only cifar10 reads a local copy; found a path for {self.name}.")
        if not _is_int(self.seed) or self.seed < 0:
            raise ConfigError("data.seed", f"expected an integer >= 0; found {self.seed!r}.")
        self._validate_sizes()

    def _validate_sizes(self) -> None:
        split = self.validation_split
        if isinstance(split, bool) or not isinstance(split, int | float) or not 0 < split <= 0.9:
            raise ConfigError("data.validation_split", f"expected a fraction in (0, 0.9]; found {split!r}.")
        if self.train_size is not None and (not _is_int(self.train_size) or self.train_size < MIN_TRAIN_SIZE):
            raise ConfigError(
                "data.train_size",
                f"expected None (all) or an integer >= {MIN_TRAIN_SIZE} (one image per class for training "
                f"and for validation); found {self.train_size!r}.",
            )
        if self.test_size is not None and (
            not _is_int(self.test_size) or self.test_size < 0 or 0 < self.test_size < NUM_CLASSES
        ):
            raise ConfigError(
                "data.test_size",
                f"expected None (all), 0 (none) or an integer >= {NUM_CLASSES} (one image per class); "
                f"found {self.test_size!r}.",
            )
        self._validate_digits_sizes()
        if self.train_size is not None:
            n_val = validation_count(self.train_size, split)
            if not NUM_CLASSES <= n_val <= self.train_size - NUM_CLASSES:
                raise ConfigError(
                    "data.validation_split",
                    f"expected at least {NUM_CLASSES} validation and {NUM_CLASSES} training images (one per "
                    f"class); train_size={self.train_size} and validation_split={split} give {n_val} "
                    f"validation and {self.train_size - n_val} training images.",
                )

    def _validate_digits_sizes(self) -> None:
        """The digits set is small and its size known: asking for more than it has is an error now."""
        if self.name != "digits":
            return
        for field, size, available in (
            ("train_size", self.train_size, DIGITS_TRAIN_SIZE),
            ("test_size", self.test_size, DIGITS_TEST_SIZE),
        ):
            if size is not None and size > available:
                raise ConfigError(
                    f"data.{field}",
                    f"digits has {DIGITS_TOTAL:,} images, {DIGITS_TRAIN_SIZE:,} for training and validation and "
                    f"{DIGITS_TEST_SIZE} kept for testing; expected a {field} of at most {available} or None (all); "
                    f"found {size}.",
                )


def validation_count(train_size: int, validation_split: float) -> int:
    """How many of ``train_size`` images are held out for validation."""
    return round(train_size * validation_split)


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset: training, validation (from the training set) and held-out test arrays.

    Images are uint8 (N, 32, 32, 3), labels int64 (N,). The test set is never used to choose
    hyperparameters. Images are arrays, or ``ImageRows`` of a memory-mapped cache (``np.asarray`` reads them).
    """

    name: str
    label: str
    class_names: tuple[str, ...]
    x_train: np.ndarray | ImageRows
    y_train: np.ndarray
    x_val: np.ndarray | ImageRows
    y_val: np.ndarray
    x_test: np.ndarray | ImageRows
    y_test: np.ndarray

    def summary(self) -> dict[str, Any]:
        """Name, label, class names and the number of images per split and per class (JSON-able)."""
        splits = {"train": self.y_train, "validation": self.y_val, "test": self.y_test}
        counts = {split: np.bincount(y, minlength=len(self.class_names)).tolist() for split, y in splits.items()}
        return {
            "name": self.name,
            "label": self.label,
            "class_names": list(self.class_names),
            "image_shape": list(self.x_train.shape[1:]),
            "counts": {split: len(y) for split, y in splits.items()},
            "class_counts": counts,
        }
