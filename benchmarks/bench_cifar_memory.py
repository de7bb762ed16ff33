"""Memory of a search on a full-size CIFAR-10 archive: one process against two workers (chief + 2).

Writes a 60,000-image archive in the official python format (the tests' writers, random pixels), loads it
once so that the decoded, memory-mapped copy exists, then runs the same small search in one process and on
two workers (forked from the leader, the default on Linux, and as fresh interpreters), sampling every 0.25 s
the memory of the whole process tree; the forked side once more with the leader keeping the library pages its
imports touched (``TUNING_RELEASE_LIBRARIES=0``, as before 2026-12-04). Two sums are reported: RSS (each
process's resident pages, shared ones counted in every process) and PSS (shared pages divided among the
processes that map them: what the tree really costs the machine).

    .venv/bin/python benchmarks/bench_cifar_memory.py [--train-size N]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.tuning.cifar_fixtures import known_batches, write_python_tar  # noqa: E402
from tuning.data import load_cifar10  # noqa: E402


def tree_memory(root: psutil.Process) -> tuple[int, int]:
    rss = pss = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            info = process.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss, pss = rss + info.rss, pss + getattr(info, "pss", info.rss)
    return rss, pss


def run(
    archive: Path, folder: Path, workers: int, train_size: int, how: str, release: bool = True
) -> tuple[int, int, float]:
    """Peak RSS and PSS sums (bytes) of one search's processes, and its wall time."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "TUNING_MEMORY_LIMIT_MB": "0"}
    env["TUNING_WORKER_START"] = how
    env["TUNING_RELEASE_LIBRARIES"] = "1" if release else "0"
    project = f"w{workers}-{how}-{int(release)}"
    command = [sys.executable, "-m", "tuning", "run", "--directory", str(folder), "--project", project]
    command += ["--dataset", "cifar10", "--data-path", str(archive), "--train-size", str(train_size)]
    command += ["--max-trials", str(2 * workers), "--epochs", "1", "--workers", str(workers), "--seed", "1"]
    start = time.time()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0, 0]
    watched = psutil.Process(process.pid)

    def sample() -> None:
        while process.poll() is None:
            rss, pss = tree_memory(watched)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            time.sleep(0.25)

    sampler = threading.Thread(target=sample)
    sampler.start()
    code = process.wait()
    sampler.join()
    assert code == 0, f"the search with {workers} worker(s) failed"
    return peak[0], peak[1], time.time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-size", type=int, default=10_000)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="hpx-bench-mem-") as tmp:
        os.environ["KERAS_HOME"] = str(Path(tmp) / "keras")
        start = time.time()
        archive = write_python_tar(Path(tmp), known_batches(10_000))
        print(f"full-size archive written in {time.time() - start:.1f} s ({archive.stat().st_size / 2**20:.0f} MB)")
        start = time.time()
        load_cifar10(archive)
        cold = time.time() - start
        start = time.time()
        load_cifar10(archive)
        warm = time.time() - start
        print(f"load: decode + write the cache {cold:.1f} s; later loads (checksums + memory map) {warm:.1f} s")
        sides = {
            "1 process": (1, "fork", True),
            "2 workers, forked": (2, "fork", True),
            "2 workers, forked, leader keeps its library pages": (2, "fork", False),
            "2 workers, fresh": (2, "spawn", True),
        }
        folder = Path(tmp)
        results = {name: run(archive, folder, w, args.train_size, how, keep) for name, (w, how, keep) in sides.items()}
    one_rss, one_pss, _ = results["1 process"]
    for name, (rss, pss, wall) in results.items():
        print(
            f"{name:50}: peak RSS sum {rss / 2**20:6.0f} MB ({rss / one_rss:.2f}x), "
            f"peak PSS sum {pss / 2**20:6.0f} MB ({pss / one_pss:.2f}x), {wall:.0f} s"
        )


if __name__ == "__main__":
    main()
