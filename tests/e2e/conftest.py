"""End-to-end fixtures: the real app (`streamlit run app.py`) on a free localhost port, and Debian's Chromium.

Playwright drives the system Chromium (`/usr/bin/chromium`, or `$HPX_CHROMIUM`); Playwright's own browser
download is not used. Without a Chromium the browser tests skip with the reason, except under CI
(`CI` set), where a missing browser fails them: `.ci/run` installs one.

Screenshots go to `test-artifacts/e2e/` (kept out of git); a failing test also leaves a screenshot of
every page it had open.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from searches import wait_for
from tests.e2e.browser import CHROMIUM_ARGS, AppServer, find_chromium, screenshot
from tuning.engine import jobs
from tuning.store.status import read_status


def _missing_browser(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} Under CI the browser tests must run: .ci/run installs Chromium with apt-get.")
    pytest.skip(f"{reason} Install it (`sudo apt-get install chromium`) or set HPX_CHROMIUM to run these tests.")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing_browser("Playwright is not installed (it comes with requirements-dev.txt).")
    path = find_chromium()
    if path is None:
        _missing_browser("No Chromium found (looked for $HPX_CHROMIUM, /usr/bin/chromium, chromium on the PATH).")
    return str(path)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # a page rerun on two busy cores can take a while
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppServer]:
    """The app on a free port over an empty runs folder (also this process's runs folder, so the tests see
    what the app sees); every search left running is stopped afterwards."""
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setenv("HPX_RUNS_DIR", str(runs))
    server = AppServer(runs=runs, log=tmp_path / "streamlit.log")
    server.start()
    yield server
    server.stop()
    for info in jobs.list_searches(runs):
        if info.status.is_active:
            jobs.stop_search(info.project_dir, now=True)
    for info in jobs.list_searches(runs):
        wait_for(lambda d=info.project_dir: not read_status(d).is_active, timeout=60, what="searches to stop")


@pytest.fixture
def context(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser profile; on failure, a screenshot of each of its pages is saved."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    yield context
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for number, page in enumerate(context.pages):
            try:  # evidence of the failure, not a second one: a page that cannot be drawn is skipped
                screenshot(page, f"{request.node.name}-FAILED-{number}")
            except Exception as error:
                print(f"no screenshot of page {number}: {error}")
    context.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
