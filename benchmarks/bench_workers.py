"""Trials per hour: the same search in one process, and on two workers with 1 or 2 CPU threads each.

Every run is a fresh ``python -m tuning run`` (as a user starts it), on the built-in synthetic images,
with the same space, seed and budget; runs of the variants alternate, and each variant's figure is the
median over its repeats, with the median of its paired ratios to one process (same repeat), which the
machine's noise affects least. Two figures per run: end to end (process start to exit: imports, data, chief and
worker start-up included) and while training (first trial's start to last trial's end, from the search's
``events.jsonl``). Keep the whole run under ten minutes on a 2-core machine.

    .venv/bin/python benchmarks/bench_workers.py [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_engine import make_config  # the same small-CNN search as the engine benchmark

ROOT = Path(__file__).resolve().parents[1]
# name -> (workers, CPU threads per worker; None: TensorFlow's default, all cores)
VARIANTS = {
    "1 process, all threads": (1, None),
    "2 workers x 1 thread": (2, 1),
    "2 workers x 2 threads": (2, 2),
}
SIZES = {False: (8, 2, 2000), True: (4, 1, 1000)}  # trials, epochs, images; keyed by --quick


def run_once(config_file: Path, directory: Path, name: str, workers: int, threads: int | None) -> dict[str, float]:
    """One search in fresh processes; seconds end to end and while training, trials done."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "TUNING_MEMORY_LIMIT_MB": "0"}
    if threads is not None:
        env["TUNING_WORKER_THREADS"] = str(threads)
    project = name.replace(" ", "-").replace(",", "")
    command = [sys.executable, "-m", "tuning", "run", "--directory", str(directory), "--project", project]
    command += ["--config", str(config_file), "--workers", str(workers)]
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = time.perf_counter() - start
    project_dir = directory / project
    status = json.loads((project_dir / "explorer" / "status.json").read_text())
    assert status["state"] == "completed", status
    events = [json.loads(line) for line in (project_dir / "explorer" / "events.jsonl").read_text().splitlines()]
    span = max(e["time"] for e in events) - min(e["time"] for e in events if e["event"] == "trial_begin")
    return {"total": total, "training": span, "trials": status["trials_done"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smaller search, one repeat (a smoke test)")
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    trials, epochs, images = SIZES[args.quick]
    repeats = 1 if args.quick else args.repeats
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}")
    print(f"Search: random, {trials} trials of {epochs} epochs on {images} synthetic images; {repeats} repeat(s)")
    runs: list[dict[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        config_file = Path(tmp) / "search.json"
        config_file.write_text(make_config(trials, epochs, images).to_json())
        for repeat in range(repeats):
            order = list(VARIANTS) if repeat % 2 == 0 else list(reversed(VARIANTS))
            runs.append({})
            for name in order:
                run = run_once(config_file, Path(tmp) / f"r{repeat}", name, *VARIANTS[name])
                runs[-1][name] = run
                print(f"  {repeat + 1}. {name:24s} {run['total']:6.1f} s end to end, {run['training']:6.1f} s training")
    report(runs, trials)


def report(runs: list[dict[str, dict[str, float]]], trials: int) -> None:
    """Median trials per hour of each variant, and the median of its ratios to one process in the same repeat."""
    baseline = next(iter(VARIANTS))
    print(f"\n{'variant':24s} {'trials/h end to end':>20s} {'trials/h training':>18s} {'ratio (end, training)':>22s}")
    for name in VARIANTS:
        per_hour = {k: [trials * 3600 / r[name][k] for r in runs] for k in ("total", "training")}
        ratios = {k: [r[baseline][k] / r[name][k] for r in runs] for k in ("total", "training")}
        medians = {k: statistics.median(v) for k, v in per_hour.items()}
        ratio = f"{statistics.median(ratios['total']):.2f}, {statistics.median(ratios['training']):.2f}"
        print(f"{name:24s} {medians['total']:20.0f} {medians['training']:18.0f} {ratio:>22s}")


if __name__ == "__main__":
    main()
