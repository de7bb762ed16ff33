"""How the group leader starts its local workers: forked from a process that has already imported
TensorFlow, or as fresh interpreters.

A worker started as a fresh interpreter (``python -m tuning.engine.worker``) imports TensorFlow, Keras and
Keras Tuner again: seconds of start-up and some 400 MB of private memory per worker, although every worker
holds the same modules. On Linux, with no GPU to hand out, the leader instead forks a *zygote* right after
its own imports, before TensorFlow has run anything and before the oracle service starts its threads. The
zygote forks each worker on request, so the workers start at once and share the imported modules' memory
with it (copy-on-write; ``gc.freeze`` keeps the garbage collector from writing to those pages).

The zygote tells the leader each worker's pid and exit status over a socket. A leader that dies closes that
socket; the zygote then ends, and its workers see their parent gone (``tuning.engine.worker.watch_parent``)
and stop, as workers of a dead leader always do. A process that uses CUDA cannot be forked safely, so with
GPUs (one worker per GPU), off Linux, and in a leader where TensorFlow has already run something, the
workers start as fresh interpreters, as they do with ``$TUNING_WORKER_START=spawn``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Protocol

from tuning.store.status import pid_exists

START_ENV = "TUNING_WORKER_START"
WORKER_MODULE = "tuning.engine.worker"
_ZYGOTE_POLL_SECONDS = 0.2


class WorkerProcess(Protocol):
    """What the leader asks of a local worker process (``subprocess.Popen`` has all of it)."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def send_signal(self, sig: int) -> None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...


def start_method(gpus: list[str]) -> str:
    """``"fork"`` or ``"spawn"``: how this machine's local workers start (see the module doc)."""
    wanted = os.environ.get(START_ENV, "").strip().lower()
    if wanted == "spawn" or gpus or not sys.platform.startswith("linux") or tensorflow_started():
        return "spawn"
    return "fork"


def tensorflow_started() -> bool:
    """Whether TensorFlow has started its runtime in this process (its thread pools would not survive a fork).

    True in a leader that has run TensorFlow before the search, e.g. ``run_search`` called from a notebook.
    """
    if "tensorflow" not in sys.modules:
        return False
    from tensorflow.python.eager import context

    current = context.context_safe()
    return current is not None and bool(getattr(current, "_initialized", True))


class Spawner:
    """Workers as fresh interpreters: ``python -m tuning.engine.worker ARGS``."""

    method = "spawn"

    def start(self, args: list[str], *, env: dict[str, str], log_path: Path) -> WorkerProcess:
        command = [sys.executable, "-m", WORKER_MODULE, *args, "--parent-pid", str(os.getpid())]
        with open(log_path, "ab") as output:  # the child keeps its own descriptor
            return subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, env=env, close_fds=True
            )

    def close(self) -> None:
        pass


class Zygote:
    """A forked copy of the leader, taken after its imports, that forks workers for it (see the module doc)."""

    method = "fork"

    def __init__(self) -> None:
        preload()
        ours, theirs = socket.socketpair()
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()  # the imported modules' objects stay where they are, shared with every fork
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the zygote ends with os._exit; its work is checked through workers
            try:
                ours.close()
                _serve(theirs)
            finally:
                os._exit(1)  # whatever happens, a fork never returns into the leader's code
        theirs.close()
        self.pid, self._socket, self._buffer = pid, ours, b""
        self._exits: dict[int, int] = {}
        self._gone = False

    def start(self, args: list[str], *, env: dict[str, str], log_path: Path) -> WorkerProcess:
        argv = [*args, "--parent-pid", str(self.pid)]
        try:
            _send(self._socket, {"argv": argv, "env": env, "log": str(log_path)})
        except OSError:
            self._gone = True
        while not self._gone:
            for message in self._receive(block=True):
                if "pid" in message:
                    return ForkedWorker(int(message["pid"]), self)
        raise RuntimeError(f"The process that forks the workers (pid {self.pid}) has ended; resume the search.")

    def exit_code(self, pid: int) -> int | None:
        """The exit status of worker ``pid`` (negative: the signal that ended it), or None while it runs.

        Once the zygote has gone (killed), its workers end by themselves; one that has is reported as crashed (1).
        """
        self._receive(block=False)
        if pid not in self._exits and self._gone and not pid_exists(pid):
            self._exits[pid] = 1
        return self._exits.get(pid)

    def close(self) -> None:
        """End the zygote (workers it started and that still run then end as orphans do: see the module doc)."""
        with contextlib.suppress(OSError):
            self._socket.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    return
            except ChildProcessError:  # already reaped
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def _receive(self, *, block: bool) -> list[dict[str, Any]]:
        if self._gone or (not block and not select.select([self._socket], [], [], 0)[0]):
            return []
        try:
            data = self._socket.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._gone = True
            return []
        messages, self._buffer = _split(self._buffer + data)
        for message in messages:
            if "exit" in message:
                self._exits[int(message["exit"])] = int(message["code"])
        return messages


class ForkedWorker:
    """A worker forked by the zygote: the parts of ``subprocess.Popen`` the leader uses."""

    def __init__(self, pid: int, zygote: Zygote) -> None:
        self.pid, self.returncode, self._zygote = pid, None, zygote

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._zygote.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(WORKER_MODULE, timeout or 0.0)
            time.sleep(0.05)
        return int(self.returncode or 0)

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # never signal a pid the zygote has already reaped (it may be reused)
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def starter(gpus: list[str]) -> Spawner | Zygote:
    """What starts this leader's local workers: a zygote where forking is safe, else a spawner."""
    if start_method(gpus) == "fork":
        try:
            return Zygote()
        except OSError as exc:  # no fork (resource limits): fresh interpreters still work
            logging.getLogger("tuning.search").info("Workers start as fresh processes (fork failed: %s).", exc)
    return Spawner()


def preload() -> None:
    """Import what every worker imports, so that forks of this process share it."""
    import keras  # noqa: F401
    import keras_tuner  # noqa: F401
    import tensorflow  # noqa: F401

    import tuning.data
    import tuning.engine.tuners
    import tuning.engine.worker  # noqa: F401

    # What Keras Tuner and tf.data import only once a trial runs (found by listing a worker's new modules):
    # imported after the fork, each worker would hold its own copy.
    for name in ("grpc.experimental", "tensorboard.plugins.hparams.api", "tensorflow.python.data.ops.range_op"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


RELEASE_ENV = "TUNING_RELEASE_LIBRARIES"
_MADV_PAGEOUT = 21  # linux/mman.h, Linux 5.4 and later


def release_library_pages() -> int | None:
    """Hand back to the kernel the pages of this process's read-only file mappings (its shared libraries)
    that no other process maps; the bytes of mapped file pages that went (None: not tried).

    For a group leader, which never trains: importing TensorFlow touches some 250 MB of its libraries' pages
    (static initialisers, registrations) that only the importing process maps and that the leader never
    needs again. ``madvise(MADV_PAGEOUT)`` reclaims those mapped by no other process (so not the ones the
    workers train with); a page used later is read back in on its next access, so nothing can break, it only
    costs a read. Writable mappings are left alone. Linux 5.4 and later; elsewhere, on an older kernel, or
    with ``$TUNING_RELEASE_LIBRARIES=0``, it does nothing: None when it did not try, 0 when nothing went.
    """
    if os.environ.get(RELEASE_ENV, "1") == "0" or not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        madvise = libc.madvise
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            lines = maps.readlines()
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    before = mapped_file_bytes()
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or "w" in fields[1] or not fields[5].startswith("/"):
            continue  # writable, anonymous, or a kernel region ([vdso], [stack]...)
        start, _, end = fields[0].partition("-")
        low, high = int(start, 16), int(end, 16)
        madvise(low, high - low, _MADV_PAGEOUT)  # fails on an older kernel or a device mapping: skipped
    return max(0, before - mapped_file_bytes())


def mapped_file_bytes() -> int:
    """Resident pages of this process's file (and shared memory) mappings, in bytes: psutil's ``shared``."""
    import psutil

    return int(psutil.Process().memory_info().shared)


def _send(channel: socket.socket, message: dict[str, Any]) -> None:
    """One message between the leader and the zygote: a line of JSON."""
    channel.sendall(json.dumps(message).encode() + b"\n")


def _split(received: bytes) -> tuple[list[dict[str, Any]], bytes]:
    """The whole messages in ``received``, and the start of the next one (kept for the next read)."""
    *lines, rest = received.split(b"\n")
    return [json.loads(line) for line in lines if line], rest


# ----- the zygote's side -----------------------------------------------------------------------------
def _serve(channel: socket.socket) -> None:  # pragma: no cover - runs in the forked zygote
    """Fork a worker for each request on ``channel`` and report its pid and exit; end when the leader does."""
    code = 0
    try:
        _forget_the_leader()
        buffer = b""
        while True:
            for pid, status in _reap():
                _send(channel, {"exit": pid, "code": status})
            if not select.select([channel], [], [], _ZYGOTE_POLL_SECONDS)[0]:
                continue
            data = channel.recv(65536)
            if not data:
                break  # the leader has closed its end, or died
            requests, buffer = _split(buffer + data)
            for request in requests:
                gc.freeze()
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    try:
                        channel.close()
                        _become_worker(request)
                    finally:
                        os._exit(1)
                _send(channel, {"pid": pid})
    except BaseException:
        traceback.print_exc()
        code = 1
    os._exit(code)


def _forget_the_leader() -> None:  # pragma: no cover - runs in the forked zygote
    """Drop what the zygote inherited of the leader's role: its files (the search's lock above all: a worker
    must never keep a dead leader's search locked), its log handlers and its signal handlers."""
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{name}")
            if int(name) > 2 and target.startswith("/") and not target.startswith("/dev/"):
                os.close(int(name))
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger):
            logger.handlers.clear()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the leader's to handle (and the workers')
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _reap() -> list[tuple[int, int]]:  # pragma: no cover - runs in the forked zygote
    ended = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended.append((pid, os.waitstatus_to_exitcode(status)))


def _become_worker(request: dict[str, Any]) -> None:  # pragma: no cover - runs in a forked worker
    """In a fresh fork of the zygote: take the worker's environment and log, run it, exit with its code."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # the leader's scratch folder, from $TMPDIR (see tuning.engine.lifecycle.scratch_dir)
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        # The leader's sys.stdout and sys.stderr may write to descriptors the zygote has closed.
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        from tuning.engine import worker

        code = worker.main(list(request["argv"]))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)
