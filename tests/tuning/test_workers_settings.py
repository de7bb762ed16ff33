"""The workers setting and its surroundings: configuration, form, resume, addresses, command line errors."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import pytest

from searches import cli, one_line_error, tiny_config
from tuning.design import forms
from tuning.engine import jobs
from tuning.engine.lifecycle import search_lock
from tuning.engine.worker import check_name_free
from tuning.errors import ConfigError, SearchStateError
from tuning.space.config import MAX_WORKERS, SearchConfig
from tuning.store.paths import SearchPaths, write_json_atomic
from tuning.store.status import SearchStatus
from tuning.store.workers import WorkerStatus, check_worker_id, chief_address, parse_address, worker_file

WORKERS_ERROR = (
    'workers: expected "auto" (as many processes as pay off on this machine) or a whole number of worker '
    "processes from 1 (one process, no chief) to 64, found {}"
)


def test_workers_default_round_trip_and_old_files() -> None:
    assert SearchConfig().workers == "auto"
    assert SearchConfig.from_json(SearchConfig().to_json()).workers == "auto"
    config = dataclasses.replace(SearchConfig(), workers=3)
    assert SearchConfig.from_json(config.to_json()) == config and config.to_dict()["workers"] == 3
    old = SearchConfig().to_dict()
    del old["workers"]  # written before the setting existed: the default, as for any key left out
    assert SearchConfig.from_dict(old).workers == "auto"
    assert SearchConfig().with_overrides(workers=4).workers == 4
    assert forms.config_from_form(forms.form_from_config(config)) == config


@pytest.mark.parametrize("value", [0, -1, MAX_WORKERS + 1, "2", 2.0, True])
def test_invalid_workers_say_what_is_expected(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        dataclasses.replace(SearchConfig(), workers=value).validate()
    assert caught.value.field == "workers"
    assert str(caught.value).startswith(WORKERS_ERROR.format(repr(value)))


def test_warnings_about_idle_or_crowded_workers() -> None:
    config = dataclasses.replace(SearchConfig(max_trials=2), workers=MAX_WORKERS)
    warnings = config.warnings()
    assert any(f"{MAX_WORKERS} workers on " in w and "CPU cores" in w for w in warnings)
    assert f"Only 2 trials for {MAX_WORKERS} workers: {MAX_WORKERS - 2} of them will have nothing to do." in warnings
    assert not [w for w in dataclasses.replace(config, workers=1).warnings() if "worker" in w]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:0", ("127.0.0.1", 0)), ("gpu-box.lan:50051", ("gpu-box.lan", 50051)), ("[::1]:7", ("::1", 7))],
)
def test_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


def test_bad_addresses_and_worker_names() -> None:
    assert parse_address("0.0.0.0", field="listen", default_port=0) == ("0.0.0.0", 0)
    for text in ("box", "box:port", "box:70000", ":5"):
        with pytest.raises(ConfigError, match=r"chief: expected HOST:PORT with a port from 0 to 65535"):
            parse_address(text)
    assert check_worker_id("gpu-2.lab") == "gpu-2.lab"
    for name in ("chief-1", "a/b", "", "x" * 65):
        with pytest.raises(ConfigError, match="worker id: expected letters, digits"):
            check_worker_id(name)


def _stopped_search(tmp_path: Path, state: str = "stopped") -> Path:
    project_dir = jobs.create_search(tiny_config(), tmp_path, "later")
    write_json_atomic(SearchPaths.of(project_dir).status, SearchStatus(state=state, trials_done=1).to_dict())
    return project_dir


def test_resume_on_another_number_of_workers_changes_only_that(tmp_path: Path) -> None:
    project_dir = _stopped_search(tmp_path)
    before = SearchConfig.load(SearchPaths.of(project_dir).config)
    assert jobs.prepare_resume(project_dir, workers=2).workers == 2
    after = SearchConfig.load(SearchPaths.of(project_dir).config)
    assert before.differences(after) == ["workers: 1 -> 2"]
    with pytest.raises(ConfigError, match=r'workers: expected "auto" .* or a whole number'):
        jobs.prepare_resume(project_dir, workers=0)
    assert SearchConfig.load(SearchPaths.of(project_dir).config).workers == 2


def test_a_refused_resume_leaves_the_configuration_alone(tmp_path: Path) -> None:
    project_dir = _stopped_search(tmp_path, state="completed")
    text = SearchPaths.of(project_dir).config.read_text()
    with pytest.raises(SearchStateError, match="is completed"):
        jobs.prepare_resume(project_dir, workers=3)
    assert SearchPaths.of(project_dir).config.read_text() == text


def test_a_bad_listen_address_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="listen: expected HOST:PORT"):
        jobs.start_search(dataclasses.replace(tiny_config(), workers=2), tmp_path, "never", listen="host:http")
    assert list(tmp_path.iterdir()) == []


def test_command_line_errors(tmp_path: Path) -> None:
    run = cli("run", "--directory", str(tmp_path), "--project", "x", "--workers", "0", timeout=120)
    assert one_line_error(run).startswith("error: " + WORKERS_ERROR.format(0))
    project_dir = _stopped_search(tmp_path)
    worker = cli("worker", str(project_dir), timeout=120)
    assert one_line_error(worker) == (
        f"error: The search in {project_dir} is not running on workers (state: stopped, no workers). "
        "Start or resume it with --workers N first."
    )
    resume = cli("resume", str(project_dir), "--workers", "2", "--listen", "h:p", timeout=120)
    assert "listen: expected HOST:PORT" in one_line_error(resume)
    assert json.loads(SearchPaths.of(project_dir).config.read_text())["workers"] == 1


def test_a_worker_started_by_hand_joins_the_running_chief_only(tmp_path: Path) -> None:
    project_dir = jobs.create_search(dataclasses.replace(tiny_config(), workers=2), tmp_path, "joined")
    paths = SearchPaths.of(project_dir)
    with search_lock(paths):  # as the group leader holds it
        write_json_atomic(paths.status, SearchStatus(state="running", workers=2, chief="127.0.0.1:5000").to_dict())
        assert chief_address(project_dir) == "127.0.0.1:5000"
        assert chief_address(project_dir, "chief-host.lan:5000") == "chief-host.lan:5000"
        with pytest.raises(SearchStateError, match="listens on port 5000, not 6000: is box:6000 the chief of another"):
            chief_address(project_dir, "box:6000")


def test_hand_started_workers_may_not_take_a_name_in_use(tmp_path: Path) -> None:
    paths = SearchPaths.of(jobs.create_search(tiny_config(), tmp_path, "names"))
    with pytest.raises(ConfigError, match="'worker3' is reserved for the chief's own workers"):
        check_name_free(paths, "worker3")
    busy = WorkerStatus(state="running", worker="gpu", pid=os.getpid(), host="box", heartbeat=time.time())
    write_json_atomic(worker_file(paths, "gpu"), busy.to_dict())
    expected = rf"A worker named 'gpu' is already running \(pid {os.getpid()} on box\)"
    with pytest.raises(SearchStateError, match=expected):
        check_name_free(paths, "gpu")
    write_json_atomic(worker_file(paths, "gpu"), {**busy.to_dict(), "state": "finished"})
    check_name_free(paths, "gpu")  # a name whose worker has ended can be used again
