"""Uploaded zips of Keras Tuner folders, extracted safely into a fresh folder.

Every member is checked before anything is written: relative paths only (no ``/x``, ``C:\\x`` or ``..``,
backslashes read as separators), plain files and folders only (no links, devices or pipes), not encrypted,
a compression method Python reads, and counts, sizes and compression ratios within ``ZipLimits`` by the
sizes the zip declares. While writing, the bytes actually unpacked are counted again against the same
limits, since declared sizes can lie. Files are created by this module alone (never ``extractall``), each
new (never overwriting) and checked, once resolved, to lie inside the fresh folder. On any failure the fresh
folder is removed and ``UploadError`` says what was wrong and what to do.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tuning.errors import UploadError
from tuning.results import discover
from tuning.settings import uploads_dir

MB = 1024 * 1024
CHUNK = MB
CENTRAL_DIRECTORY_BYTES_PER_MEMBER = 512  # generous: a tuner folder's entries take about 100 bytes each
SUPPORTED_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
_AGAIN = "Nothing was kept; zip the tuner folder again (a plain zip of its files and folders) and upload that."
_DRIVE = re.compile(r"^[A-Za-z]:")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ZipLimits:
    """What an upload may hold. ``max_compressed_bytes`` matches Streamlit's ``server.maxUploadSize`` (200 MB).

    ``max_ratio`` (uncompressed / compressed size) is checked for members of ``ratio_floor_bytes`` or more:
    small text files compress well without being a zip bomb.
    """

    max_compressed_bytes: int = 200 * MB
    max_total_uncompressed_bytes: int = 1024 * MB
    max_members: int = 20_000
    max_member_bytes: int = 512 * MB
    max_ratio: float = 200.0
    ratio_floor_bytes: int = MB


@dataclass(frozen=True)
class UploadedProjects:
    """Where an upload was extracted (``folder``) and the Keras Tuner projects found in it, sorted (one or more)."""

    folder: Path
    projects: list[Path]


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]
    is_dir: bool


def extract_project_zip(
    source: bytes | BinaryIO | Path,
    *,
    name: str,
    dest_root: Path | None = None,
    limits: ZipLimits = ZipLimits(),
) -> UploadedProjects:
    """Extract the zip ``source`` (its bytes, a binary stream read from where it stands, or a file) into a fresh
    folder of ``dest_root``.

    ``name`` (the uploaded file's name) names the folder, with a timestamp and a random suffix so that no
    earlier upload is ever overwritten; ``dest_root`` defaults to ``uploads_dir()``. Returns the folder and
    the projects ``tuning.results.discover`` finds in it (several when the zip holds several). Raises
    ``UploadError`` (leaving nothing behind) for anything but a zip of plain files within ``limits`` holding
    at least one Keras Tuner project.
    """
    label = repr(name)
    with _opened(source, label, limits) as stream:
        _check_central_directory(stream, label, limits)
        try:
            archive = zipfile.ZipFile(stream)
        except (*READ_ERRORS, OSError) as exc:
            raise UploadError(_not_a_zip(label, exc)) from None
        with archive:
            members = _plan_members(archive.infolist(), label, limits)
            folder = _fresh_folder(dest_root or uploads_dir(), name)
            try:
                _write_members(archive, members, folder, label, limits)
                projects = discover(folder)
                if not projects:
                    raise UploadError(_no_project(label, members))
            except BaseException as exc:
                shutil.rmtree(folder, ignore_errors=True)
                if isinstance(exc, READ_ERRORS):
                    raise UploadError(f"{label} is damaged and could not be unpacked ({exc}). {_AGAIN}") from None
                if isinstance(exc, OSError):
                    raise UploadError(f"{label} could not be unpacked: {exc}. {_AGAIN}") from None
                raise
    return UploadedProjects(folder=folder, projects=projects)


def _plan_members(infos: list[zipfile.ZipInfo], label: str, limits: ZipLimits) -> list[_Member]:
    """The members to write, each checked, and their declared sizes checked against ``limits``."""
    if len(infos) > limits.max_members:
        raise UploadError(
            f"{label} holds {len(infos)} files and folders, over the limit of {limits.max_members}. "
            "Zip only the tuner's project folder (leave out datasets and other files)."
        )
    members, seen, total = [], set(), 0
    for info in infos:
        member = _check_member(info, label, limits)
        if member is None:
            continue
        if member.parts in seen:
            raise UploadError(f"{label} holds {info.filename!r} twice. {_AGAIN}")
        seen.add(member.parts)
        total += 0 if member.is_dir else info.file_size
        if total > limits.max_total_uncompressed_bytes:
            raise UploadError(_too_big(label, limits, more=True))
        members.append(member)
    return members


def _check_member(info: zipfile.ZipInfo, label: str, limits: ZipLimits) -> _Member | None:
    """The member ``info`` once checked, or None for an entry naming only the top folder (``./``)."""
    name = info.filename.replace("\\", "/")
    mode = info.external_attr >> 16
    refused = f"{label} was refused: its member {info.filename!r}"
    if name.startswith("/") or _DRIVE.match(name):
        raise UploadError(f"{refused} has an absolute path. Only paths relative to the zip's top are accepted.")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise UploadError(f"{refused} climbs out of the folder with '..'. Zip the tuner folder itself again.")
    if stat.S_ISLNK(mode):
        raise UploadError(f"{refused} is a symbolic link. Zip the folder again without links (zip without -y).")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UploadError(f"{refused} is not a plain file or folder (a device, pipe or socket). {_AGAIN}")
    if info.flag_bits & 0x1:
        raise UploadError(f"{refused} is encrypted. Zip the folder again without a password.")
    if info.compress_type not in SUPPORTED_METHODS:
        raise UploadError(f"{refused} uses compression method {info.compress_type}, which cannot be read. {_AGAIN}")
    if not parts:
        return None
    is_dir = name.endswith("/") or stat.S_ISDIR(mode)
    if not is_dir:
        _check_member_size(info, label, limits)
    return _Member(info=info, parts=parts, is_dir=is_dir)


def _check_member_size(info: zipfile.ZipInfo, label: str, limits: ZipLimits) -> None:
    if info.file_size > limits.max_member_bytes:
        raise UploadError(
            f"{label} was refused: its member {info.filename!r} unpacks to {_size(info.file_size)}, over the "
            f"limit of {_size(limits.max_member_bytes)} for one file. Leave large files (datasets, checkpoints) "
            "out of the zip: the analysis needs only the JSON files."
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size >= limits.ratio_floor_bytes and ratio > limits.max_ratio:
        raise UploadError(
            f"{label} was refused: its member {info.filename!r} unpacks to {_size(info.file_size)} from "
            f"{_size(info.compress_size)} (ratio {ratio:.0f}, over the limit of {limits.max_ratio:.0f}), as a zip "
            "bomb does. A tuner folder's files do not compress that much; zip the folder itself again."
        )


def _write_members(
    archive: zipfile.ZipFile, members: list[_Member], folder: Path, label: str, limits: ZipLimits
) -> None:
    """Create every member under ``folder``, counting the bytes actually unpacked against ``limits``."""
    total = 0
    for member in members:
        target = folder.joinpath(*member.parts)
        directory = target if member.is_dir else target.parent
        directory.mkdir(parents=True, exist_ok=True)
        if not directory.resolve().is_relative_to(folder):
            raise UploadError(f"{label} was refused: {member.info.filename!r} would be written outside its folder.")
        if not member.is_dir:
            total = _write_file(archive, member.info, target, total, label, limits)


def _write_file(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, total: int, label: str, limits: ZipLimits
) -> int:
    """Stream one member into the new file ``target``; returns the bytes unpacked so far, this file included."""
    allowed = min(info.file_size, limits.max_member_bytes)
    written = 0
    with archive.open(info) as source, target.open("xb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            total += len(chunk)
            if written > allowed or total > limits.max_total_uncompressed_bytes:
                raise UploadError(
                    f"{label} was refused: {info.filename!r} unpacks to more than it declares or than the limits "
                    f"allow ({_size(allowed)} for it, {_size(limits.max_total_uncompressed_bytes)} in all). {_AGAIN}"
                )
            out.write(chunk)
    return total


@contextmanager
def _opened(source: bytes | BinaryIO | Path, label: str, limits: ZipLimits) -> Iterator[BinaryIO]:
    """``source`` as a seekable binary stream, refused when it is over ``limits.max_compressed_bytes``."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        stream: BinaryIO = io.BytesIO(bytes(source[: limits.max_compressed_bytes + 1]))
    elif isinstance(source, (str, os.PathLike)):
        try:
            stream = Path(source).open("rb")  # noqa: SIM115 (closed by the ``with stream`` below)
        except OSError as exc:
            raise UploadError(f"{label} cannot be read: {exc}.") from None
    else:
        stream = io.BytesIO(source.read(limits.max_compressed_bytes + 1))
    with stream:
        size = stream.seek(0, os.SEEK_END)
        if size > limits.max_compressed_bytes:
            raise UploadError(_too_big(label, limits, more=False))
        stream.seek(0)
        yield stream


def _check_central_directory(stream: BinaryIO, label: str, limits: ZipLimits) -> None:
    """Refuse a zip whose table of contents is too large to read for ``max_members`` members.

    ``zipfile`` reads the whole table into memory whatever its declared count of members, so a small upload
    of millions of empty entries would exhaust memory before the count could be checked. This reads the
    table's size with the parser ``zipfile`` itself uses.
    """
    try:
        end = zipfile._EndRecData(stream)  # the record ZipFile will use; private but stable since Python 2
    except (OSError, ValueError, *READ_ERRORS):
        end = None
    stream.seek(0)
    if end is None:
        return  # not a zip: ZipFile says so
    if end[zipfile._ECD_SIZE] > limits.max_members * CENTRAL_DIRECTORY_BYTES_PER_MEMBER:
        raise UploadError(
            f"{label} lists more than {limits.max_members} files and folders (its table of contents takes "
            f"{_size(end[zipfile._ECD_SIZE])}). Zip only the tuner's project folder."
        )


def _fresh_folder(dest_root: Path, name: str) -> Path:
    """A new, empty folder under ``dest_root`` named after ``name``, a timestamp and a random suffix."""
    stem = name[:-4] if name.lower().endswith(".zip") else name
    slug = _UNSAFE_NAME_CHARS.sub("-", Path(stem.replace("\\", "/")).name).strip(".-_")[:60] or "upload"
    try:
        root = dest_root.expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"{slug}-{time.strftime('%Y%m%d-%H%M%S')}-", dir=root))
    except OSError as exc:
        raise UploadError(f"Cannot create a folder for the upload in {dest_root}: {exc}.") from None


def _no_project(label: str, members: list[_Member]) -> str:
    files = [m.info.filename for m in members if not m.is_dir]
    shown = ", ".join(files[:5]) + (", ..." if len(files) > 5 else "")
    found = f"{len(files)} files ({shown})" if files else "no files"
    return (
        f"The zip holds no Keras Tuner project: {label} has {found}; expected a folder with oracle.json and "
        "trial_*/trial.json files (what Keras Tuner writes in directory/project_name). Zip that folder and "
        "upload it. Nothing was kept."
    )


def _not_a_zip(label: str, exc: BaseException) -> str:
    return (
        f"{label} is not a zip file, or it is damaged ({exc}): expected a .zip of a Keras Tuner project folder. "
        "Zip the folder again and upload the .zip."
    )


def _too_big(label: str, limits: ZipLimits, *, more: bool) -> str:
    if more:
        what = f"unpacks to more than {_size(limits.max_total_uncompressed_bytes)}"
    else:
        what = f"is larger than {_size(limits.max_compressed_bytes)}"
    return (
        f"{label} {what}, the limit for an upload. Leave large files (datasets, checkpoints) out of the zip: the "
        "analysis needs only the JSON files; or analyse the folder in place from a folder set in HPX_ANALYSIS_ROOTS."
    )


def _size(n: int) -> str:
    """``n`` bytes for people: ``512 bytes``, ``1.5 MB``."""
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"
