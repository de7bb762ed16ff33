"""``load_dataset``: a DataSpec becomes training, validation and held-out test arrays."""

from __future__ import annotations

import numpy as np

from tuning.data.cifar10 import CIFAR10_CLASSES, check_cifar10_path, cifar10_cached, load_cifar10
from tuning.data.digits import DIGITS_CLASSES, DIGITS_LABEL, load_digits_split
from tuning.data.rows import ImageRows, pick
from tuning.data.spec import Dataset, DataSpec, ProgressFn, validation_count
from tuning.data.splits import stratified_split, stratified_subset
from tuning.data.synthetic import SYNTHETIC_CLASSES, SYNTHETIC_LABEL, make_synthetic
from tuning.errors import DataError

CIFAR10_LABEL = "CIFAR-10"
# Sizes of the synthetic set's "official" training and test sets, as CIFAR-10's.
SYNTHETIC_TRAIN_SIZE = 50_000
SYNTHETIC_TEST_SIZE = 10_000

Arrays = tuple[np.ndarray | ImageRows, np.ndarray]


def check_source(spec: DataSpec) -> None:
    """Raise ``DataError`` now, before a search starts, if the dataset's local copy cannot be used."""
    if spec.name == "cifar10" and spec.path is not None:
        check_cifar10_path(spec.path)


def prepare_source(spec: DataSpec) -> None:
    """Fetch what ``spec`` needs once (the CIFAR-10 download), before several processes load it at once."""
    if spec.name == "cifar10" and spec.path is None and cifar10_cached() is None:
        load_cifar10()


def _check_size(what: str, size: int | None, available: int) -> int:
    if size is None:
        return available
    if size > available:
        raise DataError(f"Asked for {size} {what} images; the dataset has only {available}.")
    return size


def _subset(x: np.ndarray | ImageRows, y: np.ndarray, size: int, seed: int) -> Arrays:
    if size == len(y):
        return pick(x), y
    idx = stratified_subset(y, size, seed=seed)
    return pick(x, idx), y[idx]


def _synthetic(spec: DataSpec, progress: ProgressFn | None) -> tuple[Arrays, Arrays]:
    n_train = _check_size("training", spec.train_size, SYNTHETIC_TRAIN_SIZE)
    n_test = _check_size("test", spec.test_size, SYNTHETIC_TEST_SIZE)
    if progress is not None:
        progress(f"Generating {n_train + n_test} synthetic images", None)
    train = make_synthetic(n_train, seed=spec.seed, split="train")
    test = make_synthetic(n_test, seed=spec.seed, split="test")
    return train, test


def _subsets(spec: DataSpec, train: Arrays, test: Arrays) -> tuple[Arrays, Arrays]:
    """Stratified subsets of an official training and test set, of the sizes ``spec`` asks for."""
    n_train = _check_size("training", spec.train_size, len(train[1]))
    n_test = _check_size("test", spec.test_size, len(test[1]))
    # Different seeds for the two subsets, so that they are not drawn alike.
    return _subset(*train, n_train, spec.seed), _subset(*test, n_test, spec.seed + 1)


def _digits(spec: DataSpec, progress: ProgressFn | None) -> tuple[Arrays, Arrays]:
    if progress is not None:
        progress("Reading scikit-learn's handwritten digits", None)
    return _subsets(spec, *load_digits_split())


def _cifar10(spec: DataSpec, progress: ProgressFn | None) -> tuple[Arrays, Arrays]:
    return _subsets(spec, *load_cifar10(spec.path, progress=progress))


# name -> (how its arrays are made, its label, its class names)
_SOURCES = {
    "synthetic": (_synthetic, SYNTHETIC_LABEL, SYNTHETIC_CLASSES),
    "digits": (_digits, DIGITS_LABEL, DIGITS_CLASSES),
    "cifar10": (_cifar10, CIFAR10_LABEL, CIFAR10_CLASSES),
}


def load_dataset(spec: DataSpec, *, progress: ProgressFn | None = None) -> Dataset:
    """The training, validation and held-out test arrays that ``spec`` describes.

    Training and validation are a stratified, seeded subset of the official training set, split with
    every class on both sides; the test arrays are a stratified subset of the official test set (for
    the synthetic set, an independent random stream; for the digits, a fixed 300 of its 1,797 images).
    CIFAR-10's images stay in its memory-mapped cache: its image fields are ``ImageRows``, read batch by
    batch (``tuning.data.rows``); the other sets' are arrays.

    Raises ConfigError for an invalid spec, and DataError for data that cannot be found or read or
    for sizes larger than the dataset.
    """
    spec.validate()
    make, label, classes = _SOURCES[spec.name]
    (x, y), (x_test, y_test) = make(spec, progress)
    train_idx, val_idx = stratified_split(y, validation_count(len(y), spec.validation_split), seed=spec.seed)
    return Dataset(
        name=spec.name,
        label=label,
        class_names=classes,
        x_train=pick(x, train_idx),
        y_train=y[train_idx],
        x_val=pick(x, val_idx),
        y_val=y[val_idx],
        x_test=x_test,
        y_test=y_test,
    )
