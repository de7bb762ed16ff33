"""How the group leader starts its workers: forks of a zygote that has imported TensorFlow, or fresh processes."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tuning.engine import forking
from tuning.engine.lifecycle import EXIT_USER_ERROR, SCRATCH_PREFIX, scratch_dir

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")


def test_workers_are_forked_on_linux_without_gpus_and_fresh_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(forking.START_ENV, raising=False)
    on_linux = "fork" if sys.platform.startswith("linux") and not forking.tensorflow_started() else "spawn"
    assert forking.start_method([]) == on_linux
    assert forking.start_method(["0"]) == "spawn"  # a process that has used CUDA cannot be forked safely
    monkeypatch.setenv(forking.START_ENV, "spawn")
    assert forking.start_method([]) == "spawn"
    assert isinstance(forking.starter([]), forking.Spawner)


def test_a_leader_where_tensorflow_has_run_starts_fresh_workers() -> None:
    script = (
        "from tuning.engine import forking\n"
        "forking.preload()\n"
        "before = forking.start_method([])\n"
        "import tensorflow as tf\n"
        "tf.constant(1) + 1\n"
        "print(before, forking.tensorflow_started(), forking.start_method([]))\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop(forking.START_ENV, None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    on_linux = "fork" if sys.platform.startswith("linux") else "spawn"
    assert done.stdout.split() == [on_linux, "True", "spawn"], done.stderr[-2000:]


@linux_only
def test_read_only_file_pages_mapped_by_no_other_process_are_handed_back_and_read_again(tmp_path: Path) -> None:
    """What a leader does with the pages TensorFlow's import touched, on files only this test maps (the
    libraries themselves may be mapped by this very test process too, and those pages are rightly kept)."""
    blob = os.urandom(1 << 20) * 48  # 48 MB, one file no other process maps
    (tmp_path / "ro.bin").write_bytes(blob)
    (tmp_path / "cow.bin").write_bytes(bytes(1 << 20))
    script = f"""
import hashlib, mmap, os
from tuning.engine import forking
with open({str(tmp_path / "ro.bin")!r}, "rb") as f:
    ro = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
with open({str(tmp_path / "cow.bin")!r}, "r+b") as f:
    cow = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)  # private and written: must keep what was written
cow[:5] = b"kept!"
digest = hashlib.sha256(ro).hexdigest()  # touches every page
os.environ[forking.RELEASE_ENV] = "0"
off = forking.release_library_pages()
del os.environ[forking.RELEASE_ENV]
before = forking.mapped_file_bytes()
released = forking.release_library_pages()
after = forking.mapped_file_bytes()
print(off, before, released, after, hashlib.sha256(ro).hexdigest() == digest, bytes(cow[:5]).decode())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    off, before, released, after, same, cow = numbers = done.stdout.split()
    assert off == "None" and int(before) > 48 << 20, numbers  # switched off: nothing done
    if int(released) == 0:
        pytest.skip("this kernel has no MADV_PAGEOUT (Linux 5.4+)")
    assert int(released) >= 40 << 20 and int(after) <= int(before) - (40 << 20), numbers  # the file's pages went
    assert (same, cow) == ("True", "kept!"), numbers  # read back intact; a written private page untouched


@pytest.fixture
def zygote() -> forking.Zygote:
    started = forking.Zygote()
    yield started
    started.close()


@linux_only
def test_a_forked_worker_writes_to_its_log_and_reports_its_exit_code(zygote: forking.Zygote, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    env = {"PATH": os.environ.get("PATH", "")}
    worker = zygote.start([str(tmp_path / "missing"), "--chief", "127.0.0.1:1"], env=env, log_path=log)
    assert worker.wait(timeout=60) == EXIT_USER_ERROR, log.read_text()  # no search there: it says so, exits 2
    assert worker.poll() == EXIT_USER_ERROR and worker.returncode == EXIT_USER_ERROR
    assert "is not a search made by this app" in log.read_text()
    worker.kill()  # an ended worker is never signalled (its pid may be reused)
    with pytest.raises(ProcessLookupError):
        os.kill(worker.pid, 0)


@linux_only
def test_the_zygote_keeps_no_file_of_the_leader_open_and_ends_with_it(tmp_path: Path) -> None:
    lock = tmp_path / "search.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        zygote = forking.Zygote()
        worker = zygote.start([str(tmp_path), "--chief", "127.0.0.1:1"], env={}, log_path=tmp_path / "w.log")
        worker.wait(timeout=60)
        open_files = {os.readlink(f"/proc/{zygote.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{zygote.pid}/fd")}
        assert str(lock) not in open_files  # a dead leader's lock is never kept by its workers
    # Another process can take the lock as soon as the leader lets it go.
    taken = subprocess.run(
        [sys.executable, "-c", f"import fcntl; fcntl.flock(open({str(lock)!r}), fcntl.LOCK_EX | fcntl.LOCK_NB)"],
        timeout=30,
    )
    assert taken.returncode == 0
    zygote.close()
    assert not Path(f"/proc/{zygote.pid}").exists()


@linux_only
def test_a_worker_that_asks_for_help_prints_it_to_its_log_and_exits_0(zygote: forking.Zygote, tmp_path: Path) -> None:
    # A worker killed by a signal reports it as subprocess.Popen does (-9): test_distributed kills one.
    worker = zygote.start(["--help"], env={"PATH": os.environ.get("PATH", "")}, log_path=tmp_path / "w.log")
    assert worker.wait(timeout=60) == 0 and "--chief HOST:PORT" in (tmp_path / "w.log").read_text()


@linux_only
def test_a_killed_zygote_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    zygote = forking.Zygote()
    os.kill(zygote.pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match=r"forks the workers \(pid \d+\) has ended; resume the search"):
        zygote.start(["--help"], env={}, log_path=tmp_path / "w.log")
    gone = forking.ForkedWorker(2**22 + 7, zygote)  # a pid no process has: read as crashed once the zygote is gone
    assert gone.poll() == 1
    started = time.monotonic()
    zygote.close()
    assert time.monotonic() - started < 2 and not Path(f"/proc/{zygote.pid}").exists()


def test_a_search_process_has_a_scratch_folder_that_ends_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f"{SCRATCH_PREFIX}{dead.pid}-abc"  # a killed search's folder
    (left / "sub").mkdir(parents=True)
    (left / "sub" / "__autograph_generated_file1.py").write_text("x = 1\n")
    alive = tmp_path / f"{SCRATCH_PREFIX}{os.getppid()}-abc"  # a running one's (the test runner's parent)
    alive.mkdir()
    other = tmp_path / "someone-elses"
    other.mkdir()
    with scratch_dir() as path:
        assert Path(path).parent == tmp_path and Path(path).name.startswith(f"{SCRATCH_PREFIX}{os.getpid()}-")
        assert os.environ["TMPDIR"] == path and tempfile.gettempdir() == path
        assert not left.exists() and alive.is_dir() and other.is_dir()
        Path(tempfile.mkstemp()[1]).write_text("scratch")
    assert not Path(path).exists()
    assert os.environ["TMPDIR"] == str(tmp_path) and tempfile.gettempdir() == str(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name])
