"""Writers of tiny CIFAR-10 copies in the exact official formats, with known pixels and labels.

The python version is written byte for byte as the originals were: Python 2 ``cPickle`` protocol 2,
byte-string keys and values, and NumPy arrays pickled through ``numpy.core.multiarray._reconstruct``.
"""

from __future__ import annotations

import io
import struct
import tarfile
from pathlib import Path

import numpy as np

BATCHES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")
LABEL_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
PY_FOLDER, BIN_FOLDER = "cifar-10-batches-py", "cifar-10-batches-bin"

Split = tuple[np.ndarray, np.ndarray]


def known_batches(n_per_batch: int = 30, *, seed: int = 7) -> list[Split]:
    """Six batches (5 training, 1 test) of NHWC uint8 images and int64 labels, all classes in each."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in BATCHES:
        x = rng.integers(0, 256, size=(n_per_batch, 32, 32, 3), dtype=np.uint8)
        y = rng.permutation(np.arange(n_per_batch) % 10).astype(np.int64)
        batches.append((x, y))
    return batches


def expected_arrays(batches: list[Split]) -> tuple[Split, Split]:
    """What a loader must return for ``batches``: ((x_train, y_train), (x_test, y_test))."""
    x_train = np.concatenate([x for x, _ in batches[:5]])
    y_train = np.concatenate([y for _, y in batches[:5]])
    return (x_train, y_train), batches[5]


def _channel_major(x: np.ndarray) -> np.ndarray:
    """(N, 32, 32, 3) to CIFAR-10's rows of 3072 bytes: the red plane, then green, then blue."""
    return x.transpose(0, 3, 1, 2).reshape(len(x), 3072)


# --- Python 2 cPickle, protocol 2 -------------------------------------------------------------


def _py2_int(value: int) -> bytes:
    if 0 <= value < 256:
        return b"K" + bytes([value])
    if 0 <= value < 65536:
        return b"M" + struct.pack("<H", value)
    return b"J" + struct.pack("<i", value)


def _py2_str(value: bytes) -> bytes:
    if len(value) < 256:
        return b"U" + bytes([len(value)]) + value
    return b"T" + struct.pack("<i", len(value)) + value


def _py2_uint8_array(flat: np.ndarray) -> bytes:
    """A 2-D uint8 array as Python 2 + NumPy 1.x pickled it."""
    dtype = b"cnumpy\ndtype\n" + _py2_str(b"u1") + b"K\x00K\x01\x87R"
    dtype += b"(K\x03" + _py2_str(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    head = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + _py2_str(b"b") + b"\x87R"
    shape = _py2_int(flat.shape[0]) + _py2_int(flat.shape[1]) + b"\x86"
    return head + b"(K\x01" + shape + dtype + b"\x89" + _py2_str(flat.tobytes()) + b"tb"


def _py2_list(items: list[bytes]) -> bytes:
    return b"](" + b"".join(items) + b"e"


def py2_batch_pickle(x: np.ndarray, y: np.ndarray, *, batch_label: str) -> bytes:
    """One python-version batch file: {'batch_label', 'labels', 'data', 'filenames'}."""
    names = [f"image_{i:05d}.png".encode() for i in range(len(y))]
    items = [
        (b"batch_label", _py2_str(batch_label.encode())),
        (b"labels", _py2_list([_py2_int(int(v)) for v in y])),
        (b"data", _py2_uint8_array(_channel_major(x))),
        (b"filenames", _py2_list([_py2_str(n) for n in names])),
    ]
    body = b"".join(_py2_str(key) + value for key, value in items)
    return b"\x80\x02}(" + body + b"u."


def _py2_meta(n_per_batch: int) -> bytes:
    names = _py2_list([_py2_str(n.encode()) for n in LABEL_NAMES])
    body = _py2_str(b"num_cases_per_batch") + _py2_int(n_per_batch) + _py2_str(b"label_names") + names
    return b"\x80\x02}(" + body + _py2_str(b"num_vis") + _py2_int(3072) + b"u."


# --- files -------------------------------------------------------------------------------------


def python_files(batches: list[Split]) -> dict[str, bytes]:
    """The python version's files by name (as in the folder ``cifar-10-batches-py``)."""
    files = {"batches.meta": _py2_meta(len(batches[0][1])), "readme.html": b"<html></html>\n"}
    for i, (name, (x, y)) in enumerate(zip(BATCHES, batches, strict=True)):
        label = "testing batch 1 of 1" if name == "test_batch" else f"training batch {i + 1} of 5"
        files[name] = py2_batch_pickle(x, y, batch_label=label)
    return files


def binary_files(batches: list[Split]) -> dict[str, bytes]:
    """The binary version's files by name (as in the folder ``cifar-10-batches-bin``)."""
    files = {"batches.meta.txt": "\n".join(LABEL_NAMES).encode() + b"\n\n", "readme.html": b"<html/>\n"}
    for name, (x, y) in zip(BATCHES, batches, strict=True):
        records = np.concatenate([y.astype(np.uint8)[:, None], _channel_major(x)], axis=1)
        files[f"{name}.bin"] = records.tobytes()
    return files


def write_folder(root: Path, folder: str, files: dict[str, bytes]) -> Path:
    """``files`` written into ``root/folder``; the folder."""
    target = root / folder
    target.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (target / name).write_bytes(data)
    return target


def write_tar_gz(path: Path, folder: str, files: dict[str, bytes]) -> Path:
    """``files`` in a .tar.gz under ``folder/``, with a directory entry first, as the originals."""
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo(folder)
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def write_python_tar(root: Path, batches: list[Split]) -> Path:
    """``root/cifar-10-python.tar.gz`` holding ``batches``."""
    return write_tar_gz(root / "cifar-10-python.tar.gz", PY_FOLDER, python_files(batches))


def write_binary_tar(root: Path, batches: list[Split]) -> Path:
    """``root/cifar-10-binary.tar.gz`` holding ``batches``."""
    return write_tar_gz(root / "cifar-10-binary.tar.gz", BIN_FOLDER, binary_files(batches))
