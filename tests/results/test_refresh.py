"""``ProjectReader.refresh``: only what changed is read again, and what it returns matches a fresh load."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.results.factories import (
    DEFAULT_SPACE,
    add_engine_files,
    append_lines,
    engine_epochs,
    make_project,
    oracle_state,
    snapshot,
    trial_metrics,
    trial_state,
    truncate,
    write_oracle,
    write_trial,
)
from tuning.errors import SearchNotFoundError
from tuning.results import ProjectReader, load_project


def _finish(project_dir: Path, trial_id: str, *, number: int) -> Path:
    """Rewrite a RUNNING trial as COMPLETED, as Keras Tuner does at the end of a trial."""
    path = project_dir / f"trial_{trial_id}" / "trial.json"
    values = json.loads(path.read_text())["hyperparameters"]["values"]
    write_trial(project_dir, trial_state(trial_id, values, metrics=trial_metrics(number, values)))
    _touch_later(path)
    return path


def _touch_later(path: Path) -> None:
    """Make sure the mtime moves even on filesystems with a coarse clock."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def _same_as_fresh_load(result: object, project_dir: Path) -> None:
    fresh = load_project(project_dir)
    pd.testing.assert_frame_equal(result.trials, fresh.trials)  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(
        result.curves.sort_values(["trial_id", "metric", "epoch"], ignore_index=True),  # type: ignore[attr-defined]
        fresh.curves.sort_values(["trial_id", "metric", "epoch"], ignore_index=True),
    )


def test_one_changed_trial_is_the_only_file_read(tmp_path: Path) -> None:
    project_dir = make_project(tmp_path, n_trials=8, statuses={7: "RUNNING"})
    reader = ProjectReader(project_dir)
    first = reader.refresh()
    assert reader.files_read == 9  # oracle.json and eight trials
    assert first.trials.loc["07", "status"] == "RUNNING"

    reader.refresh()
    assert reader.last_read == []

    path = _finish(project_dir, "07", number=8)
    second = reader.refresh()
    assert reader.last_read == [path] and reader.files_read == 10
    assert second.trials.loc["07", "status"] == "COMPLETED"
    assert reader._table.rebuilds == 1  # patched, not rebuilt
    _same_as_fresh_load(second, project_dir)
    # What an earlier refresh returned stays as it was.
    assert first.trials.loc["07", "status"] == "RUNNING" and pd.isna(first.trials.loc["07", "score"])


def test_new_trials_are_appended(tmp_path: Path) -> None:
    project_dir = make_project(tmp_path, n_trials=3)
    reader = ProjectReader(project_dir)
    reader.refresh()
    values = {"learning_rate": 0.01, "optimizer": "adam", "units": 8, "batch_norm": True, "batch/size": 32}
    new = write_trial(project_dir, trial_state("03", values, status="RUNNING"))
    oracle = write_oracle(project_dir, oracle_state(DEFAULT_SPACE, ["00", "01", "02", "03"], ongoing=["03"]))
    result = reader.refresh()
    assert sorted(reader.last_read) == sorted([new, oracle])
    assert list(result.trials.index) == ["00", "01", "02", "03"]
    assert result.trials.loc["03", "number"] == 4
    assert reader._table.rebuilds == 1
    _same_as_fresh_load(result, project_dir)


def test_finished_trials_are_rechecked_in_turn(tmp_path: Path) -> None:
    project_dir = make_project(tmp_path, n_trials=6)
    reader = ProjectReader(project_dir, recheck=2)
    reader.refresh()
    state = json.loads((project_dir / "trial_04" / "trial.json").read_text())
    state["score"] = 0.123
    write_trial(project_dir, state)
    _touch_later(project_dir / "trial_04" / "trial.json")
    seen = [reader.refresh().trials.loc["04", "score"] for _ in range(3)]
    assert seen[-1] == 0.123
    assert reader.files_read == 7 + 1


def test_an_unreadable_file_is_not_retried_until_it_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project_dir = make_project(tmp_path, n_trials=3, statuses={2: "RUNNING"})
    reader = ProjectReader(project_dir)
    reader.refresh()
    path = project_dir / "trial_02" / "trial.json"
    complete = path.read_bytes()
    truncate(path)
    _touch_later(path)
    sleeps: list[float] = []
    monkeypatch.setattr("tuning.results.files.time.sleep", sleeps.append)
    result = reader.refresh()
    assert len(sleeps) == 3 and reader.last_read == [path]
    # The trial keeps its last good content, and says so.
    assert result.trials.loc["02", "status"] == "RUNNING"
    assert any(n.startswith("could not re-read trial_02/trial.json") for n in result.notices)

    result = reader.refresh()
    assert len(sleeps) == 3 and reader.last_read == []
    assert any(n.startswith("could not re-read trial_02/trial.json") for n in result.notices)

    path.write_bytes(complete)
    _touch_later(path)
    result = reader.refresh()
    assert reader.last_read == [path] and not any("trial_02" in n for n in result.notices)


def test_engine_metrics_are_read_incrementally(tmp_path: Path) -> None:
    project_dir = add_engine_files(make_project(tmp_path, n_trials=2), epochs=2)
    metrics = project_dir / "explorer" / "metrics.jsonl"
    reader = ProjectReader(project_dir)
    first = reader.refresh()
    assert len(first.curves) == 2 * 2 * 4  # trials x epochs x (loss, val_accuracy, duration_s, learning_rate)

    append_lines(metrics, engine_epochs("01", epochs=3)[2:])
    result = reader.refresh()
    assert [p.name for p in reader.last_read] == ["metrics.jsonl"]
    epochs = result.curves[(result.curves["trial_id"] == "01") & (result.curves["metric"] == "val_accuracy")]
    assert epochs["epoch"].tolist() == [1, 2, 3]
    assert len(first.curves) == 16  # the earlier result is unchanged
    _same_as_fresh_load(result, project_dir)


def test_a_trial_rerun_in_a_later_session_replaces_its_partial_curve(tmp_path: Path) -> None:
    project_dir = add_engine_files(make_project(tmp_path, n_trials=2), epochs=2)
    metrics = project_dir / "explorer" / "metrics.jsonl"
    reader = ProjectReader(project_dir)
    reader.refresh()
    rerun = engine_epochs("01", session=2, epochs=3, base=0.2) + engine_epochs("01", session=2, epochs=3, execution=1)
    append_lines(metrics, rerun)
    append_lines(metrics, engine_epochs("01", session=1, epochs=1, base=0.9))  # older session, written late
    result = reader.refresh()
    curve = result.curves[(result.curves["trial_id"] == "01") & (result.curves["metric"] == "val_accuracy")]
    assert curve[["execution", "epoch"]].values.tolist() == [[0, 1], [0, 2], [0, 3], [1, 1], [1, 2], [1, 3]]
    assert curve["value"].tolist() == pytest.approx([0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    _same_as_fresh_load(result, project_dir)


def test_a_trial_folder_removed(tmp_path: Path) -> None:
    project_dir = make_project(tmp_path, n_trials=3)
    reader = ProjectReader(project_dir)
    reader.refresh()
    shutil.rmtree(project_dir / "trial_01")
    result = reader.refresh()
    assert list(result.trials.index) == ["00", "02"]
    _same_as_fresh_load(result, project_dir)


def test_refreshing_writes_nothing(tmp_path: Path) -> None:
    project_dir = add_engine_files(make_project(tmp_path, n_trials=3, statuses={2: "RUNNING"}), state="running")
    before = snapshot(tmp_path)
    reader = ProjectReader(project_dir)
    for _ in range(3):
        assert reader.refresh().status["state"] == "interrupted"
    assert snapshot(tmp_path) == before


def test_a_project_removed_while_watched(tmp_path: Path) -> None:
    project_dir = make_project(tmp_path, n_trials=1)
    reader = ProjectReader(project_dir)
    reader.refresh()
    shutil.rmtree(project_dir)
    with pytest.raises(SearchNotFoundError, match="no longer exists"):
        reader.refresh()


def test_a_search_of_this_app_before_keras_tuner_wrote_anything(tmp_path: Path) -> None:
    project_dir = tmp_path / "new"
    (project_dir / "explorer").mkdir(parents=True)
    (project_dir / "explorer" / "config.json").write_text(json.dumps({"tuner": "bayesian", "objective": "val_loss"}))
    reader = ProjectReader(project_dir)
    result = reader.refresh()
    assert result.trials.empty and "no trials yet" in result.notices
    assert (result.tuner, result.objective.name, result.curves_source) == ("bayesian", "val_loss", "engine")
    assert result.status["state"] == "created"
    make_project(tmp_path, name="new", n_trials=2)
    assert len(reader.refresh().trials) == 2


def test_a_folder_added_within_the_same_coarse_clock_tick_is_found(tmp_path: Path) -> None:
    project_dir = make_project(tmp_path, n_trials=2)
    second = (time.time_ns() // 1_000_000_000) * 1_000_000_000  # a filesystem with whole-second mtimes
    os.utime(project_dir, ns=(second, second))
    reader = ProjectReader(project_dir)
    reader.refresh()
    values = {"learning_rate": 0.01, "optimizer": "adam", "units": 8, "batch_norm": True, "batch/size": 32}
    write_trial(project_dir, trial_state("02", values, status="RUNNING"))
    os.utime(project_dir, ns=(second, second))  # the same mtime as when it was listed
    assert list(reader.refresh().trials.index) == ["00", "01", "02"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_a_parsing_child_stopped_midway_says_which_files_it_did_not_parse(tmp_path: Path) -> None:
    import tuning.results.parsing as parsing

    project_dir = make_project(tmp_path, n_trials=3)
    trials = sorted(project_dir.glob("trial_*/trial.json"))
    files = [(f"{n:05d}", str(trials[n % 3])) for n in range(30_000)]
    child = parsing.ParsingProcess(files)
    deadline = time.monotonic() + 60
    while child.parsed() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    parsed, missed = child.results(stop=True)
    assert parsing.FRAME <= len(parsed) < len(files)  # stopped after a frame or a few, long before the end
    assert [i for i, *_ in parsed] == [i for i, _ in files[: len(parsed)]] and missed == files[len(parsed) :]
    ids = [json.loads(path.read_text())["trial_id"] for path in trials]
    assert all(record is not None and record.trial_id == ids[int(i) % 3] for i, _, record, _ in parsed)


def test_a_large_first_read_through_the_prefetch_threads_matches_one_file_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``PREFETCH_FROM`` unread files, threads read the bytes ahead: the records, notices and skipped
    files must be exactly those of reading each file in turn, damaged and hostile files included."""
    import tuning.results.parsing as parsing
    import tuning.results.trialfiles as trialfiles

    n = trialfiles.PREFETCH_FROM + 2 * parsing.PREFETCH_CHUNK + 7  # several chunks, the last one short
    project_dir = make_project(tmp_path, n_trials=n, id_width=3, statuses={5: "FAILED", n - 1: "RUNNING"})
    truncate(project_dir / "trial_010" / "trial.json")
    (project_dir / "trial_020" / "trial.json").write_text("[" * 100_000 + "]" * 100_000)
    (project_dir / "trial_030" / "trial.json").write_text('["a list, not an object"]')
    (project_dir / "trial_040" / "trial.json").unlink()
    (project_dir / "trial_050" / "trial.json").unlink()
    os.mkfifo(project_dir / "trial_050" / "trial.json")

    reads: list[int] = []
    real_read = trialfiles.read_bytes
    monkeypatch.setattr(trialfiles, "read_bytes", lambda path: reads.append(1) or real_read(path))
    prefetched = ProjectReader(project_dir).refresh()
    assert len(reads) == n  # every trial file came through the prefetch, the missing one included
    monkeypatch.setattr(trialfiles, "PREFETCH_FROM", 10 * n)
    one_by_one = ProjectReader(project_dir).refresh()

    pd.testing.assert_frame_equal(prefetched.trials, one_by_one.trials)
    pd.testing.assert_frame_equal(prefetched.curves, one_by_one.curves)
    assert prefetched.notices == one_by_one.notices
    assert len(prefetched.trials) == n - 5  # the four damaged files and the FIFO are skipped, named
    for folder, why in [("010", ""), ("020", "nested too deeply"), ("030", "expected a JSON object, found list")]:
        assert any(f"trial_{folder}/trial.json" in x and why in x for x in prefetched.notices), prefetched.notices
    assert any("trial_050/trial.json: not a regular file" in x for x in prefetched.notices)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_a_large_first_read_half_parsed_by_a_child_process_matches_one_file_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``PARALLEL_FROM`` unread files (on two cores or more) a child process parses them from the last
    while this process parses from the first, until they meet: the records, curves and notices must be those
    of reading each file here, damaged and hostile files included; a child that fails costs time, never a
    trial."""
    import tuning.results.parsing as parsing
    import tuning.results.trialfiles as trialfiles

    n = trialfiles.PREFETCH_FROM + 40
    project_dir = make_project(tmp_path, n_trials=n, id_width=3, statuses={n - 2: "FAILED", n - 1: "RUNNING"})
    for folder in (n - 10, n - 20, n - 30, 5):  # damaged and hostile files, for either side to meet
        if folder == n - 30:
            (project_dir / f"trial_{folder:03d}" / "trial.json").unlink()
            os.mkfifo(project_dir / f"trial_{folder:03d}" / "trial.json")
        elif folder == n - 20:
            (project_dir / f"trial_{folder:03d}" / "trial.json").write_text("[" * 100_000 + "]" * 100_000)
        else:
            truncate(project_dir / f"trial_{folder:03d}" / "trial.json")
    monkeypatch.setattr(trialfiles, "cores", lambda: 2)
    monkeypatch.setattr(trialfiles, "PARALLEL_FROM", n)
    # This process parses slowly (20 ms a file) so that the child, once started, parses a good share.
    real_parse = trialfiles.read_trial
    parses: list[str] = []

    def slow_parse(path: str, *args: Any, **kwargs: Any) -> Any:
        parses.append(path)
        time.sleep(0.02)
        return real_parse(path, *args, **kwargs)

    monkeypatch.setattr(trialfiles, "read_trial", slow_parse)

    children: list[parsing.ParsingProcess] = []
    real = trialfiles.ParsingProcess
    monkeypatch.setattr(trialfiles, "ParsingProcess", lambda files: children.append(real(files)) or children[-1])
    reader = ProjectReader(project_dir)
    in_two = reader.refresh()
    assert len(children) == 1 and len(children[0].files) == n
    parsed, _ = children[0].results()
    assert [i for i, *_ in parsed] == [i for i, _ in children[0].files[: len(parsed)]]  # from the last file on
    # Each side parsed a share (this one its first file at least: the child takes a tenth of a second to start),
    # and the two met.
    assert parsed and parses and len(parses) + len(parsed) >= n
    assert reader.files_read >= n
    monkeypatch.setattr(trialfiles, "read_trial", real_parse)

    monkeypatch.setattr(trialfiles, "PARALLEL_FROM", 10 * n)
    one_by_one = ProjectReader(project_dir).refresh()
    pd.testing.assert_frame_equal(in_two.trials, one_by_one.trials)
    pd.testing.assert_frame_equal(in_two.curves, one_by_one.curves)
    assert in_two.notices == one_by_one.notices
    assert len(in_two.trials) == n - 4
    for folder, why in [(5, ""), (n - 10, ""), (n - 20, "nested too deeply"), (n - 30, "not a regular file")]:
        assert any(f"trial_{folder:03d}/trial.json" in x and why in x for x in in_two.notices), in_two.notices

    # A child that cannot run (here: a Python that exits at once) leaves every file to this process.
    monkeypatch.setattr(trialfiles, "PARALLEL_FROM", n)
    monkeypatch.setattr(parsing.sys, "executable", "/bin/false")
    children.clear()
    without_child = ProjectReader(project_dir).refresh()
    assert children and children[0].results() == ([], children[0].files)
    pd.testing.assert_frame_equal(without_child.trials, one_by_one.trials)
    assert without_child.notices == one_by_one.notices


def test_a_prefetch_closed_early_does_not_read_the_chunks_it_had_not_begun() -> None:
    import tuning.results.parsing as parsing

    reads: list[str] = []
    ids = [str(n) for n in range(40 * parsing.PREFETCH_CHUNK)]
    ahead = parsing.prefetch(ids, str, threads=2, read=lambda path: reads.append(path) or time.sleep(0.001))  # type: ignore[func-returns-value]
    assert next(ahead) == ("0", None)
    ahead.close()
    # At most the chunks submitted so far (4 a thread, then 1 more) were read, not the 40 of the list.
    assert parsing.PREFETCH_CHUNK <= len(reads) <= 9 * parsing.PREFETCH_CHUNK < len(ids)
