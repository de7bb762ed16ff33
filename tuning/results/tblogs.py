"""Learning curves from the TensorBoard callback's event files, read with TensorBoard's ``EventAccumulator``.

Keras Tuner gives each trial's TensorBoard callback the folder ``<logdir>/<trial_id>/execution<k>/``,
where Keras writes ``train/`` and ``validation/`` event files with ``epoch_loss``, ``epoch_accuracy``...
(``epoch_<name>`` becomes ``<name>`` for training and ``val_<name>`` for validation).

Where ``<logdir>`` is: the folder given explicitly, else the first of these that holds a folder named after
one of the project's trials with an ``execution<k>`` folder inside: ``logs``, ``tb`` or ``tensorboard``
inside the project, then ``<parent>/<those>/<project name>``, then ``<parent>/<those>`` (next to the
project). Reading events imports TensorFlow through TensorBoard (a few seconds, once per process).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tuning.results.curves import Point
from tuning.results.files import Signature, signature

LOG_FOLDERS = ("logs", "tb", "tensorboard")
EXECUTION = re.compile(r"^execution(\d+)$")
RUNS = {"train": "", "validation": "val_"}
EPOCH_TAG = "epoch_"
# The size cap of one run folder's event files (``train/`` or ``validation/`` of one execution): Keras writes a
# few kB of scalars per epoch, a graph and histograms a few MB; a run past the cap is skipped with a notice.
MAX_EVENTS_BYTES = 256 * 2**20


def candidate_log_dirs(project_dir: Path) -> list[Path]:
    """The folders where a TensorBoard log folder for this project is looked for, in order."""
    parent = project_dir.parent
    return [
        *(project_dir / name for name in LOG_FOLDERS),
        *(parent / name / project_dir.name for name in LOG_FOLDERS),
        *(parent / name for name in LOG_FOLDERS),
    ]


def find_log_dir(project_dir: Path, trial_ids: Iterable[str], *, explicit: Path | None = None) -> Path | None:
    """The TensorBoard log folder of this project's trials, or None."""
    ids = set(trial_ids)
    candidates = [explicit] if explicit is not None else candidate_log_dirs(project_dir)
    for folder in candidates:
        try:
            names = set(os.listdir(folder))
        except OSError:
            continue
        if any(_executions(folder / trial_id) for trial_id in sorted(names & ids)):
            return folder
    return None


def _executions(trial_dir: Path) -> list[tuple[int, Path]]:
    try:
        entries = list(os.scandir(trial_dir))
    except OSError:
        return []
    found = [(int(m.group(1)), Path(e.path)) for e in entries if (m := EXECUTION.match(e.name)) and e.is_dir()]
    return sorted(found)


class TensorBoardCurves:
    """Each trial's curves from a log folder, re-read only when its event files change."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._signatures: dict[str, tuple[tuple[str, Signature | None], ...]] = {}
        self.errors: dict[str, str] = {}

    def read(self, trial_ids: Iterable[str]) -> dict[str, list[Point]]:
        """The curves of those trials whose event files changed since the last read."""
        changed: dict[str, list[Point]] = {}
        for trial_id in trial_ids:
            runs = self._runs(trial_id)
            key = tuple((str(path), signature(path)) for _, _, files in runs for path in files)
            if key == self._signatures.get(trial_id, ()):
                continue
            self._signatures[trial_id] = key
            changed[trial_id] = self._points(trial_id, runs)
        return changed

    def _runs(self, trial_id: str) -> list[tuple[int, str, list[Path]]]:
        runs = []
        for execution, folder in _executions(self.log_dir / trial_id):
            for run in RUNS:
                files = sorted((folder / run).glob("events.out.tfevents.*"))
                if files:
                    runs.append((execution, run, files))
        return runs

    def _points(self, trial_id: str, runs: list[tuple[int, str, list[Path]]]) -> list[Point]:
        points: list[Point] = []
        self.errors.pop(trial_id, None)
        for execution, run, files in runs:
            refused = check_event_files(files[0].parent)
            if refused:
                self.errors[trial_id] = f"{files[0].parent}: {refused}"
                continue
            try:
                scalars = read_epoch_scalars(files[0].parent)
            except Exception as exc:  # a third-party reader on arbitrary files: report, never crash
                self.errors[trial_id] = f"{files[0].parent}: {exc}"
                continue
            for tag, series in scalars.items():
                metric = RUNS[run] + tag.removeprefix(EPOCH_TAG)
                points += [(trial_id, execution, step + 1, metric, value) for step, value in series]
        return points


def check_event_files(run_dir: Path) -> str | None:
    """Why the event files of ``run_dir`` are not to be read (None: read them): one that is not a regular
    file (TensorBoard's reader would wait on a FIFO), or all together larger than ``MAX_EVENTS_BYTES``."""
    total = 0
    try:
        entries = [e for e in os.scandir(run_dir) if "tfevents" in e.name]
        for entry in entries:
            st = entry.stat(follow_symlinks=True)
            if not stat.S_ISREG(st.st_mode):
                return f"{entry.name} is not a regular file; not read"
            total += st.st_size
    except OSError as exc:
        return f"cannot be listed ({exc.strerror or type(exc).__name__})"
    if total > MAX_EVENTS_BYTES:
        return f"event files of {total / 2**20:,.0f} MB, over the {MAX_EVENTS_BYTES >> 20} MB cap per run; not read"
    return None


def read_epoch_scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """``epoch_*`` scalars of one TensorBoard run folder: tag -> [(step, value)] in step order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    accumulator = EventAccumulator(str(run_dir), size_guidance={"tensors": 0, "scalars": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    found: dict[str, list[tuple[int, float]]] = {}
    for tag in tags.get("tensors", []):
        if tag.startswith(EPOCH_TAG):
            found[tag] = [(e.step, _scalar(make_ndarray(e.tensor_proto))) for e in accumulator.Tensors(tag)]
    for tag in tags.get("scalars", []):  # summaries written by TensorFlow 1
        if tag.startswith(EPOCH_TAG):
            found[tag] = [(e.step, float(e.value)) for e in accumulator.Scalars(tag)]
    return {tag: sorted(series) for tag, series in found.items()}


def _scalar(array: Any) -> float:
    try:
        return float(array.item())
    except (TypeError, ValueError):
        return float("nan")
