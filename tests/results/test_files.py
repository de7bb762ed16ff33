"""Finding projects, and reading JSON and JSON-lines files safely while a search writes them."""

from __future__ import annotations

import json
import os
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.results.factories import append_lines, make_project, snapshot, truncate, write_json
from tuning.errors import SearchNotFoundError
from tuning.results import discover
from tuning.results.files import CachedJson, JsonlTail, read_json_file
from tuning.store import paths
from tuning.store.paths import read_jsonl_records, too_deep


def test_discover_finds_projects_at_any_depth(tmp_path: Path) -> None:
    a = make_project(tmp_path / "runs", name="a", n_trials=1)
    b = make_project(tmp_path / "runs" / "deep" / "er", name="b b", n_trials=1)
    make_project(tmp_path / ".hidden", name="c", n_trials=1)
    make_project(tmp_path / ".venv" / "lib", name="d", n_trials=1)
    make_project(tmp_path / "1" / "2" / "3" / "4" / "5" / "6", name="too deep", n_trials=1)
    write_json(tmp_path / "ours" / "explorer" / "config.json", {"tuner": "random"})
    make_project(a, name="inside a project", n_trials=1)
    before = snapshot(tmp_path)
    assert discover(tmp_path) == [tmp_path / "ours", a, b]
    assert discover(a) == [a]
    assert snapshot(tmp_path) == before


def test_discover_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(SearchNotFoundError, match=r"nowhere does not exist"):
        discover(tmp_path / "nowhere")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(SearchNotFoundError, match=r"file.txt is a file"):
        discover(tmp_path / "file.txt")
    assert discover(tmp_path) == []


def test_read_json_accepts_nan_and_reports_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text('{"a": NaN, "b": Infinity, "c": -Infinity}')
    data = read_json_file(good).data
    assert data is not None and data["b"] == float("inf") and data["a"] != data["a"]
    bad = truncate(write_json(tmp_path / "bad.json", {"key": "value" * 10}))
    read = read_json_file(bad, delay=0)
    assert read.data is None and read.error is not None and read.error.startswith("invalid or truncated JSON")
    assert read_json_file(tmp_path / "missing.json").error is None


def test_cached_json_rereads_only_on_change(tmp_path: Path) -> None:
    path = write_json(tmp_path / "x.json", {"v": 1})
    cached, reads = CachedJson(path), []
    assert cached.refresh(reads.append) and cached.data == {"v": 1}
    assert not cached.refresh(reads.append) and len(reads) == 1
    path.write_text('{"v": ')
    assert not cached.refresh(reads.append) and cached.data == {"v": 1} and cached.error
    path.unlink()
    assert cached.refresh(reads.append) and cached.data is None


def test_jsonl_tail_reads_only_new_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    tail, reads = JsonlTail(path), []
    assert tail.read_new(reads.append) == ([], False)
    append_lines(path, [{"a": 1}, {"a": 2}])
    assert tail.read_new(reads.append) == ([{"a": 1}, {"a": 2}], False)
    assert tail.read_new(reads.append) == ([], False) and len(reads) == 1
    with path.open("a") as handle:
        handle.write('{"a": 3}\n{"a": ')  # a line being written
    assert tail.read_new(reads.append) == ([{"a": 3}], False)
    path.write_text('{"a": 9}\n')  # replaced by a shorter file
    assert tail.read_new(reads.append) == ([{"a": 9}], True)


# ----- .jsonl files: bounded reads ----------------------------------------------------------------------
LINES = st.lists(
    st.one_of(
        st.dictionaries(st.sampled_from("abc"), st.integers(0, 10**6), max_size=3).map(json.dumps),  # a record
        st.sampled_from(["", "   ", "[1, 2]", "7", '{"a": ', "not json", "{" * 80 + "}" * 80]),  # not records
        st.integers(41, 120).map(lambda n: json.dumps({"long": "x" * n})),  # longer than the line cap below
    ),
    max_size=25,
)


def _reference(lines: list[str], max_line: int) -> tuple[list[dict[str, Any]], int]:
    """What a plain line-by-line parse keeps and leaves out, with lines over ``max_line`` bytes left out."""
    records, skipped = [], 0
    for line in lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            value = None
        if len(line.encode()) > max_line or not isinstance(value, dict) or too_deep(value):
            skipped += 1
        else:
            records.append(value)
    return records, skipped


@settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(lines=LINES, block=st.integers(1, 50), cuts=st.lists(st.integers(0, 4000), max_size=4))
def test_jsonl_is_read_block_by_block_as_a_plain_parse_would(lines: list[str], block: int, cuts: list[int]) -> None:
    """Any block size, lines over the line cap (even across blocks), and the file read in pieces as it is
    written (``cuts``: where a writer paused, maybe mid-line) give the records and counts of a plain parse."""
    text = "".join(line + "\n" for line in lines).encode()
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(paths, "READ_BLOCK", block):
        path = Path(tmp) / "m.jsonl"
        records, skipped, offset = [], 0, 0
        with mock.patch.object(paths, "MAX_LINE_BYTES", 40):
            for cut in [*sorted(c % (len(text) + 1) for c in cuts), len(text)]:
                path.write_bytes(text[:cut])
                found = read_jsonl_records(path, offset=offset)
                assert found.offset <= cut and found.error is None and not found.capped
                records += found.records
                skipped += found.skipped
                offset = found.offset
        assert offset == len(text)
        assert (records, skipped) == _reference(lines, 40)


def test_jsonl_past_the_size_cap_is_not_read_and_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.jsonl"
    append_lines(path, [{"n": i} for i in range(10)])  # 9 or 10 bytes a line
    found = read_jsonl_records(path, cap=44)  # the fifth line ends at byte 45
    assert [r["n"] for r in found.records] == [0, 1, 2, 3] and found.capped and found.offset == 36
    assert read_jsonl_records(path, offset=found.offset, cap=44).records == []  # nothing more past the cap
    assert not read_jsonl_records(path, cap=10_000).capped
    monkeypatch.setattr(paths, "MAX_JSONL_BYTES", 44)
    tail, reads = JsonlTail(path), []
    assert [r["n"] for r in tail.read_new(reads.append)[0]] == [0, 1, 2, 3]
    append_lines(path, [{"n": 10}])
    assert tail.read_new(reads.append) == ([], False) and len(reads) == 1  # a capped file is not read again
    assert tail.notices("m.jsonl") == [
        "m.jsonl is larger than the 1 GB cap per file: lines past it are not read"  # the cap of the product
    ]


def test_a_huge_jsonl_file_costs_bounded_memory(tmp_path: Path) -> None:
    """A 1.5 GB file (sparse: no disk) of a few records, then zeros without a newline: the records are read,
    the rest up to the real 1 GB cap is scanned in blocks and left out, and memory stays near one block."""
    path = tmp_path / "m.jsonl"
    append_lines(path, [{"n": 1}, {"n": 2}])
    with path.open("r+b") as handle:
        handle.truncate(3 * 2**29)
    tracemalloc.start()
    try:
        found = read_jsonl_records(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found.records == [{"n": 1}, {"n": 2}] and found.capped and found.offset == 18
    assert peak < 4 * paths.READ_BLOCK, peak


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_jsonl_and_json_that_are_not_regular_files_are_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "m.jsonl"
    os.mkfifo(fifo)
    assert read_jsonl_records(fifo) == paths.JsonlRead([], 0, error="not a regular file")
    (tmp_path / "folder.jsonl").mkdir()
    assert read_jsonl_records(tmp_path / "folder.jsonl").error is not None
    tail = JsonlTail(fifo)
    assert tail.read_new(lambda _: None) == ([], False)  # a FIFO has size 0: nothing to read
    status = tmp_path / "status.json"
    os.mkfifo(status)
    assert paths.read_json(status) is None
    big = tmp_path / "big.json"
    big.write_text('{"a": 1}')
    with big.open("r+b") as handle:
        handle.truncate(paths.MAX_JSON_BYTES + 1)
    assert paths.read_json(big) is None and paths.read_capped(big) is None
    assert paths.read_json(write_json(tmp_path / "ok.json", {"a": 1})) == {"a": 1}


def test_the_log_tail_is_its_last_lines_and_nothing_from_what_is_not_a_regular_file(tmp_path: Path) -> None:
    log = tmp_path / "search.log"
    log.write_text("".join(f"line {i}\n" for i in range(5000)))
    tail = paths.tail_text(log, max_bytes=100)
    assert tail.endswith("line 4999\n") and tail.startswith("line ") and len(tail) <= 100
    assert paths.tail_text(log, max_bytes=10**6) == log.read_text()
    assert paths.tail_text(tmp_path / "missing.log") == "" and paths.tail_text(tmp_path) == ""
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.log")
        assert paths.tail_text(tmp_path / "fifo.log") == ""
