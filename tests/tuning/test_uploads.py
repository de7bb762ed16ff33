"""Uploaded zips of Keras Tuner folders: good ones extracted and readable, hostile ones refused leaving nothing."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pytest

from tests.results.factories import make_project, write_json
from tests.results.real_searches import fake_search
from tuning.engine.jobs import list_searches
from tuning.errors import UploadError
from tuning.results import discover, load_project
from tuning.results.uploads import UploadedProjects, ZipLimits, extract_project_zip
from tuning.settings import ANALYSIS_ROOTS_ENV, RUNS_ENV, UPLOADS_ENV, confine_path, runs_dir, uploads_dir

Entry = tuple[str | zipfile.ZipInfo, bytes]
DEFAULT_LIMITS = ZipLimits()


# ----- building zips ----------------------------------------------------------------------------------------
def zip_bytes(entries: Iterable[Entry], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``entries`` (name or ZipInfo, content), names kept exactly as given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def folder_entries(folder: Path, *, under: str = "", sep: str = "/") -> list[Entry]:
    """Every file below ``folder`` as a zip entry named ``under`` + its relative path (parts joined by ``sep``)."""
    return [
        (under + sep.join(path.relative_to(folder).parts), path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


def special(name: str, mode: int, data: bytes = b"") -> Entry:
    """An entry whose Unix mode (file type and permissions) is ``mode``."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info, data


def patch_central_directory(data: bytes, *, offset: int, fmt: str, value: int) -> bytes:
    """``data`` with a field of its first central directory entry changed (offsets from the entry's start)."""
    at = data.index(b"PK\x01\x02") + offset
    return data[:at] + struct.pack(fmt, value) + data[at + struct.calcsize(fmt) :]


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path below ``root`` with its content (None for folders and links)."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() and not p.is_symlink() else None
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A tiny Keras Tuner project in keras-tuner 1.4.8's format: four trials, one failed."""
    return make_project(tmp_path / "src", name="mnist_tune", n_trials=4, statuses={3: "FAILED"})


def refused(data: bytes | BinaryIO, dest: Path, match: str, *, limits: ZipLimits = DEFAULT_LIMITS) -> str:
    """The message of the UploadError ``data`` raises, after checking it left the whole tmp tree as it was."""
    base = dest.parent
    before = tree(base)
    with pytest.raises(UploadError, match=match) as caught:
        extract_project_zip(data, name="upload.zip", dest_root=dest, limits=limits)
    assert tree(base) == before
    assert list(dest.iterdir()) == []
    return str(caught.value)


# ----- good uploads ---------------------------------------------------------------------------------------
def test_a_zipped_project_is_extracted_into_a_fresh_folder_and_reads_as_the_original(
    source: Path, dest: Path, tmp_path: Path
) -> None:
    data = zip_bytes(folder_entries(source, under="mnist_tune/"))
    before = tree(tmp_path)
    uploaded = extract_project_zip(data, name="my run (v2).zip", dest_root=dest)
    assert uploaded.folder.parent == dest
    assert uploaded.folder.name.startswith("my-run-v2-")
    assert uploaded.projects == [uploaded.folder / "mnist_tune"]
    copy = uploaded.projects[0]
    assert tree(copy) == tree(source)
    after = tree(tmp_path)
    added = set(after) - set(before)
    assert added and all((tmp_path / p).resolve().is_relative_to(uploaded.folder) for p in added)
    assert {p: after[p] for p in before} == before  # nothing else changed
    original, extracted = load_project(source), load_project(copy)
    pd.testing.assert_frame_equal(extracted.trials, original.trials)
    assert list(extracted.trials["status"]) == ["COMPLETED", "COMPLETED", "COMPLETED", "FAILED"]
    assert extracted.best_trial_id == original.best_trial_id
    assert (extracted.tuner, extracted.objective) == (original.tuner, original.objective)


def test_every_upload_gets_its_own_folder(source: Path, dest: Path) -> None:
    data = zip_bytes(folder_entries(source))  # the project's files at the zip's top
    first = extract_project_zip(data, name="same.zip", dest_root=dest)
    kept = tree(first.folder)
    second = extract_project_zip(io.BytesIO(data), name="same.zip", dest_root=dest)
    assert first.folder != second.folder
    assert first.projects == [first.folder]
    assert second.projects == [second.folder]
    assert tree(first.folder) == kept
    assert sorted(dest.iterdir()) == sorted([first.folder, second.folder])


def test_a_zip_file_on_disk_and_a_zip_of_several_projects(tmp_path: Path, dest: Path) -> None:
    a = make_project(tmp_path / "src", name="a", n_trials=2)
    b = make_project(tmp_path / "src" / "more", name="b", n_trials=3, tuner="hyperband")
    path = tmp_path / "both.zip"
    path.write_bytes(zip_bytes(folder_entries(tmp_path / "src", under="results/")))
    uploaded = extract_project_zip(path, name=path.name, dest_root=dest)
    assert uploaded == UploadedProjects(
        folder=uploaded.folder, projects=[uploaded.folder / "results" / "a", uploaded.folder / "results/more/b"]
    )
    assert len(load_project(uploaded.projects[0]).trials) == len(load_project(a).trials) == 2
    assert load_project(uploaded.projects[1]).trials.index.tolist() == load_project(b).trials.index.tolist()


def test_a_real_keras_tuner_search_zipped_with_windows_separators(tmp_path: Path, dest: Path) -> None:
    search = fake_search(tmp_path / "kt", "real", "bayesian")
    project = tmp_path / "kt" / "real"
    entries = folder_entries(project, under="real\\", sep="\\")  # as Windows' older zip tools write names
    assert any("\\trial.json" in str(name) for name, _ in entries)
    uploaded = extract_project_zip(zip_bytes(entries), name="real.zip", dest_root=dest)
    assert uploaded.projects == [uploaded.folder / "real"]
    result = load_project(uploaded.projects[0])
    assert result.tuner == "bayesian"
    assert sorted(result.trials.index) == sorted(t.trial_id for t in search.oracle.trials.values())
    assert result.best_trial_id == search.oracle.get_best_trials(1)[0].trial_id


def test_uploads_land_in_the_runs_folder_reopenable_but_not_listed_as_searches(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    monkeypatch.delenv(UPLOADS_ENV, raising=False)
    monkeypatch.delenv(ANALYSIS_ROOTS_ENV, raising=False)
    write_json(source / "explorer" / "config.json", {"tuner": "random"})  # as if made by this app
    uploaded = extract_project_zip(zip_bytes(folder_entries(source, under="mine/")), name="mine.zip")
    assert uploaded.folder.parent == uploads_dir() == runs_dir().resolve() / "_uploads"
    assert list_searches(runs_dir()) == []
    assert discover(runs_dir()) == uploaded.projects
    assert confine_path(str(uploaded.projects[0])) == uploaded.projects[0]


@pytest.mark.parametrize(
    ("name", "prefix"),
    [("../../etc/passwd.zip", "passwd-"), (".hidden.ZIP", "hidden-"), ("", "upload-"), ("résumé ☃.zip", "r-sum-")],
)
def test_the_folder_name_is_made_safe(source: Path, dest: Path, name: str, prefix: str) -> None:
    uploaded = extract_project_zip(zip_bytes(folder_entries(source)), name=name, dest_root=dest)
    assert uploaded.folder.parent == dest
    assert uploaded.folder.name.startswith(prefix)


# ----- hostile members ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("entry", "match"),
    [
        (("../evil.txt", b"x"), r"member '../evil.txt' climbs out of the folder with '..'"),
        (("project/../../evil.txt", b"x"), "climbs out of the folder"),
        (("..\\evil.txt", b"x"), r"member '..\\\\evil.txt' climbs out of the folder"),
        (("/etc/cron.d/evil", b"x"), "member '/etc/cron.d/evil' has an absolute path"),
        (("C:\\Windows\\evil.dll", b"x"), "has an absolute path"),
        (("c:evil.txt", b"x"), "has an absolute path"),
        (("\\\\server\\share\\evil", b"x"), "has an absolute path"),
        (special("project/link", 0o120777, b"/etc/passwd"), "member 'project/link' is a symbolic link"),
        (special("project/fifo", 0o010644), "is not a plain file or folder"),
        (special("project/disk", 0o060660), "is not a plain file or folder"),
    ],
)
def test_hostile_members_are_refused_before_anything_is_written(
    source: Path, dest: Path, entry: Entry, match: str
) -> None:
    data = zip_bytes([*folder_entries(source, under="project/"), entry])
    message = refused(data, dest, match)
    assert message.startswith("'upload.zip' was refused: its member ")
    assert not (dest.parent / "evil.txt").exists()


def test_an_encrypted_member_is_refused(source: Path, dest: Path) -> None:
    data = patch_central_directory(zip_bytes(folder_entries(source)), offset=8, fmt="<H", value=0x1)
    refused(data, dest, "is encrypted. Zip the folder again without a password")


def test_a_member_given_twice_is_refused(dest: Path) -> None:
    data = zip_bytes([("p/oracle.json", b"{}"), ("p\\oracle.json", b'{"evil": 1}')])
    refused(data, dest, r"holds 'p\\\\oracle.json' twice")


def test_a_member_whose_declared_size_lies_is_refused_and_cleaned_up(source: Path, dest: Path) -> None:
    good = zip_bytes(folder_entries(source), compression=zipfile.ZIP_STORED)
    declared = zipfile.ZipFile(io.BytesIO(good)).infolist()[0].file_size
    data = patch_central_directory(good, offset=24, fmt="<I", value=declared // 2)  # unpacks to more than it says
    assert zipfile.ZipFile(io.BytesIO(data)).infolist()[0].file_size == declared // 2
    refused(data, dest, "is damaged and could not be unpacked")


# ----- limits and zip bombs -------------------------------------------------------------------------------
def test_a_zip_bomb_is_refused_by_its_compression_ratio(dest: Path) -> None:
    data = zip_bytes([("p/oracle.json", b"{}"), ("p/trial_0/checkpoint.weights.h5", bytes(20 * 1024 * 1024))])
    assert len(data) < 100_000
    message = refused(data, dest, r"unpacks to 20.0 MB from .* \(ratio \d+, over the limit of 200\), as a zip bomb")
    assert "'p/trial_0/checkpoint.weights.h5'" in message


def test_small_files_that_compress_well_are_accepted(dest: Path) -> None:
    oracle = b'{"ongoing_trials": {}, "hyperparameters": {"space": [], "values": {}}}' + b" " * 500_000
    uploaded = extract_project_zip(zip_bytes([("p/oracle.json", oracle)]), name="p.zip", dest_root=dest)
    assert (uploaded.folder / "p" / "oracle.json").read_bytes() == oracle


def test_a_member_over_the_size_limit_is_refused(dest: Path) -> None:
    data = zip_bytes([("p/oracle.json", b"{}"), ("p/big.bin", os.urandom(3000))])
    limits = ZipLimits(max_member_bytes=2000)
    refused(data, dest, r"'p/big.bin' unpacks to 2.9 KB, over the limit of 2.0 KB for one file", limits=limits)


def test_members_over_the_total_limit_are_refused(dest: Path) -> None:
    data = zip_bytes([("p/oracle.json", b"{}"), *((f"p/part{i}.bin", os.urandom(1500)) for i in range(3))])
    refused(
        data,
        dest,
        "unpacks to more than 4.0 KB, the limit for an upload",
        limits=ZipLimits(max_total_uncompressed_bytes=4096),
    )


def test_too_many_members_are_refused(dest: Path) -> None:
    data = zip_bytes([("p/oracle.json", b"{}"), *((f"p/f{i}/", b"") for i in range(10))])
    refused(data, dest, "holds 11 files and folders, over the limit of 10", limits=ZipLimits(max_members=10))


def test_a_table_of_contents_too_long_for_the_member_limit_is_refused_before_it_is_read(dest: Path) -> None:
    data = zip_bytes([(f"p/{'x' * 200}{i}.json", b"{}") for i in range(20)])
    refused(data, dest, r"lists more than 5 files and folders \(its table of contents", limits=ZipLimits(max_members=5))


def test_an_upload_over_the_compressed_limit_is_refused(source: Path, dest: Path) -> None:
    data = zip_bytes(folder_entries(source))
    limits = ZipLimits(max_compressed_bytes=len(data) - 1)
    refused(data, dest, "is larger than .* the limit for an upload", limits=limits)
    refused(io.BytesIO(data), dest, "is larger than", limits=limits)


# ----- not a tuner project ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [b"", b"hello, I am a text file and not a zip", b"\x89PNG\r\n\x1a\n" + bytes(100)],
    ids=["empty", "text", "png"],
)
def test_something_that_is_not_a_zip_is_refused(dest: Path, data: bytes) -> None:
    refused(data, dest, r"'upload.zip' is not a zip file, or it is damaged \(.*\): expected a .zip of a Keras Tuner")


def test_a_truncated_zip_is_refused(source: Path, dest: Path) -> None:
    data = zip_bytes(folder_entries(source))
    refused(data[: len(data) // 2], dest, "is not a zip file, or it is damaged")


def test_a_zip_of_something_else_is_refused_and_removed(dest: Path) -> None:
    photos = [(f"holiday/img_{i}.jpg", b"\xff\xd8\xff\xe0" + os.urandom(200)) for i in range(6)]
    message = refused(zip_bytes([*photos, ("holiday/notes.txt", b"beach")]), dest, "The zip holds no Keras Tuner")
    assert message == (
        "The zip holds no Keras Tuner project: 'upload.zip' has 7 files (holiday/img_0.jpg, holiday/img_1.jpg, "
        "holiday/img_2.jpg, holiday/img_3.jpg, holiday/img_4.jpg, ...); expected a folder with oracle.json and "
        "trial_*/trial.json files (what Keras Tuner writes in directory/project_name). Zip that folder and "
        "upload it. Nothing was kept."
    )


def test_an_empty_zip_is_refused(dest: Path) -> None:
    refused(zip_bytes([("empty/", b"")]), dest, "'upload.zip' has no files; expected a folder with oracle.json")
