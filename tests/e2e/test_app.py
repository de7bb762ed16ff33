"""The app in a real Chromium: design and start a search, watch it live, stop and resume it, reload, restart.

Each test runs its own `streamlit run app.py` on a free port over an empty runs folder, and trains real
(tiny) searches on the built-in synthetic images in background processes started by the app or by the
library. Screenshots land in test-artifacts/e2e/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from searches import tiny_config, tiny_space, wait_for, wait_for_state
from tests.e2e.browser import AppServer, expect, open_page, screenshot
from tuning.design.forms import PRESETS
from tuning.engine import jobs
from tuning.space.config import SearchConfig
from tuning.space.specs import Fixed
from tuning.store.status import read_status

pytestmark = pytest.mark.e2e

RUN_TIMEOUT_MS = 240_000
PROGRESS = re.compile(r"(\d+) of (\d+) trials done")


def state_badge(page: Any) -> Any:
    """The monitor's state badge (the first badge on the page)."""
    return page.locator(".stMarkdownBadge").first


def wait_for_badge(page: Any, state: str, *, timeout_ms: int = 90_000) -> None:
    expect()(state_badge(page)).to_contain_text(state, timeout=timeout_ms)


def trials_done(page: Any) -> tuple[int, int]:
    """The monitor's "N of M trials done" figures, as the browser shows them now."""
    found = PROGRESS.search(page.inner_text("body"))
    assert found, "the monitor shows no 'N of M trials done' progress"
    return int(found.group(1)), int(found.group(2))


def plot_titled(page: Any, title: str) -> Any:
    return page.locator(".js-plotly-plot").filter(has_text=title)


def set_number(page: Any, label: str, value: int) -> None:
    """Type ``value`` into the number input labelled ``label`` and commit it as a user does (Enter)."""
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    expect()(field).to_have_value(str(value))


def long_config(**fields: Any) -> SearchConfig:
    """A search that keeps running for minutes (many one-epoch trials) unless stopped."""
    return tiny_config(train_size=600, space=tiny_space(epochs=Fixed(2)), max_trials=30, **fields)


def test_quick_demo_from_the_design_page_runs_to_completion_with_live_charts(app: AppServer, page: Any) -> None:
    open_page(page, f"{app.url}/design", "Design a search")
    page.get_by_role("button", name="Preset: quick demo").click()
    preset = PRESETS["quick demo"]
    expect()(page.get_by_label("Max trials", exact=True)).to_have_value(str(preset.max_trials))  # applied
    set_number(page, "Max trials", 2)
    set_number(page, "Training subset size (training + validation images)", 400)
    page.get_by_label("Project name (optional)").fill("browser-demo")
    page.get_by_label("Project name (optional)").press("Enter")
    screenshot(page, "design-quick-demo")
    page.get_by_role("button", name="Start search").click()

    page.wait_for_url(re.compile(r"/monitor"), timeout=60_000)
    wait_for_badge(page, "running")
    screenshot(page, "monitor-running")
    project = app.runs / "browser-demo"
    config = SearchConfig.load(project / "explorer" / "config.json")
    assert (config.max_trials, config.data.train_size, config.data.name) == (2, 400, "synthetic")

    wait_for_badge(page, "completed", timeout_ms=RUN_TIMEOUT_MS)  # the same page, never reloaded
    expect()(page.get_by_text("2 of 2 trials done")).to_be_visible(timeout=15_000)
    expect()(plot_titled(page, "Learning curves")).to_have_count(1, timeout=15_000)
    expect()(plot_titled(page, "Parallel coordinates of 2 completed trials")).to_have_count(1, timeout=15_000)
    expect()(page.locator(".parcoords")).to_have_count(1, timeout=15_000)  # an old copy may still be leaving
    legend = plot_titled(page, "Learning curves").inner_text()
    assert "(best)" in legend and "validation" in legend
    screenshot(page, "monitor-completed")
    status = read_status(project)
    assert (status.state, status.trials_done) == ("completed", 2)


def test_stop_now_and_resume_from_the_monitor(app: AppServer, page: Any) -> None:
    handle = jobs.start_search(long_config(), app.runs, "stoppable")
    open_page(page, f"{app.url}/monitor?search=stoppable", "Monitor a search")
    wait_for_badge(page, "running")
    wait_for(lambda: read_status(handle.project_dir).current_trial, timeout=120, what="a trial to start")

    page.get_by_role("button", name="Stop now").click()
    expect()(page.get_by_text("Stop requested: the search stops at the next batch")).to_be_visible()
    wait_for_badge(page, "stopped")
    screenshot(page, "monitor-stopped")
    assert read_status(handle.project_dir).state == "stopped"
    expect()(page.get_by_role("button", name="Stop now")).to_be_disabled()
    done_before = read_status(handle.project_dir).trials_done

    page.get_by_role("button", name="Resume").click()
    expect()(page.get_by_text("Search resumed in the background.")).to_be_visible()
    wait_for_badge(page, "running")
    resumed = wait_for_state(handle.project_dir, ("running",))
    assert resumed.pid is not None

    page.get_by_role("button", name="Stop after this trial", disabled=False).click()  # not a stale one of the rerun
    expect()(page.get_by_text("Stop requested: the search stops when the current trial ends.")).to_be_visible()
    wait_for_badge(page, "stopped", timeout_ms=RUN_TIMEOUT_MS)
    final = read_status(handle.project_dir)
    assert final.state == "stopped" and final.trials_done > done_before
    assert trials_done(page)[0] == final.trials_done
    screenshot(page, "monitor-resumed-then-stopped")


def test_two_tabs_on_two_searches_survive_a_reload_and_an_app_restart(app: AppServer, context: Any) -> None:
    first = jobs.start_search(long_config(), app.runs, "first")
    second = jobs.start_search(long_config(seed=2), app.runs, "second")
    tabs = {name: context.new_page() for name in ("first", "second")}
    for name, tab in tabs.items():
        open_page(tab, f"{app.url}/monitor?search={name}", "Monitor a search")
        wait_for_badge(tab, "running")
    assert_shows(tabs["first"], "first")
    assert_shows(tabs["second"], "second")

    tabs["first"].reload()
    wait_for_badge(tabs["first"], "running")
    assert_shows(tabs["first"], "first")

    app.restart()  # same port: the tabs reconnect to a fresh server process
    for name, tab in tabs.items():
        tab.reload()
        wait_for_badge(tab, "running")
        assert_shows(tab, name)
        # The app's own navigation, not Streamlit's folder listing (see pages/_shared.use_app_navigation).
        expect()(tab.get_by_role("link", name="Design a search")).to_be_visible()
    screenshot(tabs["second"], "monitor-after-app-restart")
    for handle in (first, second):  # the app's restart left both searches running
        assert read_status(handle.project_dir).state == "running"

    # Live updates keep coming without a reload: the first tab sees the next trial finish. The second
    # search is stopped first, so that the first trains at full speed on two busy cores.
    jobs.stop_search(second.project_dir, now=True)
    wait_for_badge(tabs["second"], "stopped")
    done = trials_done(tabs["first"])[0]
    wait_for(lambda: trials_done(tabs["first"])[0] > done, timeout=240, what="the first tab to show another trial")
    assert read_status(first.project_dir).state == "running"


def assert_shows(tab: Any, search: str) -> None:
    """The tab's monitor shows ``search``: the search picker and the address both name it."""
    expect()(tab.get_by_test_id("stSelectbox").first).to_match_aria_snapshot(f'- combobox "Search": {search}')
    assert f"search={search}" in tab.url


def test_home_page_quick_demo_button_starts_a_search(app: AppServer, page: Any) -> None:
    open_page(page, app.url, "Hyperparameter Explorer")
    expect()(page.get_by_text("No searches yet")).to_be_visible()
    screenshot(page, "home-empty")
    page.get_by_role("button", name="Start the quick demo").click()
    page.wait_for_url(re.compile(r"/monitor"), timeout=60_000)
    wait_for_badge(page, "running")
    (search,) = jobs.list_searches(app.runs)
    assert read_status(search.project_dir).state in ("starting", "running")
    jobs.stop_search(search.project_dir, now=True)
    wait_for_badge(page, "stopped")
