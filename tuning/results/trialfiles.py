"""The ``trial_*/trial.json`` files of one project, each parsed once and re-read only when it changes.

Between two polls of a live search only the running trial and the new ones change. Finished trials
(COMPLETED, FAILED, INVALID) are read once; their files are still checked for changes, but only a slice
of them at each refresh (``recheck`` files, in turn), so that ten thousand finished trials do not cost
ten thousand ``stat`` calls per poll. The project folder is listed again only when its own mtime changes.

When many files are due at once (a project opened for the first time), their bytes are read by a few
threads ahead of the parsing: reading is waiting on the disk, which threads overlap, while parsing needs
the interpreter, which they would only share.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuning.results.files import RawRead, Signature, read_bytes, signature
from tuning.results.parsing import (
    PARALLEL_PREFETCH_THREADS,
    PREFETCH_THREADS,
    ParsingProcess,
    cores,
    prefetch,
    read_trial,
)
from tuning.results.trials import TrialRecord

TRIAL_PREFIX = "trial_"
TRIAL_FILE = "trial.json"
RECHECK = 1000
# Prefetching (``tuning.results.parsing.prefetch``) pays from a few hundred files on (a thread pool costs about
# a millisecond to start).
PREFETCH_FROM = 256
# A child process costs a process start (0.16 s; it imports neither pandas nor the reader) and the sending back
# of its records; it parses about half the files. Measured on 2 cores (docs/benchmarks.md): from 5,000 files
# on it is as fast with the files cached and 1.3-1.6x faster when they come from disk; at 2,000 it is slower.
PARALLEL_FROM = 5_000


@dataclass(frozen=True, slots=True)
class Entry:
    """The last read of one trial file: its signature, its record (kept from an earlier read when this one
    failed), and why this read failed."""

    signature: Signature | None
    record: TrialRecord | None
    error: str | None = None


class TrialFiles:
    """Every trial file of a project, parsed and cached by (path, mtime_ns, size).

    ``records`` holds every readable trial by trial id; ``version`` changes whenever a trial appears or
    disappears (``removals`` counts the disappearances), so callers can keep what depends only on the set
    of trials.
    """

    def __init__(self, project_dir: Path, *, recheck: int = RECHECK, on_read: Callable[[str], None]) -> None:
        self.project_dir = project_dir
        self.recheck = recheck
        self._on_read = on_read
        self._dir_signature: Signature | None = None
        self._names: set[str] = set()  # the project folder's entries at the last listing
        self._folders: set[str] = set()  # folder ids: the folder name after "trial_"
        self.entries: dict[str, Entry] = {}
        self.records: dict[str, TrialRecord] = {}
        self.version = 0
        self.removals = 0
        self._watch: set[str] = set()  # checked at every refresh: unread, unfinished or unreadable
        self._finished: dict[str, None] = {}  # checked in turn, ``recheck`` at a time
        self._cursor = 0
        self._spaces: dict[bytes, tuple[Any, ...]] = {}  # each distinct search space once (see parse_trial)

    def refresh(self, live: Iterable[str] = ()) -> set[str]:
        """Re-read what changed; return the ids of trials whose record changed, appeared or vanished.

        ``live`` names trials to check whatever their status (the oracle's ongoing and retried trials).
        """
        changed = self._list_folders()
        due = self._watch | ({f for f in live if f in self._folders}) | set(self._next_finished())
        unread = [f for f in due if f not in self.entries]
        if len(unread) >= PREFETCH_FROM:
            changed |= self._read_many(unread)
            due = due.difference(unread)
        for folder_id in due:
            changed |= self._check(folder_id)
        return changed

    def _read_many(self, unread: list[str]) -> set[str]:
        """Files never read before, many of them, read a bounded way ahead by threads. With enough files and
        cores a child process parses them from the last while this one parses from the first, until the two
        meet (see ``tuning.results.parsing``)."""
        if len(unread) < PARALLEL_FROM or cores() < 2:
            changed: set[str] = set()
            for folder_id, raw in prefetch(unread, self._path, threads=PREFETCH_THREADS, read=read_bytes):
                changed |= self._check(folder_id, raw)
            return changed
        child = ParsingProcess([(f, self._path(f)) for f in reversed(unread)])
        changed = set()
        mine = 0
        ahead = prefetch(unread, self._path, threads=PARALLEL_PREFETCH_THREADS, read=read_bytes)
        with contextlib.closing(ahead):  # its threads stop when the two sides meet
            for folder_id, raw in ahead:
                if mine + child.parsed() >= len(unread):
                    break
                changed |= self._check(folder_id, raw)
                mine += 1
        parsed, missed = child.results(stop=True)
        done = set(unread[:mine])
        for folder_id, sig, record, error in parsed:
            if sig is not None and folder_id not in done:
                self._on_read(self._path(folder_id))
                changed |= self._take(folder_id, None, sig, record, error)
        for folder_id, _ in missed:
            if folder_id not in done:
                changed |= self._check(folder_id)
        return changed

    def _path(self, folder_id: str) -> str:
        return os.path.join(self.project_dir, TRIAL_PREFIX + folder_id, TRIAL_FILE)

    def _list_folders(self) -> set[str]:
        current = signature(self.project_dir)
        if current is not None and current == self._dir_signature:
            return set()
        self._dir_signature = None if current is None or _racy(current[0]) else current
        try:
            names = set(os.listdir(self.project_dir))
        except OSError:
            names = set()
        # Only the difference with the last listing is looked at (ten thousand names cost milliseconds).
        # A file named like a trial folder is harmless: its trial.json is simply never found.
        added = {n[len(TRIAL_PREFIX) :] for n in names - self._names if n.startswith(TRIAL_PREFIX)}
        gone = {n[len(TRIAL_PREFIX) :] for n in self._names - names if n.startswith(TRIAL_PREFIX)}
        self._names = names
        self._folders -= gone
        self._folders |= added
        self._watch |= added
        return set().union(*(self._forget(folder_id) for folder_id in gone))

    def _next_finished(self) -> list[str]:
        if not self._finished or self.recheck <= 0:
            return []
        ids = list(self._finished)
        start = self._cursor % len(ids)
        window = ids[start : start + self.recheck]
        if len(window) < self.recheck:
            window += ids[: min(start, self.recheck - len(window))]
        self._cursor = start + len(window)
        return window

    def _check(self, folder_id: str, raw: RawRead | None = None) -> set[str]:
        """Re-read one trial file if it changed; ``raw``: its bytes, already read by a prefetch."""
        path = self._path(folder_id)
        old = self.entries.get(folder_id)
        current = signature(path) if raw is None else raw.signature
        if old is not None and current == old.signature:
            return set()
        if current is None:
            return self._forget(folder_id) if old is not None else set()
        self._on_read(path)
        return self._take(folder_id, old, *read_trial(path, folder_id, self._spaces, first=raw))

    def _take(
        self, folder_id: str, old: Entry | None, sig: Signature | None, record: TrialRecord | None, error: str | None
    ) -> set[str]:
        """Keep one read of a trial file: its record, or (none) the earlier record with why this read failed."""
        if record is None:
            previous = old.record if old is not None else None
            self._store(folder_id, Entry(sig, previous, error or "it vanished while being read"))
            return set()
        self._store(folder_id, Entry(sig, record))
        return {record.trial_id} | ({old.record.trial_id} if old is not None and old.record else set())

    def _store(self, folder_id: str, entry: Entry) -> None:
        old = self.entries.get(folder_id)
        old_id = old.record.trial_id if old is not None and old.record is not None else None
        new_id = entry.record.trial_id if entry.record is not None else None
        if old_id is not None and old_id != new_id:
            self.records.pop(old_id, None)
            self.removals += 1
        if entry.record is not None and new_id is not None:
            self.records[new_id] = entry.record
        if old_id != new_id:
            self.version += 1
        self.entries[folder_id] = entry
        if entry.record is not None and entry.record.finished and entry.error is None:
            self._watch.discard(folder_id)
            self._finished[folder_id] = None
        else:
            self._watch.add(folder_id)
            self._finished.pop(folder_id, None)

    def _forget(self, folder_id: str) -> set[str]:
        entry = self.entries.pop(folder_id, None)
        self._watch.discard(folder_id)
        self._finished.pop(folder_id, None)
        if entry is None or entry.record is None:
            return set()
        self.records.pop(entry.record.trial_id, None)
        self.version += 1
        self.removals += 1
        return {entry.record.trial_id}

    def errors(self) -> dict[str, tuple[str, bool]]:
        """Unreadable trial files: (why, whether an earlier read is used) by path relative to the project."""
        return {
            f"{TRIAL_PREFIX}{folder_id}/{TRIAL_FILE}": (entry.error, entry.record is not None)
            for folder_id in sorted(self._watch)
            if (entry := self.entries.get(folder_id)) is not None and entry.error
        }


def _racy(mtime_ns: int) -> bool:
    """Whether a folder changed so recently that a change within the same clock tick would leave its mtime
    as it is: then it is listed again next time. Whole-second mtimes betray a coarse filesystem clock."""
    tick = 2_000_000_000 if mtime_ns % 1_000_000_000 == 0 else 50_000_000
    return time.time_ns() - mtime_ns < tick
