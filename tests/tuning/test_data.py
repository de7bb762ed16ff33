"""Tests of tuning.data: CIFAR-10 readers (both official formats), the synthetic set, splits, pipeline."""

from __future__ import annotations

import json
import os
import pickle
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.tuning.cifar_fixtures import (
    BIN_FOLDER,
    PY_FOLDER,
    Split,
    binary_files,
    expected_arrays,
    known_batches,
    python_files,
    write_binary_tar,
    write_folder,
    write_python_tar,
    write_tar_gz,
)
from tuning.data import (
    CIFAR10_CLASSES,
    SYNTHETIC_CLASSES,
    DataSpec,
    cifar10_cached,
    load_cifar10,
    load_dataset,
    make_synthetic,
    make_tf_dataset,
    stratified_split,
    stratified_subset,
)
from tuning.data.rows import ImageRows, pick
from tuning.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def batches() -> list[Split]:
    return known_batches(30)


def _assert_loaded(loaded: tuple[Split, Split], batches: list[Split]) -> None:
    (x_train, y_train), (x_test, y_test) = loaded
    (ex_train, ey_train), (ex_test, ey_test) = expected_arrays(batches)
    assert x_train.dtype == np.uint8 and x_train.shape == (150, 32, 32, 3)
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    np.testing.assert_array_equal(x_train, ex_train)
    np.testing.assert_array_equal(y_train, ey_train)
    np.testing.assert_array_equal(x_test, ex_test)
    np.testing.assert_array_equal(y_test, ey_test)


# --- CIFAR-10: both official formats, archive and folders ---------------------------------------


def _make_copy(root: Path, fmt: str, layout: str, batches: list[Split]) -> Path:
    folder, files = (PY_FOLDER, python_files(batches)) if fmt == "python" else (BIN_FOLDER, binary_files(batches))
    archive = root / ("cifar-10-python.tar.gz" if fmt == "python" else "cifar-10-binary.tar.gz")
    if layout == "tar.gz":
        return write_tar_gz(archive, folder, files)
    if layout == "folder":
        return write_folder(root, folder, files)
    if layout == "parent of folder":
        write_folder(root, folder, files)
        return root
    write_tar_gz(archive, folder, files)  # "folder holding the archive"
    return root


@pytest.mark.parametrize("fmt", ["python", "binary"])
@pytest.mark.parametrize("layout", ["tar.gz", "folder", "parent of folder", "folder holding the archive"])
def test_cifar10_reads_known_pixels_and_labels(tmp_path: Path, batches: list[Split], fmt: str, layout: str) -> None:
    path = _make_copy(tmp_path, fmt, layout, batches)
    _assert_loaded(load_cifar10(path), batches)
    _assert_loaded(load_cifar10(str(path)), batches)


def test_cifar10_reports_progress(tmp_path: Path, batches: list[Split], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # no decoded copy yet: the batches are read
    calls: list[tuple[str, float | None]] = []
    load_cifar10(write_python_tar(tmp_path, batches), progress=lambda m, f: calls.append((m, f)))
    assert calls[-1] == ("CIFAR-10 ready", 1.0)
    assert any("data_batch_3" in message for message, _ in calls)
    fractions = [f for _, f in calls if f is not None]
    assert fractions == sorted(fractions) and all(0 <= f <= 1 for f in fractions)


def test_fixture_batches_are_real_cifar_pickles(batches: list[Split]) -> None:
    """The fixture itself, checked with plain pickle (safe here: we wrote the bytes) as Keras reads it."""
    batch = pickle.loads(python_files(batches)["data_batch_2"], encoding="bytes")
    assert sorted(batch) == [b"batch_label", b"data", b"filenames", b"labels"]
    x, y = batches[1]
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (30, 3072)
    np.testing.assert_array_equal(batch[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), x)
    assert batch[b"labels"] == y.tolist()


def test_python_batches_pickled_by_python3_load_too(tmp_path: Path, batches: list[Split]) -> None:
    folder = tmp_path / PY_FOLDER
    folder.mkdir()
    for i, (x, y) in enumerate(batches):
        name = "test_batch" if i == 5 else f"data_batch_{i + 1}"
        flat = x.transpose(0, 3, 1, 2).reshape(len(x), 3072)
        batch = {b"batch_label": b"x", b"labels": y.tolist(), b"data": flat, b"filenames": []}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=4))
    _assert_loaded(load_cifar10(folder), batches)


# --- CIFAR-10: files that must be refused -------------------------------------------------------


class _RunsCommand:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[[str], object], tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


class _Evaluates:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[[str], object], tuple[str]]:
        return (eval, (f"open({str(self.marker)!r}, 'w').write('ran')",))


@pytest.mark.parametrize("payload", [_RunsCommand, _Evaluates], ids=["os.system", "builtins.eval"])
@pytest.mark.parametrize("protocol", [2, 4])
def test_malicious_pickle_is_refused_and_never_runs(
    tmp_path: Path, batches: list[Split], payload: type, protocol: int
) -> None:
    marker = tmp_path / "marker"
    evil = pickle.dumps(payload(marker), protocol=protocol)
    files = {**python_files(batches), "data_batch_3": evil}
    archive = write_tar_gz(tmp_path / "cifar-10-python.tar.gz", PY_FOLDER, files)
    for path in (archive, write_folder(tmp_path, PY_FOLDER, files)):
        with pytest.raises(DataError, match=r"data_batch_3: refuses to load (posix|os|__builtin__|builtins)\."):
            load_cifar10(path)
    assert not marker.exists()
    pickle.loads(evil)  # the payload is real: plain pickle would have run it
    assert marker.exists()


def test_truncated_archive_is_named(tmp_path: Path, batches: list[Split]) -> None:
    archive = write_python_tar(tmp_path, batches)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DataError, match=r"cifar-10-python\.tar\.gz is truncated or corrupt"):
        load_cifar10(archive)


@pytest.mark.parametrize("fmt", ["python", "binary"])
def test_truncated_batch_is_named(tmp_path: Path, batches: list[Split], fmt: str) -> None:
    files = python_files(batches) if fmt == "python" else binary_files(batches)
    name = "data_batch_2" if fmt == "python" else "data_batch_2.bin"
    files[name] = files[name][:-100]
    folder = write_folder(tmp_path, PY_FOLDER if fmt == "python" else BIN_FOLDER, files)
    with pytest.raises(DataError, match=rf"{name} is truncated or corrupt"):
        load_cifar10(folder)
    archive = write_tar_gz(tmp_path / "copy.tar.gz", "x", files)
    with pytest.raises(DataError, match=rf"copy\.tar\.gz/{name} is truncated or corrupt"):
        load_cifar10(archive)


def test_labels_out_of_range_are_refused(tmp_path: Path, batches: list[Split]) -> None:
    files = binary_files(batches)
    records = bytearray(files["test_batch.bin"])
    records[0] = 12
    files["test_batch.bin"] = bytes(records)
    with pytest.raises(DataError, match=r"test_batch\.bin: expected labels 0\.\.9; found 0\.\.12"):
        load_cifar10(write_folder(tmp_path, BIN_FOLDER, files))


def test_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"does not exist; expected cifar-10-python\.tar\.gz"):
        load_cifar10(tmp_path / "nowhere")


def test_folder_that_is_not_cifar_is_refused(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(DataError, match=r"not a CIFAR-10 folder: expected .*data_batch_1.*found cat\.jpg"):
        load_cifar10(tmp_path / "photos")


def test_incomplete_folder_is_refused(tmp_path: Path, batches: list[Split]) -> None:
    files = python_files(batches)
    del files["test_batch"]
    with pytest.raises(DataError, match="not a CIFAR-10 folder"):
        load_cifar10(write_folder(tmp_path, PY_FOLDER, files))


def test_archive_that_is_not_cifar_is_refused(tmp_path: Path) -> None:
    archive = write_tar_gz(tmp_path / "other.tar.gz", "other", {"notes.txt": b"hello"})
    with pytest.raises(DataError, match=r"not a CIFAR-10 archive: expected .*found other, other/notes\.txt"):
        load_cifar10(archive)
    text = tmp_path / "cifar-10-python.tar.gz"
    text.write_text("not an archive")
    with pytest.raises(DataError, match=r"cifar-10-python\.tar\.gz is truncated or corrupt"):
        load_cifar10(text)


# --- Keras' cache ------------------------------------------------------------------------------


def test_cifar10_cached_finds_keras_layouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batches: list[Split]
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert cifar10_cached() is None
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    archive = write_tar_gz(datasets / "cifar-10-batches-py-target_archive", PY_FOLDER, python_files(batches))
    assert cifar10_cached() == archive
    _assert_loaded(load_cifar10(), batches)  # read from the cache: no download
    folder = write_folder(datasets / "cifar-10-batches-py-target", PY_FOLDER, python_files(batches))
    assert cifar10_cached() == folder
    _assert_loaded(load_cifar10(None), batches)


def test_cifar10_cached_ignores_incomplete_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batches: list[Split]
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    files = python_files(batches)
    del files["data_batch_5"]
    write_folder(tmp_path / "datasets" / "cifar-10-batches-py-target", PY_FOLDER, files)
    assert cifar10_cached() is None


# --- stratified subsets and splits --------------------------------------------------------------


def _imbalanced_labels() -> np.ndarray:
    return np.repeat(np.arange(10), [100, 50, 30, 20, 10, 5, 4, 3, 2, 2])


@pytest.mark.parametrize("size", [10, 11, 25, 60, 226])
def test_stratified_subset_keeps_every_class(size: int) -> None:
    y = _imbalanced_labels()
    idx = stratified_subset(y, size, seed=3)
    assert len(idx) == size == len(np.unique(idx))
    assert set(y[idx]) == set(range(10))
    np.testing.assert_array_equal(idx, stratified_subset(y, size, seed=3))


def test_stratified_subset_follows_class_proportions() -> None:
    y = np.repeat(np.arange(10), 500)
    counts = np.bincount(y[stratified_subset(y, 200, seed=0)])
    assert counts.tolist() == [20] * 10
    assert not np.array_equal(stratified_subset(y, 200, seed=0), stratified_subset(y, 200, seed=1))


def test_stratified_subset_refuses_impossible_sizes() -> None:
    y = _imbalanced_labels()
    with pytest.raises(DataError, match="at least 10 items"):
        stratified_subset(y, 5, seed=0)
    with pytest.raises(DataError, match=r"between 0 and 226; found 227"):
        stratified_subset(y, 227, seed=0)
    assert stratified_subset(y, 0, seed=0).size == 0


def test_stratified_split_puts_every_class_on_both_sides() -> None:
    y = _imbalanced_labels()
    kept, held = stratified_split(y, 20, seed=0)
    assert len(held) == 20 and len(kept) == len(y) - 20
    assert not set(kept) & set(held)
    assert set(y[kept]) == set(y[held]) == set(range(10))


def _rows(x: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in x}


def test_load_dataset_cifar10_splits(tmp_path: Path, batches: list[Split]) -> None:
    archive = write_python_tar(tmp_path, batches)
    spec = DataSpec(name="cifar10", path=str(archive), train_size=100, validation_split=0.2, test_size=20)
    data = load_dataset(spec)
    (x_train, _), (x_test, _) = expected_arrays(batches)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (80, 20, 20)
    for y in (data.y_train, data.y_val, data.y_test):
        assert set(y) == set(range(10))
    assert not _rows(data.x_train) & _rows(data.x_val)
    assert _rows(data.x_train) | _rows(data.x_val) <= _rows(x_train)  # validation comes from training
    assert _rows(data.x_test) <= _rows(x_test)
    assert data.label == "CIFAR-10" and data.class_names == CIFAR10_CLASSES
    summary = data.summary()
    assert summary["counts"] == {"train": 80, "validation": 20, "test": 20}
    assert json.loads(json.dumps(summary)) == summary


def test_load_dataset_leaves_cifar10_images_in_the_shared_cache(tmp_path: Path, batches: list[Split]) -> None:
    archive = write_python_tar(tmp_path, batches)
    spec = DataSpec(name="cifar10", path=str(archive), train_size=100, validation_split=0.2, test_size=20)
    load_dataset(spec)  # the first load decodes and writes the cache
    data = load_dataset(spec)
    (x_train, y_train), (x_test, y_test) = expected_arrays(batches)
    for images, labels, official in ((data.x_train, data.y_train, x_train), (data.x_val, data.y_val, x_train)):
        # rows of the memory-mapped cache, not copies: each process that trains reads the same pages
        assert isinstance(images, ImageRows) and isinstance(images.base, np.memmap)
        assert images.base.shape == official.shape and not images.base.flags.writeable
        np.testing.assert_array_equal(np.asarray(images), official[images.index])
        np.testing.assert_array_equal(labels, y_train[images.index])
    assert isinstance(data.x_test, ImageRows) and data.x_test.base.shape == x_test.shape
    np.testing.assert_array_equal(np.asarray(data.x_test), x_test[data.x_test.index])
    np.testing.assert_array_equal(data.y_test, y_test[data.x_test.index])
    assert data.x_train.shape == (80, 32, 32, 3) and data.summary()["image_shape"] == [32, 32, 3]


def test_image_rows_read_like_the_array_they_stand_for() -> None:
    base = np.arange(12 * 2 * 2 * 3, dtype=np.uint8).reshape(12, 2, 2, 3)
    index = np.array([7, 0, 3, 11, 5])
    rows = ImageRows(base, index)
    want = base[index]
    assert (len(rows), rows.shape, rows.dtype, rows.ndim, rows.nbytes) == (5, (5, 2, 2, 3), np.uint8, 4, want.nbytes)
    np.testing.assert_array_equal(np.asarray(rows), want)
    np.testing.assert_array_equal(rows[1], base[0])
    np.testing.assert_array_equal(rows[1:3], want[1:3])
    np.testing.assert_array_equal(rows[np.array([4, 0])], want[[4, 0]])
    np.testing.assert_array_equal(np.asarray(rows, dtype=np.float32), want.astype(np.float32))
    np.testing.assert_array_equal(np.stack(list(rows)), want)  # iterates image by image, and stops
    np.testing.assert_array_equal(np.concatenate([rows, base[:1]]), np.concatenate([want, base[:1]]))
    taken = rows.take(np.array([2, 2, 0]))
    assert isinstance(taken, ImageRows) and taken.base is base
    np.testing.assert_array_equal(np.asarray(taken), base[[3, 3, 7]])
    assert "5 of 12 rows" in repr(rows)
    with pytest.raises(IndexError):
        rows[5]
    with pytest.raises(ValueError, match="1-D"):
        ImageRows(base, np.zeros((2, 2), dtype=int))


def test_pick_reads_nothing_from_a_memory_map_and_copies_arrays_in_memory(tmp_path: Path) -> None:
    base = np.arange(10 * 2 * 2 * 3, dtype=np.uint8).reshape(10, 2, 2, 3)
    np.save(tmp_path / "x.npy", base)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    rows = pick(mapped, np.array([1, 4]))
    assert isinstance(rows, ImageRows) and rows.base is mapped
    whole = pick(mapped)
    assert isinstance(whole, ImageRows) and len(whole) == 10
    assert isinstance(pick(rows, np.array([1])), ImageRows) and pick(rows) is rows
    np.testing.assert_array_equal(np.asarray(pick(rows, np.array([1]))), base[[4]])
    in_memory = pick(base, np.array([1, 4]))
    assert type(in_memory) is np.ndarray and not np.shares_memory(in_memory, base)
    assert pick(base) is base


def test_load_dataset_cifar10_all_and_too_many(tmp_path: Path, batches: list[Split]) -> None:
    archive = str(write_binary_tar(tmp_path, batches))
    data = load_dataset(DataSpec(name="cifar10", path=archive, train_size=None, test_size=None))
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (120, 30, 30)
    with pytest.raises(DataError, match="Asked for 200 training images; the dataset has only 150"):
        load_dataset(DataSpec(name="cifar10", path=archive, train_size=200))
    with pytest.raises(DataError, match="Asked for 1000 test images; the dataset has only 30"):
        load_dataset(DataSpec(name="cifar10", path=archive, train_size=100, test_size=1000))


def test_the_cifar10_test_set_is_the_whole_official_one_by_default(tmp_path: Path, batches: list[Split]) -> None:
    assert DataSpec().test_size is None
    data = load_dataset(DataSpec(name="cifar10", path=str(write_binary_tar(tmp_path, batches)), train_size=100))
    assert len(data.y_test) == 30  # every test image of this archive (10,000 in the real one)


def test_load_dataset_small_synthetic_keeps_every_class() -> None:
    data = load_dataset(DataSpec(train_size=100, validation_split=0.2, test_size=50, seed=4))
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (80, 20, 50)
    for y in (data.y_train, data.y_val, data.y_test):
        assert np.bincount(y, minlength=10).min() >= 2
    assert not _rows(data.x_train) & _rows(data.x_val)
    assert not _rows(data.x_test) & (_rows(data.x_train) | _rows(data.x_val))
    assert "synthetic" in data.label.lower() and "not CIFAR-10" in data.label
    assert data.name == "synthetic" and data.class_names == SYNTHETIC_CLASSES


# --- the synthetic set -------------------------------------------------------------------------


def test_synthetic_is_deterministic_balanced_and_fast() -> None:
    start = time.perf_counter()
    x, y = make_synthetic(10_000, seed=1)
    assert time.perf_counter() - start < 10
    assert x.shape == (10_000, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (10_000,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [1000] * 10
    x2, y2 = make_synthetic(200, seed=1)
    x3, y3 = make_synthetic(200, seed=1)
    np.testing.assert_array_equal(x2, x3)
    np.testing.assert_array_equal(y2, y3)
    x4, _ = make_synthetic(200, seed=2)
    x5, _ = make_synthetic(200, seed=1, split="test")
    assert not np.array_equal(x2, x4) and not np.array_equal(x2, x5)
    assert len(SYNTHETIC_CLASSES) == 10 and x.std() > 20  # varied images, not flat colour


def test_synthetic_is_learnable_by_a_small_cnn() -> None:
    import keras

    from tuning.engine.hypermodel import SMALL_CNN, build_model, one_hot

    keras.utils.set_random_seed(0)
    x, y = make_synthetic(1500, seed=0)
    x_val, y_val = make_synthetic(500, seed=0, split="test")
    model = build_model(SMALL_CNN | {"learning_rate": 3e-3})
    y, y_val = one_hot(y), one_hot(y_val)
    train = make_tf_dataset(x, y, batch_size=32, training=True, seed=0)
    val = make_tf_dataset(x_val, y_val, batch_size=256, training=False)
    history = model.fit(train, validation_data=val, epochs=5, shuffle=False, verbose=0)  # shuffled by the pipeline
    assert history.history["val_accuracy"][-1] > 0.4  # chance is 0.1


# --- the tf.data pipeline -----------------------------------------------------------------------


def _first_epoch(ds: Iterable[tuple[Any, Any]]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def test_pipeline_normalises_and_batches_in_order() -> None:
    x = np.arange(10 * 32 * 32 * 3, dtype=np.int64).reshape(10, 32, 32, 3) % 256
    x = x.astype(np.uint8)
    x[0] = 255
    y = np.arange(10, dtype=np.int64)
    ds = make_tf_dataset(x, y, batch_size=4, training=False)
    shapes = [(bx.shape[0], by.shape[0]) for bx, by in ds]
    assert shapes == [(4, 4), (4, 4), (2, 2)]
    images, labels = _first_epoch(ds)
    assert images.dtype == np.float32 and images.min() >= 0.0 and images.max() == 1.0
    np.testing.assert_allclose(images, x / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(labels, y)


def test_pipeline_accepts_one_hot_labels() -> None:
    x, y = make_synthetic(20, seed=0)
    one_hot = np.eye(10, dtype=np.float32)[y]
    bx, by = next(iter(make_tf_dataset(x, one_hot, batch_size=8, training=True)))
    assert bx.shape == (8, 32, 32, 3) and by.shape == (8, 10)


def test_pipeline_shuffles_reproducibly_and_per_epoch() -> None:
    x = np.repeat(np.arange(64, dtype=np.uint8), 32 * 32 * 3).reshape(64, 32, 32, 3)
    y = np.arange(64, dtype=np.int64)
    ds = make_tf_dataset(x, y, batch_size=16, training=True, seed=5)
    first, second = _first_epoch(ds)[1], _first_epoch(ds)[1]
    again = _first_epoch(make_tf_dataset(x, y, batch_size=16, training=True, seed=5))[1]
    other = _first_epoch(make_tf_dataset(x, y, batch_size=16, training=True, seed=6))[1]
    assert sorted(first) == list(range(64)) and sorted(second) == list(range(64))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second) and not np.array_equal(first, other)
    images, labels = _first_epoch(ds)
    np.testing.assert_allclose(images[:, 0, 0, 0] * 255, labels, atol=1e-4)  # images follow their labels


@pytest.mark.parametrize("training", [True, False])
def test_pipeline_reads_mapped_rows_as_it_would_read_the_same_array(tmp_path: Path, training: bool) -> None:
    x, y = make_synthetic(300, seed=2)
    np.save(tmp_path / "x.npy", x)
    index = np.random.default_rng(0).permutation(300)[:130]
    rows = ImageRows(np.load(tmp_path / "x.npy", mmap_mode="r"), index)
    mapped = make_tf_dataset(rows, y[index], batch_size=32, training=training, seed=4)
    copied = make_tf_dataset(x[index], y[index], batch_size=32, training=training, seed=4)
    assert mapped.element_spec[0].shape.as_list() == [None, 32, 32, 3]
    for _ in range(2):  # two epochs: the same reshuffle on both sides
        got, want = _first_epoch(mapped), _first_epoch(copied)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    assert got[0].dtype == np.float32 and len(got[1]) == 130


def test_pipeline_refuses_bad_arguments() -> None:
    x, y = make_synthetic(10, seed=0)
    with pytest.raises(ConfigError) as info:
        make_tf_dataset(x, y, batch_size=0, training=True)
    assert info.value.field == "batch_size"
    with pytest.raises(DataError, match="10 images, 9 labels"):
        make_tf_dataset(x, y[:9], batch_size=4, training=False)


# --- DataSpec ----------------------------------------------------------------------------------


def test_dataspec_round_trips_through_json() -> None:
    spec = DataSpec(name="cifar10", path="/data/cifar-10-python.tar.gz", train_size=None, seed=3)
    assert DataSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert DataSpec.from_dict({}) == DataSpec()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "mnist"}, "data.name"),
        ({"path": "/tmp/x"}, "data.path"),
        ({"name": "cifar10", "path": 3}, "data.path"),
        ({"validation_split": 0.0}, "data.validation_split"),
        ({"validation_split": 0.95}, "data.validation_split"),
        ({"validation_split": "0.2"}, "data.validation_split"),
        ({"train_size": 19}, "data.train_size"),
        ({"train_size": -5}, "data.train_size"),
        ({"train_size": 2.5}, "data.train_size"),
        ({"train_size": 40, "validation_split": 0.1}, "data.validation_split"),
        ({"train_size": 40, "validation_split": 0.9}, "data.validation_split"),
        ({"test_size": -1}, "data.test_size"),
        ({"test_size": 5}, "data.test_size"),
        ({"seed": "0"}, "data.seed"),
        ({"seed": -1}, "data.seed"),
    ],
)
def test_dataspec_validation_names_the_field(changes: dict, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        DataSpec(**changes).validate()
    assert info.value.field == field
    with pytest.raises(ConfigError):
        load_dataset(DataSpec(**changes))


def test_dataspec_from_dict_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigError) as info:
        DataSpec.from_dict({"name": "synthetic", "batch": 32})
    assert info.value.field == "data.batch"


def test_dataspec_accepts_edge_values() -> None:
    DataSpec(train_size=20, validation_split=0.5, test_size=0).validate()
    DataSpec(train_size=None, validation_split=0.9, test_size=None).validate()
    data = load_dataset(DataSpec(train_size=20, validation_split=0.5, test_size=0))
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (10, 10, 0)


def test_check_source_refuses_unusable_local_copies_before_a_search_starts(
    tmp_path: Path, batches: list[Split]
) -> None:
    from tuning.data import check_source

    check_source(DataSpec(name="synthetic"))  # nothing to check
    (tmp_path / "archive").mkdir()
    archive = write_python_tar(tmp_path / "archive", batches)
    check_source(DataSpec(name="cifar10", path=str(archive)))
    folder = write_folder(tmp_path / "extracted", BIN_FOLDER, binary_files(batches))
    check_source(DataSpec(name="cifar10", path=str(folder)))
    check_source(DataSpec(name="cifar10", path=str(folder.parent)))
    with pytest.raises(DataError, match="does not exist"):
        check_source(DataSpec(name="cifar10", path=str(tmp_path / "nowhere")))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="not a tar archive"):
        check_source(DataSpec(name="cifar10", path=str(tmp_path / "notes.txt")))
    with pytest.raises(DataError, match=r"not a CIFAR-10 folder.*notes.txt"):
        check_source(DataSpec(name="cifar10", path=str(tmp_path)))


def test_a_failed_download_says_what_to_do_instead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tuning.data.cifar10 as cifar10

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(cifar10, "CIFAR10_URL", (tmp_path / "absent.tar.gz").as_uri())  # unreachable origin
    with pytest.raises(DataError, match=r"could not be downloaded .*--data-path.*synthetic"):
        load_cifar10()
