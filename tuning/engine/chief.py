"""The chief's side of a distributed search: Keras Tuner's oracle service, safe looks at its oracle, and
the environment (CPU threads, GPU) of each worker process it starts.

The oracle service (Keras Tuner's own gRPC servicer) changes the oracle from its threads; everything the
group leader reads or changes goes through ``keras_tuner.synchronized``, the oracle's own lock.
"""

from __future__ import annotations

import os
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
import keras_tuner

from tuning import settings
from tuning.engine.recorder import count_statuses, prune_checkpoints
from tuning.errors import ConfigError
from tuning.store.paths import SearchPaths
from tuning.store.workers import format_address

KERASTUNER_VARIABLES = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


def threads_per_worker(workers: int) -> int:
    """CPU threads for each worker: $TUNING_WORKER_THREADS, else an equal share of this machine's cores."""
    wanted = os.environ.get("TUNING_WORKER_THREADS", "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def worker_environment(index: int, *, threads: int, gpus: list[str], base: dict[str, str]) -> dict[str, str]:
    """The environment of worker ``index`` (0-based): its CPU threads, and its own GPU when there are several."""
    env = {k: v for k, v in base.items() if k not in KERASTUNER_VARIABLES}
    env.update(
        PYTHONUNBUFFERED="1",
        TF_CPP_MIN_LOG_LEVEL=base.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        OMP_NUM_THREADS=str(threads),
        TF_NUM_INTRAOP_THREADS=str(threads),
        TF_NUM_INTEROP_THREADS=str(threads),
        PYTHONPATH=settings.pythonpath_with_package(base.get("PYTHONPATH")),
    )
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
    return env


# ----- the group -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OracleView:
    """What the leader needs of the oracle at one moment."""

    ended: int
    by_status: dict[str, int]
    best: dict[str, Any] | None
    ongoing: dict[str, str]  # worker id -> trial id
    retry: tuple[str, ...]
    numbers: dict[str, int]  # trial id -> number in start order
    failure_streak: int
    last_failure: str | None  # the last line of the last failed trial's message


@keras_tuner.synchronized
def view_oracle(oracle: keras_tuner.Oracle) -> OracleView:
    by_status = count_statuses(oracle)
    best = [t for t in oracle.get_best_trials(1) if t.status == "COMPLETED"]
    failed = []
    for trial_id in reversed(oracle.end_order):
        if oracle.trials[trial_id].status not in ("FAILED", "INVALID"):
            break
        failed.append(oracle.trials[trial_id])
    lines = (failed[0].message or "").strip().splitlines() if failed else []
    return OracleView(
        ended=len(oracle.end_order),
        by_status=by_status,
        best={"trial_id": best[0].trial_id, "score": best[0].score} if best else None,
        ongoing={worker: trial.trial_id for worker, trial in oracle.ongoing_trials.items()},
        retry=tuple(oracle._retry_queue),
        numbers={trial_id: i + 1 for i, trial_id in enumerate(oracle.start_order)},
        failure_streak=len(failed),
        last_failure=lines[-1].strip() if lines else None,
    )


@keras_tuner.synchronized
def requeue_trial(oracle: keras_tuner.Oracle, worker_id: str) -> str | None:
    """Give the trial of a worker that is gone back to the oracle, to run again; its id, if it had one."""
    trial = oracle.ongoing_trials.pop(worker_id, None)
    oracle.tuner_ids.discard(worker_id)
    if trial is None:
        return None
    if trial.trial_id not in oracle._retry_queue:
        oracle._retry_queue.append(trial.trial_id)
    oracle.save()
    return trial.trial_id


@keras_tuner.synchronized
def attach_message(oracle: keras_tuner.Oracle, trial_id: str, message: str) -> None:
    """Put a failed trial's message, which Keras Tuner's gRPC record drops, back into its ``trial.json``."""
    trial = oracle.trials.get(trial_id)
    if trial is not None and not trial.message:
        trial.message = message
        oracle._save_trial(trial)


@keras_tuner.synchronized
def prune(oracle: keras_tuner.Oracle, paths: SearchPaths, keep: str) -> None:
    prune_checkpoints(paths.project_dir, oracle, keep=keep)


def start_oracle_service(
    oracle: keras_tuner.Oracle, host: str, port: int, *, threads: int = 8
) -> tuple[grpc.Server, int]:
    """Serve ``oracle`` with Keras Tuner's gRPC service on ``host:port`` (0: a free port); the port."""
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads))
    protos.get_service_grpc().add_OracleServicer_to_server(OracleServicer(oracle), server)
    try:
        bound = server.add_insecure_port(format_address(host, port))
    except RuntimeError:
        bound = 0
    if not bound:
        raise ConfigError(
            "listen",
            f"the chief cannot listen on {host}:{port} (the port is taken, or the address is not this machine's); "
            "give another with --listen HOST:PORT (port 0 picks a free one).",
        )
    server.start()
    return server, bound
