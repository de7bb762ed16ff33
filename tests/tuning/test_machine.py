"""What trains here and how many worker processes "auto" picks, and the CUDA route of ./dev --gpu."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from searches import tiny_config
from tuning.engine.jobs import create_search
from tuning.engine.machine import (
    MAX_AUTO_WORKERS,
    WORKER_MEMORY_BYTES,
    Machine,
    auto_workers,
    gpu_names,
    resolved_workers,
    set_precision,
    tensorflow_build,
    this_machine,
    visible_gpus,
)
from tuning.space.config import SearchConfig
from tuning.store.status import read_status

ROOT = Path(__file__).resolve().parents[2]
CPU = Machine("Test CPU", 2, 24 * 2**30, (), "tensorflow-cpu", False)


@pytest.mark.parametrize(("cores", "expected"), [(1, 1), (2, 2), (4, 4), (8, MAX_AUTO_WORKERS), (64, MAX_AUTO_WORKERS)])
def test_auto_uses_a_worker_per_core_up_to_the_measured_limit(cores: int, expected: int) -> None:
    assert auto_workers(dataclasses.replace(CPU, cores=cores), trials=100) == expected


def test_auto_is_bounded_by_memory_and_trials_and_follows_gpus() -> None:
    tight = dataclasses.replace(CPU, cores=8, memory_bytes=int(2.6 * WORKER_MEMORY_BYTES))
    assert auto_workers(tight, trials=100) == 1  # 60% of 2.6 workers' memory holds one
    assert auto_workers(dataclasses.replace(CPU, cores=8), trials=3) == 3
    assert auto_workers(dataclasses.replace(CPU, cores=8), trials=1) == 1
    gpus = dataclasses.replace(CPU, gpus=("NVIDIA H200", "NVIDIA H200"), tensorflow="tensorflow", cuda_build=True)
    assert auto_workers(gpus, trials=100) == 2
    cpu_build = dataclasses.replace(gpus, tensorflow="tensorflow-cpu", cuda_build=False)
    assert not cpu_build.trains_on_gpu and auto_workers(cpu_build, trials=100) == 2  # its 2 CPU cores
    assert "cannot use it" in cpu_build.describe() and "./dev app --gpu" in cpu_build.describe()
    assert gpus.describe().startswith("GPU: NVIDIA H200, NVIDIA H200 (2 GPUs")


def test_an_explicit_number_is_kept_and_auto_is_resolved() -> None:
    assert resolved_workers(SearchConfig(workers=1), dataclasses.replace(CPU, cores=8)) == 1
    assert resolved_workers(SearchConfig(workers="auto", max_trials=10), dataclasses.replace(CPU, cores=8)) == 4
    assert SearchConfig().workers == "auto"
    assert "workers" in str(SearchConfig(workers="many").errors()[0])


def test_this_machine_is_read_without_tensorflow() -> None:
    machine = this_machine()
    assert machine.cores == len(os.sched_getaffinity(0))
    assert tensorflow_build() == ("tensorflow-cpu", False)  # what requirements.txt installs on Linux
    assert machine.describe().startswith(f"CPU: {machine.cpu}, {machine.cores} core")
    code = "import sys; from tuning.engine.machine import this_machine as m; m(); print('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_gpus_are_the_visible_ones_with_the_names_nvidia_smi_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\nprintf '0, NVIDIA H200\\n1, NVIDIA A100\\n'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert (visible_gpus(), gpu_names()) == (["0", "1"], ("NVIDIA H200", "NVIDIA A100"))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")  # the group leader gives each worker one GPU this way
    assert (visible_gpus(), gpu_names()) == (["1"], ("NVIDIA A100",))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert (visible_gpus(), gpu_names()) == ([], ())


def test_mixed_precision_is_only_used_where_a_gpu_trains() -> None:
    assert set_precision(False, CPU) is None
    assert "needs a GPU" in (set_precision(True, CPU) or "")
    assert SearchConfig().mixed_precision is False
    assert SearchConfig(mixed_precision="yes").errors()[0].field == "mixed_precision"


@pytest.mark.skipif(not shutil.which("taskset"), reason="needs taskset (util-linux)")
def test_the_default_on_a_one_core_machine_is_one_process(tmp_path: Path) -> None:
    project = create_search(tiny_config(max_trials=2, workers="auto"), tmp_path, "one-core")
    assert json.loads((project / "explorer" / "config.json").read_text())["workers"] == "auto"
    command = ["taskset", "-c", "0", sys.executable, "-m", "tuning.engine.launch", str(project)]
    subprocess.run(command, check=True, timeout=300, env={**os.environ, "TUNING_MEMORY_LIMIT_MB": "0"})
    status = read_status(project)
    assert (status.state, status.workers_in_use, status.workers) == ("completed", 1, 0)
    assert ", 1 core" in status.device


def _dev_requirements(*args: str) -> list[str]:
    found = subprocess.run([str(ROOT / "dev"), "requirements", *args], capture_output=True, text=True, check=True)
    return found.stdout.split()


def test_dev_gpu_chooses_the_cuda_requirements() -> None:
    assert _dev_requirements() == ["requirements.txt", "requirements-dev.txt"]
    assert _dev_requirements("--gpu") == ["requirements-gpu.txt", "requirements-dev.txt"]
    assert _dev_requirements("--gpu", "app") == ["requirements-gpu.txt"]
    lines = [ln for ln in (ROOT / "requirements-gpu.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines == ["-e .[gpu]"]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["gpu"] == ["tensorflow[and-cuda]==2.21.0"]
    assert extras["cpu"][0].startswith("tensorflow-cpu==2.21.0")


@pytest.mark.skipif(not os.environ.get("CI") and not os.environ.get("HPX_NETWORK_TESTS"), reason="resolves on PyPI")
def test_the_gpu_requirements_resolve_to_the_cuda_build_with_every_other_pin_unchanged(tmp_path: Path) -> None:
    """A dry resolution (nothing installed): tensorflow[and-cuda] 2.21.0 and no tensorflow-cpu."""
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
    command += ["--report", str(report), "-r", str(ROOT / "requirements-gpu.txt")]
    subprocess.run(command, check=True, cwd=ROOT, timeout=600, capture_output=True)
    found = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in json.loads(report.read_text())["install"]}
    assert found["tensorflow"] == "2.21.0" and "tensorflow-cpu" not in found
    assert any(name.startswith("nvidia-cudnn") for name in found)
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for pin in pins:
        name, version = pin.split("==")
        assert found[name.lower()] == version, pin
