"""Trial files parsed in another process, so that a large project's first read uses a second core.

Parsing a trial file is interpreter work (about 0.1 ms each), which threads would only share: a project of a
hundred thousand trials takes seconds of it. ``ParsingProcess`` starts ``python -m tuning.results.parsing``,
hands it a list of trial files, and collects what it parsed while the caller parses its own share. The child
reads and parses exactly as the caller would (``read_json_file``, ``parse_trial``, the same caps and
notices) and sends its records back pickled, in frames of ``FRAME`` trials.

The two share the work by meeting in the middle: the caller hands the child the files in reverse order and
parses from the front, watching ``parsed()`` grow, until the two ends meet; then ``results(stop=True)`` ends
the child. However fast each side is (a child slow to start, a busy core), neither waits for the other.

The pickles are this package's own records, made by this package's own code in a child it started and read
from that child's pipe: no user-supplied bytes are ever unpickled (the files themselves are read as JSON).
When the child fails or is cut off, ``results()`` says which files it did not parse; the caller parses them
itself, so a failed child costs time, never a trial.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tuning.results.files import RawRead, Signature, read_bytes, read_json_file
from tuning.results.trials import TrialRecord, parse_trial
from tuning.settings import pythonpath_with_package

# Reading ahead: on the 2-core machine of docs/benchmarks.md, 2 threads read 100,000 uncached files fastest
# (more only fight the parsing for the interpreter); at most 4 chunks per thread wait to be parsed, so memory
# stays a few MB whatever the project's size.
PREFETCH_THREADS = 2
PREFETCH_CHUNK = 64
# With a child parsing beside the caller, each of the two reads with more threads: the files of a first read
# that large are seldom all in the page cache, and the disk answers more reads at once. 100,000 uncached trial
# files (docs/benchmarks.md): 17-26 s with 8 threads a side, 23 s with 4, 28-36 s with 2, 31-42 s with none;
# cached, no difference beyond this machine's noise.
PARALLEL_PREFETCH_THREADS = 8
FRAME = 500  # trials per frame: about 50 ms of parsing, so the two sides meet within a frame
_HEADER = struct.Struct(">QQ")  # a frame's length in bytes and its number of trials
Parsed = tuple[str, Signature | None, TrialRecord | None, str | None]  # folder id, signature, record, error


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


class ParsingProcess:
    """One child parsing ``files`` ((folder id, path) pairs); its frames are drained by a thread meanwhile,
    so that it never waits on a full pipe."""

    def __init__(self, files: list[tuple[str, str]]) -> None:
        self.files = files
        self._frames: list[bytes] = []
        self._parsed = 0  # trials in the frames received so far
        env = dict(os.environ, PYTHONPATH=pythonpath_with_package(os.environ.get("PYTHONPATH")))
        try:
            self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-m", "tuning.results.parsing"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except OSError:
            self._process = None
            return
        self._drain = threading.Thread(target=self._collect, name="trial-parser", daemon=True)
        self._drain.start()

    def _collect(self) -> None:
        assert self._process is not None and self._process.stdin and self._process.stdout
        try:
            self._process.stdin.write("\n".join(f"{i}\t{p}" for i, p in self.files).encode("utf-8", "surrogateescape"))
            self._process.stdin.close()
            while len(header := self._process.stdout.read(_HEADER.size)) == _HEADER.size:
                length, count = _HEADER.unpack(header)
                frame = self._process.stdout.read(length)
                if len(frame) < length:
                    break
                self._frames.append(frame)
                self._parsed += count
        except OSError:  # the child died: what it sent stands, the rest is parsed by the caller
            pass

    def parsed(self) -> int:
        """How many of ``files``, from the first, the child has parsed and sent so far."""
        return self._parsed

    def results(self, *, stop: bool = False) -> tuple[list[Parsed], list[tuple[str, str]]]:
        """What the child parsed, and the files it did not (to be parsed by the caller). ``stop``: end the
        child now rather than wait for it to parse every file (what it has sent stands)."""
        if self._process is None:
            return [], self.files
        if stop:
            self._process.kill()
        self._drain.join()
        self._process.wait()
        parsed: list[Parsed] = []
        for frame in self._frames:  # each one whole (a cut frame is dropped by _collect): kept even if it died
            try:
                parsed.extend(pickle.loads(frame))  # our own child's records: see the module's docstring
            except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
                break
        done = {folder_id for folder_id, *_ in parsed}
        return parsed, [(i, p) for i, p in self.files if i not in done]


def parse_files(files: list[tuple[str, str]]) -> Iterator[Parsed]:
    """Each file read and parsed as ``TrialFiles`` does it; search spaces shared as ``parse_trial`` does."""
    spaces: dict[bytes, tuple[Any, ...]] = {}
    paths = dict(files)
    for folder_id, raw in prefetch([i for i, _ in files], paths.__getitem__, threads=PARALLEL_PREFETCH_THREADS):
        path = paths[folder_id]
        if raw.signature is None:
            yield folder_id, None, None, None
            continue
        yield folder_id, *read_trial(path, folder_id, spaces, first=raw)


def read_trial(
    path: str | Path, folder_id: str, spaces: dict[bytes, tuple[Any, ...]], *, first: RawRead | None = None
) -> tuple[Signature | None, TrialRecord | None, str | None]:
    """One trial file read and parsed (``first``: its bytes, already read): its signature, its record (None
    when unreadable) and why it is not readable. Here and in ``TrialFiles`` alike."""
    read = read_json_file(path, first=first)
    record = None if read.data is None else parse_trial(read.data, fallback_id=folder_id, spaces=spaces)
    return read.signature, record, read.error


def prefetch(
    ids: list[str],
    path_of: Callable[[str], str],
    *,
    threads: int = PREFETCH_THREADS,
    read: Callable[[str], RawRead] = read_bytes,
) -> Iterator[tuple[str, RawRead]]:
    """(id, the bytes of its file, as ``read`` reads them) for each id, in order, read by ``threads`` threads
    a bounded way ahead; by this thread as it goes when ``threads`` is 0."""
    if threads <= 0:
        yield from ((i, read(path_of(i))) for i in ids)
        return
    chunks = [ids[i : i + PREFETCH_CHUNK] for i in range(0, len(ids), PREFETCH_CHUNK)]

    def read_chunk(chunk: list[str]) -> list[RawRead]:
        return [read(path_of(i)) for i in chunk]

    with ThreadPoolExecutor(threads, thread_name_prefix="trial-files") as pool:
        pending = deque(pool.submit(read_chunk, c) for c in chunks[: 4 * threads])
        submitted = len(pending)
        try:
            for chunk in chunks:
                raws = pending.popleft().result()
                if submitted < len(chunks):
                    pending.append(pool.submit(read_chunk, chunks[submitted]))
                    submitted += 1
                yield from zip(chunk, raws, strict=True)
        finally:  # closed early (the two sides met): chunks not yet begun are not read
            for future in pending:
                future.cancel()


def _main() -> int:
    import gc

    gc.disable()  # millions of small containers, freed at exit (see reader._collector_paused)
    lines = sys.stdin.buffer.read().decode("utf-8", "surrogateescape").splitlines()
    files = [(i, p) for i, _, p in (line.partition("\t") for line in lines if line)]
    out = sys.stdout.buffer
    frame: list[Parsed] = []
    for item in parse_files(files):
        frame.append(item)
        if len(frame) == FRAME:
            _send(out, frame)
            frame = []
    if frame:
        _send(out, frame)
    out.flush()
    return 0


def _send(out: Any, frame: list[Parsed]) -> None:
    data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_HEADER.pack(len(data), len(frame)) + data)
    out.flush()  # each frame as soon as it is whole: the caller counts them to know where to stop


if __name__ == "__main__":
    sys.exit(_main())
