"""The app's folders: runs, uploads, analysis roots, and user-typed paths confined to those roots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.results.factories import make_project
from tuning.errors import PathNotAllowedError
from tuning.settings import (
    ANALYSIS_ROOTS_ENV,
    RUNS_ENV,
    UPLOADS_ENV,
    analysis_roots,
    confine_path,
    missing_analysis_roots,
    runs_dir,
    uploads_dir,
)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment: the runs folder is ``tmp_path/runs``, no uploads folder or roots configured."""
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    monkeypatch.delenv(UPLOADS_ENV, raising=False)
    monkeypatch.delenv(ANALYSIS_ROOTS_ENV, raising=False)
    (tmp_path / "runs").mkdir()
    return tmp_path.resolve()


def roots_env(monkeypatch: pytest.MonkeyPatch, *folders: Path | str) -> None:
    monkeypatch.setenv(ANALYSIS_ROOTS_ENV, os.pathsep.join(str(f) for f in folders))


# ----- the folders --------------------------------------------------------------------------------------
def test_runs_dir_defaults_to_runs_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RUNS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert runs_dir() == tmp_path.absolute() / "runs"
    monkeypatch.setenv(RUNS_ENV, "elsewhere")
    assert runs_dir() == tmp_path.absolute() / "elsewhere"


def test_uploads_go_inside_the_runs_folder_unless_configured(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert uploads_dir() == env / "runs" / "_uploads"
    assert analysis_roots() == [env / "runs"]  # the uploads folder is already inside the runs root
    monkeypatch.setenv(UPLOADS_ENV, str(env / "up"))
    assert uploads_dir() == env / "up"
    assert analysis_roots() == [env / "runs", env / "up"]  # kept even before the first upload creates it


def test_configured_roots_follow_the_runs_folder_resolved_and_without_repeats(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b", "a/inner"):
        (env / name).mkdir()
    (env / "link_to_b").symlink_to(env / "b")
    monkeypatch.chdir(env)
    roots_env(monkeypatch, "a", env / "link_to_b", "", env / "a" / "inner", env / "runs", env / "b", env / "gone")
    assert analysis_roots() == [env / "runs", env / "a", env / "b"]
    assert missing_analysis_roots() == [env / "gone"]


def test_a_file_given_as_a_root_is_left_out_and_reported(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (env / "notes.txt").write_text("not a folder")
    roots_env(monkeypatch, env / "notes.txt")
    assert analysis_roots() == [env / "runs"]
    assert missing_analysis_roots() == [env / "notes.txt"]


def test_a_root_that_holds_the_runs_folder_is_kept_after_it(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    roots_env(monkeypatch, env)
    assert analysis_roots() == [env / "runs", env]


# ----- confine_path ---------------------------------------------------------------------------------------
def test_a_project_inside_the_runs_folder_is_accepted(env: Path) -> None:
    project = make_project(env / "runs", name="demo", n_trials=1)
    assert confine_path(str(project)) == project
    assert confine_path(f"  {project}/  ") == project
    assert confine_path(str(env / "runs")) == env / "runs"


def test_a_relative_path_is_taken_from_the_first_root(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(env / "runs" / "team", name="demo", n_trials=1)
    monkeypatch.chdir(env)  # not the runs folder: the working directory plays no part
    assert confine_path("team/demo") == project
    assert confine_path("./team/../team/demo") == project


def test_dot_dot_cannot_escape_the_roots(env: Path) -> None:
    make_project(env, name="outside", n_trials=1)
    with pytest.raises(PathNotAllowedError) as caught:
        confine_path("../outside")
    message = str(caught.value)
    assert message.startswith(f"../outside ({env / 'outside'}) is outside the folders that may be analysed: ")
    assert str(env / "runs") in message
    assert ANALYSIS_ROOTS_ENV in message
    with pytest.raises(PathNotAllowedError, match="is outside the folders"):
        confine_path(str(env / "runs" / ".." / "outside"))


def test_a_link_pointing_outside_is_refused_and_one_pointing_inside_followed(env: Path) -> None:
    outside = make_project(env, name="outside", n_trials=1)
    inside = make_project(env / "runs", name="inside", n_trials=1)
    (env / "runs" / "sneaky").symlink_to(outside)
    (env / "runs" / "shortcut").symlink_to(inside)
    with pytest.raises(PathNotAllowedError, match=r"sneaky \(.*/outside\) is outside the folders"):
        confine_path("sneaky")
    assert confine_path("shortcut") == inside


def test_paths_outside_are_refused_whether_they_exist_or_not(env: Path) -> None:
    for text in ("/etc", "/no/such/folder", "~root", str(env)):
        with pytest.raises(PathNotAllowedError, match="is outside the folders that may be analysed"):
            confine_path(text)


def test_a_missing_path_or_a_file_inside_a_root_is_refused_clearly(env: Path) -> None:
    with pytest.raises(PathNotAllowedError, match=r"runs/nothing does not exist: expected a folder holding"):
        confine_path("nothing")
    (env / "runs" / "oracle.json").write_text("{}")
    with pytest.raises(PathNotAllowedError, match=r"runs/oracle.json is a file, not a folder"):
        confine_path("oracle.json")


def test_empty_and_unusable_texts_are_refused(env: Path) -> None:
    with pytest.raises(PathNotAllowedError, match="No folder given: type the path of a folder inside "):
        confine_path("   ")
    with pytest.raises(PathNotAllowedError, match="is not a usable folder path"):
        confine_path("runs\x00/etc")


def test_two_configured_roots_are_both_allowed(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = make_project(env / "team_a", name="p1", n_trials=1)
    second = make_project(env / "team_b" / "deep", name="p2", n_trials=1)
    make_project(env / "team_c", name="p3", n_trials=1)
    roots_env(monkeypatch, env / "team_a", env / "team_b")
    assert confine_path(str(first)) == first
    assert confine_path(str(second)) == second
    with pytest.raises(PathNotAllowedError) as caught:
        confine_path(str(env / "team_c" / "p3"))
    listed = f"{env / 'runs'}, {env / 'team_a'}, {env / 'team_b'}."
    assert listed in str(caught.value)
    monkeypatch.setenv("HOME", str(env / "team_b"))
    assert confine_path("~/deep/p2") == second


def test_roots_can_be_given_explicitly(env: Path) -> None:
    project = make_project(env / "elsewhere", name="p", n_trials=1)
    assert confine_path("p", [env / "elsewhere"]) == project
    with pytest.raises(PathNotAllowedError, match="is outside"):
        confine_path(str(env / "runs"), [env / "elsewhere"])
    with pytest.raises(PathNotAllowedError, match="no analysis root is configured"):
        confine_path("p", [])


def test_pythonpath_with_package_puts_the_folder_holding_this_package_first():
    from tuning import settings

    path = settings.pythonpath_with_package("/somewhere/else")
    first, *rest = path.split(os.pathsep)
    assert rest == ["/somewhere/else"]
    assert (Path(first) / "tuning" / "settings.py").resolve() == Path(settings.__file__).resolve()
    assert settings.pythonpath_with_package(None) == first
    assert settings.pythonpath_with_package("") == first
