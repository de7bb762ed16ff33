"""The decoded, memory-mapped CIFAR-10 copy that the processes of a search share."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.tuning.cifar_fixtures import expected_arrays, known_batches, write_binary_tar, write_python_tar
from tuning.data import load_cifar10
from tuning.data.cache import NAMES, PREFIX, check_cache, sha256_of


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "keras"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


def _cache(home: Path) -> Path:
    (found,) = (home / "datasets").glob(f"{PREFIX}*")
    return found


def _equal(loaded, expected) -> None:
    for got, want in zip((*loaded[0], *loaded[1]), (*expected[0], *expected[1]), strict=True):
        np.testing.assert_array_equal(got, want)


def test_the_first_load_writes_the_cache_and_the_next_maps_it(tmp_path: Path, keras_home: Path) -> None:
    batches = known_batches()
    archive = write_python_tar(tmp_path, batches)
    calls: list[str] = []
    first = load_cifar10(archive, progress=lambda m, f: calls.append(m))
    assert any("data_batch_1" in m for m in calls)  # decoded from the archive
    folder = _cache(keras_home)
    assert folder.name == PREFIX + sha256_of([archive])[:16]
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["source_sha256"] == sha256_of([archive]) and set(meta["arrays"]) == set(NAMES)
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left
    calls.clear()
    second = load_cifar10(archive, progress=lambda m, f: calls.append(m))
    assert not any("data_batch_1" in m for m in calls)  # not decoded again
    assert isinstance(second[0][0], np.memmap) and not second[0][0].flags.writeable
    _equal(first, expected_arrays(batches))
    _equal(second, expected_arrays(batches))


def test_another_archive_gets_its_own_cache(tmp_path: Path, keras_home: Path) -> None:
    one, other = known_batches(seed=1), known_batches(seed=2)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    load_cifar10(write_python_tar(tmp_path / "a", one))
    loaded = load_cifar10(write_binary_tar(tmp_path / "b", other))
    assert len(list((keras_home / "datasets").glob(f"{PREFIX}*"))) == 2
    _equal(loaded, expected_arrays(other))  # never the stale arrays of the first archive


@pytest.mark.parametrize("damage", ["truncate", "flip", "meta", "remove"])
def test_a_damaged_cache_is_refused_and_rebuilt(tmp_path: Path, keras_home: Path, damage: str) -> None:
    batches = known_batches()
    archive = write_python_tar(tmp_path, batches)
    load_cifar10(archive)
    folder = _cache(keras_home)
    target = folder / "x_train.npy"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:-100])
    elif damage == "flip":
        data = bytearray(target.read_bytes())
        data[-1] ^= 0xFF  # same size, one pixel changed
        target.write_bytes(bytes(data))
    elif damage == "meta":
        (folder / "meta.json").write_text("{not json")
    else:
        target.unlink()
    assert check_cache(folder, sha256_of([archive])) is not None
    notes: list[str] = []
    loaded = load_cifar10(archive, progress=lambda m, f: notes.append(m))
    assert any("unusable" in n and "rebuilding" in n for n in notes)
    _equal(loaded, expected_arrays(batches))
    assert check_cache(folder, sha256_of([archive])) is None


def test_two_processes_loading_at_once_share_one_good_cache(tmp_path: Path, keras_home: Path) -> None:
    batches = known_batches()
    archive = write_python_tar(tmp_path, batches)
    code = f"from tuning.data import load_cifar10; d = load_cifar10({str(archive)!r}); print(int(d[0][1].sum()))"
    env = {"KERAS_HOME": str(keras_home), "PATH": "/usr/bin:/bin"}
    runs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert outputs[0] == outputs[1] == str(int(expected_arrays(batches)[0][1].sum()))
    assert check_cache(_cache(keras_home), sha256_of([archive])) is None
