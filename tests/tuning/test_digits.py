"""scikit-learn's handwritten digits as a dataset: upscaling, the fixed test set, sizes and their errors."""

from __future__ import annotations

import numpy as np
import pytest

from tuning.cli.parsers import build_parser
from tuning.data import DIGITS_CLASSES, Dataset, DataSpec, load_dataset
from tuning.data.digits import DIGITS_TEST_SIZE, DIGITS_TRAIN_SIZE, load_digits_split, upscale
from tuning.errors import ConfigError


@pytest.fixture(scope="module")
def everything() -> Dataset:
    return load_dataset(DataSpec(name="digits", train_size=None, validation_split=0.2, seed=0))


def _rows(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in x}


def test_all_the_digits_load_as_labelled_rgb_images(everything: Dataset) -> None:
    data = everything
    assert data.x_train.shape[1:] == (32, 32, 3) and data.x_train.dtype == np.uint8
    assert data.y_train.dtype == np.int64
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (1198, 299, DIGITS_TEST_SIZE)
    assert len(data.y_train) + len(data.y_val) == DIGITS_TRAIN_SIZE == 1497
    assert data.class_names == DIGITS_CLASSES == tuple("0123456789")
    assert "digits" in data.label.lower() and "not CIFAR-10" in data.label
    assert np.array_equal(data.x_train[..., 0], data.x_train[..., 2])  # grey, as three channels
    assert not _rows(data.x_test) & (_rows(data.x_train) | _rows(data.x_val))


def test_the_split_is_stratified_and_the_test_set_fixed_whatever_the_seed(everything: Dataset) -> None:
    for y, per_class in ((everything.y_test, 30), (everything.y_val, 30), (everything.y_train, 120)):
        counts = np.bincount(y, minlength=10)
        assert counts.min() >= per_class - 4 and counts.max() <= per_class + 4, counts
    other = load_dataset(DataSpec(name="digits", train_size=None, seed=3))
    np.testing.assert_array_equal(other.x_test, everything.x_test)
    assert not np.array_equal(other.y_val, everything.y_val)  # the validation split follows the seed
    again = load_digits_split()
    np.testing.assert_array_equal(again[1][0], everything.x_test)


def test_subsets_of_the_digits_are_stratified() -> None:
    data = load_dataset(DataSpec(name="digits", train_size=500, validation_split=0.2, test_size=100, seed=1))
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (400, 100, 100)
    assert np.bincount(data.y_test, minlength=10).tolist() == [10] * 10
    assert np.bincount(data.y_val, minlength=10).min() >= 9


def test_upscaling_is_smooth_and_keeps_the_grey_levels() -> None:
    flat = upscale(np.full((1, 8, 8), 16))
    assert flat.shape == (1, 32, 32, 3) and (flat == 255).all()
    assert (upscale(np.zeros((1, 8, 8))) == 0).all()
    checker = (np.indices((8, 8)).sum(axis=0) % 2 * 16)[None]
    big = upscale(checker)[0, :, :, 0]
    assert big.min() == 0 and big.max() == 255
    assert len(np.unique(big)) > 4  # blended between pixel centres, not 4x4 blocks


@pytest.mark.parametrize(
    ("sizes", "field"),
    [({"train_size": 2000}, "data.train_size"), ({"train_size": None, "test_size": 301}, "data.test_size")],
)
def test_asking_for_more_digits_than_there_are_is_a_one_line_error(sizes: dict, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        DataSpec(name="digits", **sizes).validate()
    assert info.value.field == field
    assert "digits has 1,797 images, 1,497 for training and validation and 300 kept for testing" in str(info.value)
    assert "\n" not in str(info.value)
    DataSpec(name="digits", train_size=DIGITS_TRAIN_SIZE, test_size=DIGITS_TEST_SIZE).validate()


def test_the_digits_read_no_local_copy() -> None:
    with pytest.raises(ConfigError) as info:
        DataSpec(name="digits", train_size=None, path="/data/digits").validate()
    assert info.value.field == "data.path"


def test_the_command_line_offers_the_digits() -> None:
    args = build_parser().parse_args(["run", "--directory", "runs", "--dataset", "digits", "--train-size", "1000"])
    assert (args.dataset, args.train_size) == ("digits", 1000)
