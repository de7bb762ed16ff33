"""Read a Keras Tuner project (this app's or anyone's) into a ``ProjectResult``, and keep it current.

``load_project`` reads a project once. ``ProjectReader`` is for the live monitor: each ``refresh()``
re-reads only what changed on disk since the last one (changed trial files, new lines of this app's
``.jsonl`` files, ``oracle.json`` when it changed) and patches the previous tables. Nothing here writes
to the project folder; files caught mid-write are retried, then skipped with a notice.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import math
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from tuning.errors import SearchNotFoundError
from tuning.results.curves import BEST_EPOCH_NOTE, CurveTable, EngineCurves, best_epoch_points, empty_curves
from tuning.results.events import DisplayStarts, TrialTimes
from tuning.results.files import CachedJson, JsonlTail, require_project, signature
from tuning.results.infer import infer_objective, infer_tuner, matching_metrics, ours_objective
from tuning.results.model import HyperparameterInfo, Objective, ProjectResult
from tuning.results.space import infer_from_values, is_tuner_value, merge_spaces, parse_space
from tuning.results.table import NO_TIMES, Columns, TrialTable, hp_columns, row_values
from tuning.results.tblogs import TensorBoardCurves, find_log_dir
from tuning.results.trialfiles import RECHECK, TrialFiles
from tuning.results.trials import TrialRecord, trial_sort_key
from tuning.store.paths import MAX_JSON_BYTES, SearchPaths, read_json
from tuning.store.status import status_of


def load_project(
    project_dir: str | os.PathLike[str], *, tensorboard_dir: str | os.PathLike[str] | None = None
) -> ProjectResult:
    """Everything in one project folder, read once. ``SearchNotFoundError`` when it holds no project."""
    return ProjectReader(project_dir, tensorboard_dir=tensorboard_dir).refresh()


class ProjectReader:
    """One project, kept current: each ``refresh()`` reads only the files that changed since the last.

    Unfinished trials are checked at every refresh; finished ones are read once, and ``recheck`` of their
    files are checked for changes per refresh, in turn. ``files_read`` counts every file read so far;
    ``last_read`` lists those read by the last refresh. ``tensorboard_dir`` names the TensorBoard log
    folder when it is not in one of the usual places (see ``tuning.results.tblogs``). Each result shares
    no mutable state with the reader: later refreshes never change a result already returned.
    """

    def __init__(
        self,
        project_dir: str | os.PathLike[str],
        *,
        tensorboard_dir: str | os.PathLike[str] | None = None,
        recheck: int = RECHECK,
    ) -> None:
        self.project_dir = require_project(project_dir)
        self.paths = SearchPaths.of(self.project_dir)
        self.tensorboard_dir = Path(tensorboard_dir).expanduser().absolute() if tensorboard_dir else None
        self.files_read = 0
        self._last_read: list[str | Path] = []  # paths as given: a Path made per trial file costs at 100,000
        self._trials = TrialFiles(self.project_dir, recheck=recheck, on_read=self._count)
        self._oracle = CachedJson(self.paths.oracle)
        self._config = CachedJson(self.paths.config)
        self._status: dict[str, Any] | None = None
        self._status_signature: Any = None
        self._status_unreadable = False
        self._events = JsonlTail(self.paths.events)
        self._metrics = JsonlTail(self.paths.metrics)
        self._times = TrialTimes()
        self._engine = EngineCurves()
        self._best = CurveTable("best_epoch")
        self._tensorboard: TensorBoardCurves | None = None
        self._tb_table = CurveTable("tensorboard")
        self._table = TrialTable()
        self._records = self._trials.records
        self._order_key: tuple[int, int] = (-1, -1)
        self._order: list[str] = []
        self._order_basis: tuple[list[str], int, bool] = ([], 0, False)  # start order, removals, all listed
        self._numbers: dict[str, int] = {}
        self._oracle_version = 0
        self._oracle_space: tuple[HyperparameterInfo, ...] = ()
        self._start_order: list[str] = []
        self._display_starts = DisplayStarts()
        self._known = _Knowledge()

    @property
    def last_read(self) -> list[Path]:
        """The files read by the last refresh."""
        return [Path(p) for p in self._last_read]

    def _count(self, path: str | Path) -> None:
        self.files_read += 1
        self._last_read.append(path)

    def refresh(self) -> ProjectResult:
        """The project as it is on disk now."""
        self._last_read = []
        if not self.project_dir.is_dir():
            raise SearchNotFoundError(f"{self.project_dir} no longer exists: the project was moved or deleted.")
        with _collector_paused():
            return self._refresh()

    def _refresh(self) -> ProjectResult:
        self._read_ours()
        changed = self._read_oracle()
        live = _live_ids(self._oracle.data)
        trial_changes = self._trials.refresh(live)
        for trial_id in sorted(trial_changes):  # sorted: curves in an order that does not hang on reading order
            self._known.update(trial_id, self._records.get(trial_id))
            self._best.replace(trial_id, best_epoch_points(r) if (r := self._records.get(trial_id)) else [])
        changed |= trial_changes | self._read_events()
        self._read_metrics()
        return self._result(changed)

    # ----- reading ---------------------------------------------------------------------------
    def _read_ours(self) -> None:
        self._config.refresh(self._count)
        if self._config.data is None:
            return
        current = signature(self.paths.status)
        active = self._status is not None and self._status.get("state") in ("starting", "running", "stopping")
        if current != self._status_signature or active or self._status is None:
            data = None
            if current is not None:
                self._count(self.paths.status)
                data = read_json(self.paths.status)
            self._status_unreadable = current is not None and data is None
            self._status = status_of(self.paths, data).to_dict()
            self._status_signature = current

    def _read_oracle(self) -> set[str]:
        """Re-read oracle.json if it changed; return trials whose start time it changed."""
        if not self._oracle.refresh(self._count):
            return set()
        oracle = self._oracle.data or {}
        hps = oracle.get("hyperparameters")
        self._oracle_space = parse_space(hps.get("space") or ()) if isinstance(hps, dict) else ()
        self._known.declare({info.name for info in self._oracle_space})
        self._oracle_version += 1
        order = oracle.get("start_order")
        self._start_order = list(map(str, order)) if isinstance(order, list) else []
        changed = self._display_starts.update(oracle)
        return changed

    def _read_events(self) -> set[str]:
        records, restarted = self._events.read_new(self._count)
        if restarted:
            old = set(self._records)
            self._times = TrialTimes()
            return self._times.feed(records) | old
        return self._times.feed(records)

    def _read_metrics(self) -> None:
        records, restarted = self._metrics.read_new(self._count)
        if restarted:
            self._engine = EngineCurves()
        self._engine.feed(records)

    # ----- assembling ------------------------------------------------------------------------
    def _result(self, changed: set[str]) -> ProjectResult:
        order = self._trial_order()
        space, space_notice = self._space()
        tuner, tuner_inferred, tuner_notice = infer_tuner(
            self._oracle.data, hyperband_values=self._known.hyperband_values > 0, config=self._config.data
        )
        columns = Columns(tuple(sorted(self._known.metrics)), hp_columns(space), tuner == "hyperband")
        numbers = self._numbers

        def row(trial_id: str) -> tuple[Any, ...]:
            return row_values(self._records[trial_id], numbers[trial_id], self._times_of(trial_id), columns)

        trials = self._table.update(order, changed, row, columns)
        objective, objective_notice = self._objective()
        curves, source, note = self._curves(order, changed)
        notices = [
            *self._file_notices(),
            *(["no trials yet"] if not order else []),
            *(n for n in (tuner_notice, objective_notice, space_notice) if n),
            *(f"{col}: some values do not fit the declared type; shown as found" for col in self._table.misfits),
            *(
                f"TensorBoard logs unreadable: {e}"
                for e in (self._tensorboard.errors.values() if self._tensorboard else ())
            ),
        ]
        return ProjectResult(
            project_dir=self.project_dir,
            name=self.project_dir.name,
            trials=trials.copy(deep=False),
            space=space,
            objective=objective,
            tuner=tuner,
            tuner_inferred=tuner_inferred,
            curves=curves.copy(deep=False),
            curves_source=source,
            curves_note=note,
            config=copy.deepcopy(self._config.data),
            status=copy.deepcopy(self._status),
            notices=notices,
        )

    def _trial_order(self) -> list[str]:
        """Trial ids in start order (recomputed only when the oracle or the set of trials changed)."""
        key = (self._oracle_version, self._trials.version)
        if key == self._order_key:
            return self._order
        appended = self._appended()
        if appended is None:
            self._order = _order(self._start_order, self._records)
            self._numbers = {trial_id: n for n, trial_id in enumerate(self._order, start=1)}
        else:
            self._numbers.update((trial_id, len(self._order) + n) for n, trial_id in enumerate(appended, start=1))
            self._order = self._order + appended
        self._order_key = key
        self._order_basis = (self._start_order, self._trials.removals, len(self._order) == len(self._records))
        return self._order

    def _appended(self) -> list[str] | None:
        """The trials to add at the end of the last order when the oracle only listed new trials since and
        none vanished; None when the order must be worked out again."""
        start, removals, complete = self._order_basis
        if not complete or removals != self._trials.removals or self._start_order[: len(start)] != start:
            return None
        tail = [i for i in self._start_order[len(start) :] if i in self._records]
        return tail if len(self._order) + len(tail) == len(self._records) and len(set(tail)) == len(tail) else None

    def _times_of(self, trial_id: str) -> tuple[float, float, float]:
        times = self._times.get(trial_id)
        if times is NO_TIMES and trial_id in self._display_starts.times:
            return (self._display_starts.times[trial_id], NO_TIMES[1], NO_TIMES[2])
        return times

    def _space(self) -> tuple[tuple[HyperparameterInfo, ...], str | None]:
        declared = merge_spaces(self._oracle_space, self._known.trial_space.values())
        names = {info.name for info in declared}
        missing = [name for name in self._known.undeclared if name not in names]
        if not missing:
            return declared, None
        inferred = [infer_from_values(n, [r.values.get(n) for r in self._records.values()]) for n in sorted(missing)]
        notice = f"search space not saved for {', '.join(sorted(missing))}: described from the trials' values"
        return declared + tuple(inferred), notice

    def _objective(self) -> tuple[Objective, str | None]:
        ours = ours_objective(self._config.data, self._status)
        if ours is not None:
            return ours, None
        return infer_objective(self._known.matches, self._known.evidence, self._known.directions)

    def _curves(self, order: list[str], changed: set[str]) -> tuple[pd.DataFrame, str, str]:
        if self._config.data is not None or self._engine.table.has_points():
            frame = self._engine.table.frame()
            return frame, "engine", "" if not frame.empty else "no epoch has finished yet"
        if self._read_tensorboard(order, changed):
            assert self._tensorboard is not None
            return self._tb_table.frame(), "tensorboard", f"from TensorBoard logs in {self._tensorboard.log_dir}"
        best = self._best.frame()
        if not best.empty:
            return best, "best_epoch", BEST_EPOCH_NOTE
        return empty_curves(), "none", "no trial has recorded a metric yet"

    def _read_tensorboard(self, order: list[str], changed: set[str]) -> bool:
        """Read new TensorBoard events of new, changed and unfinished trials; whether there are any."""
        if self._tensorboard is None:
            log_dir = find_log_dir(self.project_dir, order, explicit=self.tensorboard_dir)
            if log_dir is None:
                return False
            self._tensorboard = TensorBoardCurves(log_dir)
            to_read = order
        else:
            to_read = [i for i in order if i in changed or not self._records[i].finished]
        for trial_id, points in self._tensorboard.read(to_read).items():
            self._tb_table.replace(trial_id, points)
        return self._tb_table.has_points()

    def _file_notices(self) -> list[str]:
        notices = []
        for name, cached in (("oracle.json", self._oracle), ("explorer/config.json", self._config)):
            if cached.error:
                kept = "; using its previous content" if cached.data is not None else ""
                notices.append(f"could not read {name}: {cached.error}{kept}")
        for path, (error, kept) in self._trials.errors().items():
            if kept:
                notices.append(f"could not re-read {path}: {error}; using its previous content")
            else:
                notices.append(f"skipped {path}: {error}")
        if self._status_unreadable:
            notices.append(
                f"could not read explorer/status.json (not a JSON object, over {MAX_JSON_BYTES >> 20} MB or not a "
                "regular file): "
                "the search's state is unknown and shown as not started"
            )
        notices += self._events.notices("explorer/events.jsonl") + self._metrics.notices("explorer/metrics.jsonl")
        return notices


class _Knowledge:
    """What the trials read so far tell about the project, updated trial by trial."""

    def __init__(self) -> None:
        self.metrics: set[str] = set()
        self.directions: dict[str, str] = {}
        self.matches: Counter[str] = Counter()
        self.evidence = 0
        self.hyperband_values = 0
        self.declared: set[str] = set()  # names the oracle's space declares
        self.trial_space: dict[str, HyperparameterInfo] = {}  # names only trials' own spaces declare
        self.undeclared: set[str] = set()
        self._placed: set[str] = set()  # value names already sorted into the sets above (or tuner values)
        self._by_trial: dict[str, tuple[tuple[str, ...], bool, bool]] = {}

    def declare(self, names: set[str]) -> None:
        """The names the oracle's space declares now."""
        self.declared = names
        self._placed = set()

    def update(self, trial_id: str, record: TrialRecord | None) -> None:
        """Take a trial's new record (None when it vanished) in place of its previous one."""
        if trial_id in self._by_trial:
            matches, evidence, hyperband = self._by_trial.pop(trial_id)
            self.matches.subtract(matches)
            self.evidence -= evidence
            self.hyperband_values -= hyperband
        if record is None:
            return
        matches = matching_metrics(record)
        hyperband = "tuner/epochs" in record.values
        evidence = record.status == "COMPLETED" and math.isfinite(record.score)
        self._by_trial[trial_id] = (matches, evidence, hyperband)
        if matches:
            self.matches.update(matches)
        self.evidence += evidence
        self.hyperband_values += hyperband
        self.metrics.update(record.best_metrics)
        for name, history in record.metrics.items():
            if history.direction and name not in self.directions:
                self.directions[name] = history.direction
        if not self._placed.issuperset(record.values):  # the usual trial names nothing new: one set check
            self._learn_space(record)

    def _learn_space(self, record: TrialRecord) -> None:
        names = [
            n for n in record.values if not is_tuner_value(n) and n not in self.declared and n not in self.trial_space
        ]
        self._placed.update(n for n in record.values if is_tuner_value(n) or n in self.declared)
        if not names:
            return
        own = {info.name: info for info in parse_space(record.space)}
        for name in names:
            if name in own:
                self.trial_space[name] = own[name]
            else:
                self.undeclared.add(name)
            self._placed.add(name)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while trials are parsed.

    Parsing ten thousand trial files creates millions of small containers, and the collector's repeated
    full passes over them tripled the time of a first load. The collector is switched back on (if it was
    on) as soon as the refresh ends; any cycle made meanwhile is collected then.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _live_ids(oracle: dict[str, Any] | None) -> set[str]:
    """Trials the oracle is running or will retry: checked at every refresh whatever their file says."""
    oracle = oracle or {}
    ongoing = oracle.get("ongoing_trials")
    ids = list(ongoing.values()) if isinstance(ongoing, dict) else list(ongoing) if isinstance(ongoing, list) else []
    retry = oracle.get("retry_queue")
    ids += list(retry) if isinstance(retry, list) else []
    return {str(i) for i in ids}


def _order(start_order: list[str], records: dict[str, TrialRecord]) -> list[str]:
    """Trial ids in start order: as the oracle lists them, then any it does not list, by id."""
    listed = [i for i in dict.fromkeys(start_order) if i in records]
    seen = set(listed)
    return listed + sorted((i for i in records if i not in seen), key=trial_sort_key)
