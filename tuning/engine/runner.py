"""One search in one process: load the data, build the tuner, and run Keras Tuner's loop to its end.

``tuning.engine.launch`` calls ``run_single`` with the search's lock held and its status writer started
when the configuration asks for one process; a group of workers is ``tuning.engine.group``.
"""

from __future__ import annotations

import logging
import os
import traceback
from typing import TYPE_CHECKING, Any

from tuning.engine.lifecycle import data_progress, finish_status, search_callbacks, stop_on_signals
from tuning.engine.machine import set_precision, this_machine
from tuning.errors import TuningError
from tuning.store.paths import SearchPaths
from tuning.store.status import StatusWriter

if TYPE_CHECKING:
    from tuning.data import Dataset
    from tuning.engine.recorder import Recorder
    from tuning.space.config import SearchConfig

log = logging.getLogger("tuning.search")


def run_single(
    config: SearchConfig, paths: SearchPaths, writer: StatusWriter, *, resume: bool, memory_limit_mb: float | None
) -> bool:
    """Run the search in this process to its end; True when the process should restart itself to release memory."""
    from tuning.engine.recorder import RestartProcess, SearchStopped, TooManyFailures

    recorder: Recorder | None = None
    tuner = None
    log.info(
        "%s search in %s (pid %d, session %d)",
        "Resuming" if resume else "Starting",
        paths.project_dir,
        os.getpid(),
        writer.status.session,
    )
    for warning in writer.status.warnings:
        log.info("Note: %s", warning)
    try:
        with stop_on_signals(lambda: recorder.request_stop("now") if recorder else _raise_interrupt()):
            recorder, tuner, data = _prepare(config, paths, writer, memory_limit_mb=memory_limit_mb)
            writer.update(state="running", message="Searching…")
            tuner.search(
                data.x_train,
                data.y_train,
                validation_data=(data.x_val, data.y_val),
                callbacks=search_callbacks(config),
                verbose=0,
            )
        finish_status(writer, "completed", f"Search completed: {writer.status.trials_done} trials.")
    except RestartProcess as restart:
        log.info("%s", restart)
        writer.update(message="Restarting the search process to release memory…")
        return True
    except SearchStopped as stop:
        finish_status(
            writer,
            "stopped",
            "Stopped now; the interrupted trial will run again on resume."
            if stop.mode == "now"
            else "Stopped after the trial; resume to continue.",
        )
    except KeyboardInterrupt:
        finish_status(writer, "stopped", "Stopped by the user; the interrupted trial will run again on resume.")
    except TooManyFailures as exc:
        finish_status(writer, "failed", "The search stopped because trials keep failing.", error=str(exc))
    except TuningError as exc:  # a problem the user can fix (data, settings): its message says how
        finish_status(writer, "failed", "The search failed.", error=str(exc))
    except Exception as exc:
        log.error("%s", traceback.format_exc())
        finish_status(writer, "failed", "The search failed.", error=_describe(exc))
    if recorder is not None and tuner is not None:
        recorder.update_counts(tuner.oracle)
    return False


def _raise_interrupt() -> None:
    raise KeyboardInterrupt


def _prepare(
    config: SearchConfig, paths: SearchPaths, writer: StatusWriter, *, memory_limit_mb: float | None
) -> tuple[Recorder, Any, Dataset]:
    from tuning.data import load_dataset
    from tuning.engine.recorder import Recorder
    from tuning.engine.tuners import make_tuner

    data = load_dataset(config.data, progress=data_progress(writer))
    if note := set_precision(config.mixed_precision, this_machine()):
        log.info("%s", note)
    log.info(
        "Data: %s: %d training, %d validation images (test set of %d kept aside).",
        data.label,
        len(data.y_train),
        len(data.y_val),
        len(data.y_test),
    )
    recorder = Recorder.for_search(config, paths, writer, train_size=len(data.y_train), memory_limit_mb=memory_limit_mb)
    tuner = make_tuner(config, paths.project_dir, recorder)
    recorder.update_counts(tuner.oracle)
    return recorder, tuner, data


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
