"""In the browser: start the learning-rate experiment from the home page, watch it finish, read the result.

The experiment is the ready-made one, as a user gets it; the test waits for every run, then checks the
coloured curves (one legend entry per learning rate), the final-score chart and the computed conclusion,
and that the experiment folder's summary says the same. A screenshot is kept as an artefact.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from searches import wait_for
from tests.e2e.browser import AppServer, expect, open_page, screenshot
from tuning.analysis.experiment import experiment_of
from tuning.engine import jobs
from tuning.results import load_project
from tuning.space.experiment import READY
from tuning.store.status import read_status

pytestmark = pytest.mark.e2e
EXPERIMENT_TIMEOUT = 400  # six runs of five epochs on two busy cores


def test_learning_rate_experiment_from_the_home_page(app: AppServer, page: Any) -> None:
    open_page(page, app.url, "Hyperparameter Explorer")
    page.get_by_role("button", name="Show me what the learning rate does").click()
    expect()(page.get_by_role("heading", name="Experiments", exact=True)).to_be_visible(timeout=60_000)

    wait_for(lambda: len(jobs.list_searches(app.runs)) == 1, timeout=60, what="the experiment to be created")
    info = jobs.list_searches(app.runs)[0]
    assert info.experiment == ("learning_rate",)
    assert re.fullmatch(r"experiment-learning_rate-\d{8}-\d{6}", info.name)
    wait_for(
        lambda: read_status(info.project_dir).state == "completed",
        timeout=EXPERIMENT_TIMEOUT,
        what="the experiment to complete",
        poll=2,
    )
    expect()(page.get_by_text("Search completed")).to_be_visible(timeout=60_000)

    summary = experiment_of(load_project(info.project_dir))
    assert summary is not None and len(summary.runs) == len(READY["learning_rate"].vary["learning_rate"])
    conclusion = page.get_by_text(summary.conclusion[:60])
    expect()(conclusion).to_be_visible()
    curves = page.locator(".stPlotlyChart").first
    for label in ("1e-05", "0.001", "1"):
        expect()(curves.locator(".legendtext", has_text=re.compile(rf"^{re.escape(label)}$"))).to_have_count(1)
    expect()(page.get_by_text("Final validation accuracy per value")).to_be_visible()
    screenshot(page, "experiment-learning-rate")
