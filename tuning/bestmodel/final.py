"""Final training: the best configuration trained on the whole training set, as a background job.

``start_final_training`` checks the request, takes the job's lock, and starts
``python -m tuning.bestmodel.trainer`` in its own OS process and session (like a search), handing it the
lock: a second start is refused while one runs, with no window in between. The only link with the job is
its folder, ``<project>/explorer/final/``:

``status.json``   state, epoch/epochs, batch/batches, the last epoch's metrics, the test results, error
``metrics.jsonl`` one line per epoch (``run`` tells the runs apart)
``train.log``     the process log
``model.keras``   the trained model (replaced atomically, and only when a new run completes)
``lock``, ``control.json``  the running job's lock; a stop request

A job whose process died reads "interrupted" (its lock is gone). The model is loaded only with Keras'
safe mode (``keras.saving.load_model(..., safe_mode=True)``): a doctored file cannot run code.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tuning.bestmodel.source import best_trial, search_config
from tuning.engine import background
from tuning.errors import ConfigError, SearchStateError
from tuning.results import load_project
from tuning.store.paths import OURS, read_json, read_jsonl, write_json_atomic
from tuning.store.status import lock_is_held

if TYPE_CHECKING:
    import keras

    from tuning.data import DataSpec
    from tuning.space.config import SearchConfig

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock
    fcntl = None  # type: ignore[assignment]

FOLDER = "final"
ACTIVE_STATES = ("starting", "running", "stopping")
MAX_EPOCHS = 1000
TrainSize = int | Literal["search", "all"]


@dataclass(frozen=True)
class FinalPaths:
    """Where the files of one search's final training live."""

    project_dir: Path

    @classmethod
    def of(cls, project_dir: str | os.PathLike[str]) -> FinalPaths:
        return cls(Path(project_dir).expanduser().absolute())

    @property
    def folder(self) -> Path:
        return self.project_dir / OURS / FOLDER

    @property
    def status(self) -> Path:
        return self.folder / "status.json"

    @property
    def metrics(self) -> Path:
        return self.folder / "metrics.jsonl"

    @property
    def log(self) -> Path:
        return self.folder / "train.log"

    @property
    def model(self) -> Path:
        return self.folder / "model.keras"

    @property
    def lock(self) -> Path:
        return self.folder / "lock"

    @property
    def control(self) -> Path:
        return self.folder / "control.json"


@dataclass
class FinalStatus:
    """One snapshot of the final training, as written in ``status.json``; "none" when it never ran."""

    state: str = "none"
    run: int = 0
    pid: int | None = None
    started_at: float | None = None
    ended_at: float | None = None
    trial_id: str | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    epochs: int = 0
    epoch: int = 0
    batch: int = 0
    batches: int = 0
    train_images: int | None = None
    test_images: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] | None = None
    message: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FinalStatus:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def fraction(self) -> float:
        """How much of the training is done, from 0 to 1 (epochs and batches)."""
        if self.state == "completed":
            return 1.0
        if self.epochs <= 0:
            return 0.0
        within = self.batch / self.batches if self.batches else 0.0
        return min(1.0, max(0.0, (max(self.epoch - 1, 0) + within) / self.epochs))


def read_final_status(project_dir: str | os.PathLike[str]) -> FinalStatus:
    """The final training's status; "running" turned into "interrupted" when its process is gone."""
    paths = FinalPaths.of(project_dir)
    data = read_json(paths.status)
    status = FinalStatus.from_dict(data) if data else FinalStatus()
    if status.is_active and lock_is_held(paths.lock) is False:
        status.state = "interrupted"
        status.message = "The final training process ended without finishing (killed or crashed); start it again."
    return status


def read_final_metrics(project_dir: str | os.PathLike[str], *, run: int | None = None) -> list[dict[str, Any]]:
    """The per-epoch metrics of one run of the final training (the latest by default), in epoch order."""
    paths = FinalPaths.of(project_dir)
    wanted = read_final_status(project_dir).run if run is None else run
    records, _ = read_jsonl(paths.metrics)
    return sorted((r for r in records if r.get("run") == wanted), key=lambda r: r.get("epoch", 0))


def final_model_path(project_dir: str | os.PathLike[str]) -> Path | None:
    """The saved final model, or None when no final training has completed."""
    path = FinalPaths.of(project_dir).model
    return path if path.is_file() else None


def load_final_model(project_dir: str | os.PathLike[str]) -> keras.Model:
    """The final model, loaded with Keras' safe mode (no code from the file is run)."""
    import keras

    path = FinalPaths.of(project_dir).model
    if not path.is_file():
        raise SearchStateError(
            f"No final model in {path.parent}: expected {path.name}. Train the best configuration first."
        )
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (ValueError, OSError, TypeError) as error:
        raise SearchStateError(
            f"{path} cannot be loaded as a Keras model ({type(error).__name__}: {error}). Train it again."
        ) from None


@dataclass
class FinalHandle:
    """A final training started from this process."""

    project_dir: Path
    pid: int
    process: subprocess.Popen | None = None

    def status(self) -> FinalStatus:
        return read_final_status(self.project_dir)

    def wait(self, timeout: float | None = None, *, poll: float = 0.2) -> FinalStatus:
        """Wait until the job's process ends (or ``timeout`` seconds); the status then."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            if self.process is None and not self.status().is_active:
                break
            time.sleep(poll)
        return self.status()


def check_epochs(epochs: Any) -> int:
    """``epochs`` as a whole number from 1 to ``MAX_EPOCHS``, or ``ConfigError``."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_EPOCHS:
        raise ConfigError("epochs", f"expected a whole number of epochs from 1 to {MAX_EPOCHS}; found {epochs!r}.")
    return epochs


def training_spec(config: SearchConfig, train_size: TrainSize) -> DataSpec:
    """The search's data settings with the final training's size: "search" (the same), "all" or a number.

    The held-out test set does not depend on the training size: it stays the search's.
    """
    if train_size == "search":
        return config.data
    size = None if train_size == "all" else train_size
    if size is not None and (isinstance(size, bool) or not isinstance(size, int)):
        raise ConfigError("train_size", f"expected 'search', 'all' or a number of training images; found {size!r}.")
    spec = dataclasses.replace(config.data, train_size=size)
    spec.validate()
    return spec


def _take_lock(paths: FinalPaths) -> int:
    """The job's lock, held exclusively, as a descriptor; ``SearchStateError`` when a job holds it."""
    paths.folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o644)
    if fcntl is None:  # pragma: no cover
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        pid = read_final_status(paths.project_dir).pid
        who = f"process {pid}" if pid else "another process"
        raise SearchStateError(
            f"The final training of {paths.project_dir} is already running ({who}). "
            "Wait for it to finish, or stop it first."
        ) from None
    return fd


def start_final_training(
    project_dir: str | os.PathLike[str], *, epochs: int, train_size: TrainSize = "search", replace: bool = False
) -> FinalHandle:
    """Train the best configuration of a search on its whole training set, in the background; returns at once.

    ``train_size``: "search" uses the search's training and validation images together, "all" the whole
    training set of the dataset, a number that many images of it. An existing final model is replaced when
    the new run completes, and only with ``replace``. Refused (``SearchStateError``) while a run is active.
    """
    paths = FinalPaths.of(project_dir)
    result = load_project(paths.project_dir)
    config = search_config(result)  # refuses a project not made by this app
    trial = best_trial(result)
    training_spec(config, train_size)  # refuses a size the dataset settings do not allow
    args = ["--epochs", str(check_epochs(epochs)), "--train-size", str(train_size)]
    fd = _take_lock(paths)
    try:
        previous = read_final_status(paths.project_dir)
        if paths.model.is_file() and not replace:
            raise SearchStateError(
                f"{paths.model} already holds a final model; it is kept unless you ask to replace it "
                "(replace=True, or 'Train again' in the app)."
            )
        paths.control.unlink(missing_ok=True)
        starting = FinalStatus(
            state="starting", run=previous.run + 1, started_at=time.time(), trial_id=trial.trial_id,
            hyperparameters=trial.hyperparameters, epochs=epochs, message="Starting the training process…",
        )  # fmt: skip
        write_json_atomic(paths.status, starting.to_dict())
        return _spawn(paths, fd, [*args, "--run", str(starting.run)])
    finally:
        os.close(fd)  # the child holds the same lock from here on


def _spawn(paths: FinalPaths, fd: int, args: list[str]) -> FinalHandle:
    process = background.spawn(
        "tuning.bestmodel.trainer", [str(paths.project_dir), *args, "--lock-fd", str(fd)], log=paths.log, pass_fds=(fd,)
    )
    return FinalHandle(paths.project_dir, process.pid, process)


def stop_final_training(project_dir: str | os.PathLike[str]) -> FinalStatus:
    """Ask a running final training to stop at the next batch (no model is saved; a previous one is kept)."""
    paths = FinalPaths.of(project_dir)
    status = read_final_status(paths.project_dir)
    if not status.is_active:
        raise SearchStateError(f"The final training of {paths.project_dir} is not running (state: {status.state}).")
    write_json_atomic(paths.control, {"stop": "now", "requested_at": time.time()})
    return status
