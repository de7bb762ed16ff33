"""Take the README's screenshots: a real quick-demo search, the real app, Debian's Chromium.

    .venv/bin/python docs/screenshots/take.py      # about three minutes on two CPU cores

Runs the "quick demo" preset to completion in a temporary runs folder, starts `streamlit run app.py` on a
free port, and saves home.png, design.png, monitor.png, analyse.png and best-model.png next to this file.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from tests.e2e.browser import CHROMIUM_ARGS, AppServer, expect, find_chromium, open_page  # noqa: E402
from tuning.design.forms import PRESETS  # noqa: E402
from tuning.engine import jobs, launch  # noqa: E402

MAX_HEIGHT = 2200  # crop very long pages: the README shows the top of each


def shoot(page: Any, name: str) -> None:
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(height, MAX_HEIGHT)})
    page.wait_for_timeout(1500)
    page.screenshot(path=str(HERE / f"{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})
    print(f"saved {HERE / name}.png")


def main() -> None:
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        sys.exit("No Chromium found: install it (apt-get install chromium) or set HPX_CHROMIUM.")
    with tempfile.TemporaryDirectory() as temp:
        runs = Path(temp) / "runs"
        runs.mkdir()
        print("Running the quick demo (a couple of minutes)...")
        demo = jobs.create_search(PRESETS["quick demo"], runs, "quick-demo")
        launch.run_search(demo, resume=False)
        server = AppServer(runs=runs, log=Path(temp) / "streamlit.log")
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                open_page(page, server.url, "Hyperparameter Explorer")
                shoot(page, "home")
                open_page(page, f"{server.url}/design", "Design a search")
                page.get_by_role("button", name="Preset: quick demo").click()
                page.wait_for_timeout(2000)
                shoot(page, "design")
                open_page(page, f"{server.url}/monitor?search=quick-demo", "Monitor a search")
                expect()(page.locator(".parcoords")).to_have_count(1, timeout=60_000)
                shoot(page, "monitor")
                open_page(page, f"{server.url}/analyse", "Analyse a search")
                expect()(page.locator(".parcoords")).to_have_count(1, timeout=60_000)
                shoot(page, "analyse")
                open_page(page, f"{server.url}/best_model?search=quick-demo", "Best model")
                page.get_by_role("button", name="Evaluate on the test set").click()
                expect()(page.locator(".js-plotly-plot").filter(has_text="Confusion matrix")).to_have_count(1)
                shoot(page, "best-model")
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
