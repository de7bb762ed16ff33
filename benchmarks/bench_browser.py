"""The analyse and monitor pages in a real browser: bytes over the websocket and time until the page settles.

For projects of 100, 1,000, 10,000 and 100,000 trials in Keras Tuner 1.4's own format (``oracle.json``,
``tuner0.json``, one ``trial_*/trial.json`` per trial with its hyperparameters, score and every epoch's
metrics; 3% failed, one running), this starts the real app (``streamlit run app.py``, one server per size),
drives headless Chromium with Playwright and measures:

* (a) open: the analyse page opened on the project (``/analyse?project=...``), from navigation to settled;
* (b) view: the "Learning curves" view chosen (a tab click);
* (c) select: the first row of the trial table selected (its left-edge checkbox);
* (a') reopen: the same project opened again in another browser tab (a new session of the same server);
* (d) poll: the monitor page on a running search of that size (this app's files beside Keras Tuner's:
  ``explorer/config.json``, ``status.json`` saying "running" with N - 1 trials done and one running,
  ``metrics.jsonl`` with every epoch); this process acts as its runner (holds the lock, moves the status on
  a batch every 0.2 s and ends an epoch of the running trial every 2 s). Reported: the bytes of one
  two-second poll (median over a few polls: frames are grouped into bursts separated by >= 0.8 s), and the
  seconds from opening the monitor to its first chart drawn.

Bytes are the payload lengths of every websocket frame the page received (``framereceived``). **Settled**
means: the app says its script is not running (``data-test-script-state="notRunning"`` on ``stApp``), no
"running" status widget, no stale element (``data-stale="true"``), every visible Plotly chart
drawn (holds its ``.main-svg``), and no websocket frame for ``QUIET_S``; the time reported is the moment
all that first held (the quiet window itself is not counted). "rerun" is the time from the action to the
last frame of its rerun: the server's script run plus the transfer, what the server spends on it.

    .venv/bin/python benchmarks/bench_browser.py [--sizes 100 1000 10000] [--timeout 180] [--root DIR]
    .venv/bin/python benchmarks/bench_browser.py --server [--sizes ...]   # the script runs alone (AppTest)

``--server`` times the analyse page's script runs in-process with Streamlit's AppTest (open with a cold
read, a rerun with nothing changed, the view switched, a row selected): what the server spends, without the
browser or the websocket.

Projects are written once under ``--root`` (default ``/tmp/hpx-bench``) and reused by later runs.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from benchmarks.bench_results import write_oracle  # noqa: E402
from tests.e2e.browser import CHROMIUM_ARGS, AppServer, find_chromium  # noqa: E402
from tuning.data import DataSpec  # noqa: E402
from tuning.engine import jobs  # noqa: E402
from tuning.space.config import SearchConfig  # noqa: E402
from tuning.store.paths import SearchPaths, append_jsonl, write_json_atomic  # noqa: E402
from tuning.store.status import SearchStatus  # noqa: E402

SIZES = (100, 1_000, 10_000, 100_000)
EPOCHS = 5
QUIET_S = 1.0
POLL_WINDOW_S = 9.0
_PARENT = {"class_name": "Parent", "config": {"name": "optimizer", "values": ["sgd", "rmsprop"]}}
SETTLED_JS = """(needChart) => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid=stStatusWidgetRunningIcon], [data-testid=stStatusWidgetRunningManIcon]'))
    return false;
  if (document.querySelector('[data-stale=true]')) return false;
  if (!document.querySelector('[data-testid=stMainBlockContainer] h1')) return false;
  const charts = [...document.querySelectorAll('[data-testid=stPlotlyChart]')].filter(c => c.offsetParent);
  return (charts.length > 0 || !needChart) && charts.every(c => c.querySelector('.main-svg'));
}"""


# ----- projects in keras-tuner's format ----------------------------------------------------------------
def _hp(class_name: str, name: str, default: Any, **config: Any) -> dict[str, Any]:
    conditions = config.pop("conditions", [])
    return {"class_name": class_name, "config": {"name": name, "default": default, "conditions": conditions, **config}}


SPACE = [
    _hp("Float", "learning_rate", 1e-5, min_value=1e-5, max_value=0.1, step=None, sampling="log"),
    _hp("Choice", "optimizer", "sgd", values=["sgd", "adam", "rmsprop"], ordered=False),
    _hp("Float", "momentum", 0.0, min_value=0.0, max_value=0.99, step=None, sampling="linear", conditions=[_PARENT]),
    _hp("Int", "units", 16, min_value=16, max_value=512, step=16, sampling="linear"),
    _hp("Float", "dropout", 0.0, min_value=0.0, max_value=0.5, step=0.1, sampling="linear"),
    _hp("Choice", "activation", "relu", values=["relu", "gelu", "tanh"], ordered=False),
]


def _values(rng: np.random.Generator) -> dict[str, Any]:
    optimizer = str(rng.choice(["sgd", "adam", "rmsprop"]))
    values: dict[str, Any] = {"learning_rate": float(10 ** rng.uniform(-5, -1)), "optimizer": optimizer}
    if optimizer != "adam":
        values["momentum"] = float(rng.uniform(0, 0.99))
    values |= {"units": int(rng.integers(1, 33) * 16), "dropout": round(float(rng.integers(0, 6)) * 0.1, 1)}
    return values | {"activation": str(rng.choice(["relu", "gelu", "tanh"]))}


def _epochs(values: dict[str, Any], rng: np.random.Generator) -> list[dict[str, float]]:
    """Every epoch's loss and accuracy, training and validation, rising towards a score set by the values."""
    final = float(np.clip(0.8 - 0.08 * abs(np.log10(values["learning_rate"]) + 3) + rng.normal(0, 0.03), 0.05, 0.98))
    rows = []
    for epoch in range(EPOCHS):
        acc = final * (1 - 0.5 ** (epoch + 1)) + float(rng.normal(0, 0.005))
        rows.append({"accuracy": acc + 0.03, "val_accuracy": acc, "loss": 1.8 - 2 * acc, "val_loss": 2 - 2 * acc})
    return rows


def _trial(trial_id: str, values: dict[str, Any], status: str, epochs: list[dict[str, float]]) -> dict[str, Any]:
    shown = epochs if status == "COMPLETED" else epochs[:2] if status == "RUNNING" else []
    metrics = {
        name: {
            "direction": "min" if "loss" in name else "max",
            "observations": [{"value": [row[name]], "step": step} for step, row in enumerate(shown)],
        }
        for name in (shown[0] if shown else {})
    }
    score = max(row["val_accuracy"] for row in shown) if status == "COMPLETED" else None
    return {
        "trial_id": trial_id,
        "hyperparameters": {"space": SPACE, "values": values},
        "metrics": {"metrics": metrics},
        "score": score,
        "best_step": EPOCHS - 1 if score is not None else None,
        "status": status,
        "message": "Traceback (most recent call last):\nValueError: diverged" if status == "FAILED" else None,
    }


def write_project(folder: Path, n: int, *, seed: int = 0) -> list[tuple[str, list[dict[str, float]]]]:
    """A Keras Tuner project of ``n`` trials (the last running), written as Keras Tuner writes it; returns
    each trial's id and epochs."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"{i:06d}" for i in range(n)]
    made = []
    for i, trial_id in enumerate(ids):
        status = "RUNNING" if i == n - 1 else ("FAILED" if rng.random() < 0.03 else "COMPLETED")
        values = _values(rng)
        epochs = _epochs(values, rng)
        (folder / f"trial_{trial_id}").mkdir(exist_ok=True)
        (folder / f"trial_{trial_id}" / "trial.json").write_text(json.dumps(_trial(trial_id, values, status, epochs)))
        made.append((trial_id, epochs if status == "COMPLETED" else epochs[:2] if status == "RUNNING" else []))
    write_oracle(folder, ids, SPACE, seed=seed)
    return made


def write_running_search(runs: Path, name: str, n: int) -> Path:
    """A search of this app with ``n - 1`` finished trials and one running; its status says "running"."""
    config = SearchConfig(data=DataSpec(name="synthetic", train_size=300, test_size=100), max_trials=n + 50)
    project = jobs.create_search(config, runs, name)
    made = write_project(project, n, seed=1)
    paths = SearchPaths.of(project)
    with paths.metrics.open("a") as out:
        for trial_id, epochs in made:
            for epoch, row in enumerate(epochs, start=1):
                out.write(json.dumps({"trial_id": trial_id, "session": 0, "epoch": epoch, **row}) + "\n")
    append_jsonl(paths.events, {"event": "noop"})
    return project


def mark_running(project: Path, n: int, tick: int = 0) -> None:
    """Write a "running" status for ``project`` (call while holding its lock), ``tick`` batches into it."""
    now = time.time()
    epoch, batch = divmod(tick, 10)
    status = SearchStatus(
        state="running", pid=os.getpid(), heartbeat=now, started_at=now - 3600, trials_done=n - 1,
        trials_planned=n + 50, epochs_done=(n - 1) * EPOCHS + epoch, epochs_planned=(n + 50) * EPOCHS,
        current_trial={"trial_id": f"{n - 1:06d}", "number": n, "epoch": 3 + epoch, "epochs": EPOCHS + 1000,
                       "batch": batch, "batches": 10},
        best={"score": 0.8}, objective={"name": "val_accuracy", "direction": "max"}, seconds_training=3600.0,
        message=f"Trial {n} of {n + 50} is running.", workers_in_use=1, device="CPU: benchmark",
    )  # fmt: skip
    write_json_atomic(SearchPaths.of(project).status, status.to_dict())


@contextlib.contextmanager
def running(project: Path, n: int) -> Iterator[None]:
    """Act as the search's runner: hold its lock, move the status on a batch every 0.2 s and finish an epoch
    of the running trial (a ``metrics.jsonl`` line) every 2 s, as a real search does while it trains."""
    stop = threading.Event()

    def train() -> None:
        tick = 0
        while not stop.wait(0.2):
            tick += 1
            mark_running(project, n, tick)
            if tick % 10 == 0:
                row = {"trial_id": f"{n - 1:06d}", "session": 0, "epoch": 3 + tick // 10, "loss": 1.0, "val_loss": 1.1}
                append_jsonl(SearchPaths.of(project).metrics, row | {"accuracy": 0.5, "val_accuracy": 0.45})

    metrics = SearchPaths.of(project).metrics
    written = metrics.stat().st_size  # the epochs it adds are taken back afterwards: every run sees the same
    with SearchPaths.of(project).lock.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        mark_running(project, n)
        thread = threading.Thread(target=train, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            os.truncate(metrics, written)
            fcntl.flock(lock, fcntl.LOCK_UN)


def prepare(root: Path, n: int) -> Path:
    """The folder of size ``n`` (``analysis/p<n>`` and ``runs/live<n>``), written on first use."""
    folder = root / str(n)
    if not (folder / "done").exists():
        shutil.rmtree(folder, ignore_errors=True)  # a half-written one
        start = time.perf_counter()
        write_project(folder / "analysis" / f"p{n}", n)
        (folder / "runs").mkdir(parents=True, exist_ok=True)
        write_running_search(folder / "runs", f"live{n}", n)
        (folder / "done").write_text("")
        print(f"  wrote {n:,} trials twice in {time.perf_counter() - start:.0f} s", flush=True)
    return folder


# ----- measuring in the browser ------------------------------------------------------------------------
@dataclass
class Frames:
    """Every websocket frame the page received: (monotonic time, bytes)."""

    received: list[tuple[float, int]] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("websocket", lambda ws: ws.on("framereceived", self._on_frame))

    def _on_frame(self, payload: str | bytes) -> None:
        self.received.append((time.monotonic(), len(payload)))

    def since(self, start: float) -> list[tuple[float, int]]:
        return [f for f in self.received if f[0] >= start]


@dataclass
class Step:
    """One measured step: bytes received, seconds to settled, seconds to its last frame (None: timed out)."""

    bytes: int
    settled_s: float | None
    rerun_s: float | None


def settle(page: Any, frames: Frames, start: float, timeout: float, *, chart: bool = False) -> Step:
    """Wait until the page is settled (see the module docstring; ``chart``: and shows a chart at least);
    what it took since ``start``."""
    ready_at: float | None = None
    while time.monotonic() - start < timeout:
        page.wait_for_timeout(50)
        now = time.monotonic()
        got = frames.since(start)
        last = got[-1][0] if got else start
        if not page.evaluate(SETTLED_JS, chart):
            ready_at = None
            continue
        ready_at = ready_at or now
        if now - last >= QUIET_S and now - ready_at >= QUIET_S / 2:
            rerun = last - start if got else None
            return Step(sum(b for _, b in got), max(ready_at, last) - start, rerun)
    got = frames.since(start)
    return Step(sum(b for _, b in got), None, None)


def select_first_row(page: Any) -> None:
    """Click the selection checkbox of the trial table's first row (left edge of the grid)."""
    grid = page.locator("[data-testid=stDataFrame]:visible").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)


def bursts(frames: list[tuple[float, int]], gap: float = 0.8) -> list[int]:
    """Bytes of each burst of frames (frames closer than ``gap`` seconds belong to one burst)."""
    sizes: list[int] = []
    last = -1e9
    for at, size in frames:
        if at - last >= gap:
            sizes.append(0)
        sizes[-1] += size
        last = at
    return sizes


def measure_analyse(context: Any, url: str, n: int, timeout: float) -> dict[str, Step]:
    page = context.new_page()
    frames = Frames()
    frames.attach(page)
    steps = {}
    start = time.monotonic()
    page.goto(f"{url}/analyse?project=p{n}", timeout=timeout * 1000)
    steps["open"] = settle(page, frames, start, timeout, chart=True)
    if steps["open"].settled_s is None:
        return steps
    start = time.monotonic()
    page.get_by_role("tab", name="Learning curves").click()
    steps["view"] = settle(page, frames, start, timeout)
    page.get_by_role("tab", name="Progress").click()
    settle(page, frames, time.monotonic(), timeout)
    start = time.monotonic()
    select_first_row(page)
    steps["select"] = settle(page, frames, start, timeout)
    page.close()
    steps["reopen"] = reopen(context, url, n, timeout)
    return steps


def reopen(context: Any, url: str, n: int, timeout: float) -> Step:
    """(a') the same project opened again in another browser tab (a new session of the same server)."""
    page = context.new_page()
    frames = Frames()
    frames.attach(page)
    start = time.monotonic()
    page.goto(f"{url}/analyse?project=p{n}", timeout=timeout * 1000)
    step = settle(page, frames, start, timeout, chart=True)
    page.close()
    return step


def measure_monitor(context: Any, url: str, n: int, timeout: float) -> dict[str, Any]:
    page = context.new_page()
    frames = Frames()
    frames.attach(page)
    start = time.monotonic()
    page.goto(f"{url}/monitor?search=live{n}", timeout=timeout * 1000)
    expect_chart = page.locator("[data-testid=stPlotlyChart]").first
    expect_chart.wait_for(timeout=timeout * 1000)
    opened = time.monotonic() - start
    page.wait_for_timeout(2000)
    start = time.monotonic()
    page.wait_for_timeout(POLL_WINDOW_S * 1000)
    polls = bursts(frames.since(start))
    page.close()
    median = statistics.median(polls) if polls else 0
    return {"open": opened, "poll_bytes": median, "poll_max": max(polls, default=0), "polls": len(polls)}


def run_size(root: Path, n: int, browser: Any, timeout: float) -> dict[str, Any]:
    folder = prepare(root, n)
    live = folder / "runs" / f"live{n}"
    server = AppServer(runs=folder / "runs", log=folder / "streamlit.log")
    os.environ["HPX_ANALYSIS_ROOTS"] = str(folder / "analysis")
    server.start()
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(timeout * 1000)
        analyse = measure_analyse(context, server.url, n, timeout)
        with running(live, n):
            monitor = measure_monitor(context, server.url, n, timeout)
        context.close()
    finally:
        server.stop()
    return {"analyse": analyse, "monitor": monitor}


# ----- server side: the same steps in-process (AppTest), without the browser ----------------------------
def server_side(root: Path, n: int, timeout: float) -> list[str]:
    """Seconds of the analyse page's script runs (AppTest, this process): open (a cold read), a rerun with
    nothing changed, the Learning curves view chosen, the first row selected; "> N s" past ``timeout``."""
    from streamlit.testing.v1 import AppTest

    folder = prepare(root, n)
    os.environ["HPX_RUNS_DIR"] = str(folder / "runs")
    os.environ["HPX_ANALYSIS_ROOTS"] = str(folder / "analysis")
    at = AppTest.from_file(str(ROOT / "pages" / "analyse.py"), default_timeout=timeout)
    at.query_params["project"] = f"p{n}"
    steps = {
        "open": lambda: None,
        "rerun": lambda: None,
        "view": lambda: at.session_state.__setitem__("analyse_view", "Learning curves"),
        "select": lambda: at.session_state.__setitem__("analyse_table", {"selection": {"rows": [0]}}),
    }
    cells = []
    for name, before in steps.items():
        if name == "select":
            at.session_state["analyse_view"] = "Progress"
            at.run()
        before()
        start = time.perf_counter()
        try:
            at.run()
        except RuntimeError:  # AppTest's timeout
            return cells + [f"> {timeout:.0f} s"] * (len(steps) - len(cells))
        cells.append(f"{time.perf_counter() - start:.2f} s")
    return cells


# ----- the report ---------------------------------------------------------------------------------------
def _mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 100_000 else f"{n / 1e3:.0f} KB"


def _s(step: Step | None, attr: str, timeout: float) -> str:
    if step is None:
        return "-"
    value = getattr(step, attr)
    if value is None:
        return "no rerun" if attr == "rerun_s" and step.settled_s is not None else f"> {timeout:.0f} s"
    return f"{value:.2f} s"


def row(n: int, found: dict[str, Any], timeout: float) -> str:
    a = found["analyse"]
    m = found["monitor"]
    cells = [f"{n:,}"]
    for name in ("open", "view", "select", "reopen"):
        step = a.get(name)
        cells += [_mb(step.bytes) if step else "-", _s(step, "settled_s", timeout), _s(step, "rerun_s", timeout)]
    cells += [f"{_mb(m['poll_bytes'])} ({_mb(m['poll_max'])})", f"{m['open']:.1f} s"]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| trials | (a) open: bytes | settled | rerun | (b) view: bytes | settled | rerun "
    "| (c) select: bytes | settled | rerun | (a') reopen: bytes | settled | rerun "
    "| (d) monitor poll: bytes, median (max) | monitor: first chart |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per step before giving up")
    parser.add_argument("--root", type=Path, default=Path("/tmp/hpx-bench"))
    parser.add_argument("--server", action="store_true", help="only the server side (AppTest), no browser")
    args = parser.parse_args()
    if args.server:
        print("| trials | open (cold read) | rerun, no change | view: Learning curves | select a row |")
        print("|---|---|---|---|---|")
        for n in args.sizes:
            print(f"| {n:,} | " + " | ".join(server_side(args.root, n, args.timeout)) + " |", flush=True)
        return
    from playwright.sync_api import sync_playwright

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the app server on the way out

    print(f"{platform.node()}: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}", flush=True)
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        for n in args.sizes:
            print(f"{n:,} trials ...", flush=True)
            rows.append(row(n, run_size(args.root, n, browser, args.timeout), args.timeout))
            print(rows[-1], flush=True)
        browser.close()
    print("\n" + HEADER + "\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
