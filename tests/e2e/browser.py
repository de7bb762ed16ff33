"""Helpers of the browser tests: the app server process, Chromium's location and flags, screenshots."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from searches import ROOT, wait_for

ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# Headless Chromium in a container: no sandbox (no user namespaces), software WebGL for Plotly's
# Scattergl traces, and nothing that reaches out to the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SERVER_START_TIMEOUT = 90
SCREENSHOT_TIMEOUT_MS = 60_000  # two searches training beside Chromium on two cores slow its frames
SCROLL_HEIGHT_JS = """() => Math.max(document.body.scrollHeight,
    ...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stAppScrollToBottomContainer]')]
        .map(element => element.scrollHeight))"""


def find_chromium() -> str | None:
    """The Chromium to drive: ``$HPX_CHROMIUM``, ``/usr/bin/chromium``, or one on the PATH."""
    if explicit := os.environ.get("HPX_CHROMIUM"):
        return explicit if Path(explicit).is_file() else None
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return next((found for name in CHROMIUM_CANDIDATES if (found := shutil.which(name))), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AppServer:
    """A real `streamlit run app.py` process serving the searches in ``runs``; restartable."""

    runs: Path
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "HPX_RUNS_DIR": str(self.runs), "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._healthy, timeout=SERVER_START_TIMEOUT, what=self._failure_text, poll=0.25)

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"the app server exited with {self.process.returncode}:\n{self.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                return response.read().strip() == b"ok"
        except OSError:
            return False

    def _failure_text(self) -> str:
        return f"the app server at {self.url} to answer; its log:\n{self.log.read_text()[-3000:]}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def expect() -> Any:
    """Playwright's ``expect`` (imported late: the tests skip cleanly where Playwright is missing)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def open_page(page: Any, url: str, heading: str) -> None:
    """Go to ``url`` and wait until the page's title ``heading`` is drawn."""
    page.goto(url)
    expect()(page.get_by_role("heading", name=heading)).to_be_visible(timeout=60_000)


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot of the whole page under test-artifacts/e2e/ and return its path.

    Streamlit scrolls inside its main container, not the document, so the viewport is stretched to the
    container's height for the shot and put back afterwards.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # A tab in the background may get no new frames from headless Chromium, and a screenshot waits for one.
    page.bring_to_front()
    size = page.viewport_size
    height = page.evaluate(SCROLL_HEIGHT_JS)
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 8000)})
    page.wait_for_timeout(500)  # let charts redraw at the new size
    page.screenshot(path=str(path), timeout=SCREENSHOT_TIMEOUT_MS)
    page.set_viewport_size(size)
    return path
