"""Finding projects, and reading JSON and JSON-lines files safely while a search writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.results.factories import append_lines, make_project, snapshot, truncate, write_json
from tuning.errors import SearchNotFoundError
from tuning.results import discover
from tuning.results.files import CachedJson, JsonlTail, read_json_file


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
