"""What this machine trains on, and how many worker processes pay off on it.

Nothing here imports TensorFlow: the CPU comes from ``/proc/cpuinfo`` (or ``platform``), the GPUs from
``nvidia-smi``, and whether the installed TensorFlow can use them from its package metadata
(``tensorflow[and-cuda]`` brings the ``nvidia-*`` CUDA libraries; ``tensorflow-cpu`` never uses a GPU).
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from tuning.space.config import SearchConfig

# Measured on 2 cores (docs/benchmarks.md): two one-thread workers train 1.54x the trials per hour of one
# two-thread process. More workers than this are not measured, so "auto" stops here (each gets cores // N).
MAX_AUTO_WORKERS = 4
TWO_WORKER_SPEEDUP = 1.54  # trials per hour of two one-thread workers / one process, measured on 2 cores
WORKER_MEMORY_BYTES = 1_500 * 2**20  # a TensorFlow worker training a small CNN on CIFAR-10 (1.34 GB measured)
MEMORY_SHARE = 0.6  # of the available memory, what the workers may take together


@dataclass(frozen=True)
class Machine:
    """The CPU, memory and GPUs of this machine, and whether TensorFlow here is a CUDA build."""

    cpu: str
    cores: int
    memory_bytes: int
    gpus: tuple[str, ...]
    tensorflow: str | None  # the installed distribution: "tensorflow-cpu", "tensorflow", or None
    cuda_build: bool

    @property
    def trains_on_gpu(self) -> bool:
        return bool(self.gpus) and self.cuda_build

    def describe(self) -> str:
        """E.g. "CPU: AMD EPYC 7B13, 2 cores" or "GPU: NVIDIA H200 (1 of 1)"."""
        if self.trains_on_gpu:
            names = ", ".join(self.gpus)
            return f"GPU: {names} ({len(self.gpus)} GPU{'s' * (len(self.gpus) != 1)}, CUDA build of TensorFlow)"
        text = f"CPU: {self.cpu}, {self.cores} core{'s' * (self.cores != 1)}"
        if self.gpus:
            text += f" (a GPU is present: {', '.join(self.gpus)}, but {self.tensorflow or 'TensorFlow'} cannot use it"
            text += "; set up with ./dev app --gpu)"
        if self.tensorflow is None:
            text += " (TensorFlow is not installed: nothing can train)"
        return text


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), not the machine's total."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def _nvidia_gpus() -> list[tuple[str, str]]:
    """(index, name) of every GPU ``nvidia-smi`` lists (none when it is missing or fails)."""
    try:
        found = subprocess.run(
            ["nvidia-smi", "--query-gpu=index,name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if found.returncode:
        return []
    rows = (line.split(",", 1) for line in found.stdout.splitlines() if "," in line)
    return [(index.strip(), name.strip()) for index, name in rows if index.strip().isdigit()]


def visible_gpus() -> list[str]:
    """The GPUs this process may use: $CUDA_VISIBLE_DEVICES, else those ``nvidia-smi`` lists."""
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        return [g.strip() for g in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if g.strip() and g.strip() != "-1"]
    return [index for index, _ in _nvidia_gpus()]


def gpu_names() -> tuple[str, ...]:
    """The names of the GPUs this process may use (``visible_gpus``), as ``nvidia-smi`` calls them."""
    names = dict(_nvidia_gpus())
    return tuple(names.get(gpu, f"GPU {gpu}") for gpu in visible_gpus()) if names else ()


def tensorflow_build() -> tuple[str | None, bool]:
    """The installed TensorFlow distribution and whether it comes with CUDA (``tensorflow[and-cuda]``)."""
    for name in ("tensorflow-cpu", "tensorflow"):
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        cuda = name == "tensorflow" and _has_distribution("nvidia-cudnn-cu12")
        return name, cuda
    return None, False


def _has_distribution(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


@functools.lru_cache(maxsize=1)
def this_machine() -> Machine:
    """This machine (read once per process)."""
    tensorflow, cuda = tensorflow_build()
    memory = psutil.virtual_memory().available
    return Machine(cpu_model(), usable_cores(), memory, gpu_names(), tensorflow, cuda)


def auto_workers(machine: Machine, *, trials: int) -> int:
    """How many worker processes a search of ``trials`` trials uses by default on ``machine``.

    One per GPU where TensorFlow can use GPUs; on a CPU, one per core up to ``MAX_AUTO_WORKERS``, bounded
    by memory and by the number of trials (1 means today's single process, no chief).
    """
    if machine.trains_on_gpu:
        return max(1, min(len(machine.gpus), trials))
    by_memory = int(machine.memory_bytes * MEMORY_SHARE // WORKER_MEMORY_BYTES)
    return max(1, min(machine.cores, MAX_AUTO_WORKERS, by_memory, trials))


def resolved_workers(config: SearchConfig, machine: Machine) -> int:
    """The worker processes ``config`` runs on here: its number, or ``auto_workers`` for "auto"."""
    if isinstance(config.workers, int):
        return config.workers
    return auto_workers(machine, trials=config.plan().trials)


def set_precision(mixed: bool, machine: Machine) -> str | None:
    """Use ``mixed_float16`` for this process's models when asked and a GPU trains; a note when it cannot."""
    if not mixed:
        return None
    if not machine.trains_on_gpu:
        return "Mixed precision needs a GPU that TensorFlow can use; training in float32 on the CPU instead."
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16")
    return "Mixed precision: float16 computations, float32 weights and outputs (mixed_float16)."
