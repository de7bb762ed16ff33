"""Post-hoc analysis in a real Chromium: upload a zipped Keras Tuner directory, read its charts, download its
trials; evaluate the best model of a finished search on its held-out test set."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from searches import tiny_config
from tests.e2e.browser import AppServer, expect, open_page, screenshot
from tests.results.real_searches import tensorboard_search
from tuning.engine import jobs, launch
from tuning.export import to_csv
from tuning.results import discover, load_project
from tuning.settings import uploads_dir

pytestmark = pytest.mark.e2e


def zipped(folder: Path) -> bytes:
    """``folder``'s files in a zip, as a user's archiver would make it (paths relative to ``folder``)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def test_upload_a_zipped_tuner_directory_see_its_charts_and_download_the_csv(
    app: AppServer, page: Any, tmp_path: Path
) -> None:
    made_elsewhere = tmp_path / "colleague"
    tensorboard_search(made_elsewhere, "their-search", epochs=3)  # a plain keras-tuner search, TensorBoard logs
    archive = tmp_path / "their-search.zip"
    archive.write_bytes(zipped(made_elsewhere))

    open_page(page, f"{app.url}/analyse", "Analyse a search")
    page.get_by_text("Open another folder, or upload a zip of a tuner directory").click()
    page.locator("input[type=file]").set_input_files(str(archive))
    expect()(page.get_by_text("their-search").first).to_be_visible(timeout=60_000)
    parallel = page.locator(".js-plotly-plot").filter(has_text="Parallel coordinates of 2 completed trials")
    expect()(parallel).to_have_count(1, timeout=60_000)
    assert page.locator(".parcoords").count() >= 1
    screenshot(page, "analyse-uploaded")

    page.get_by_role("tab", name="Learning curves").click()
    expect()(page.locator(".js-plotly-plot").filter(has_text="Learning curves")).to_have_count(1)
    screenshot(page, "analyse-learning-curves")

    (project,) = discover(uploads_dir())
    assert project.is_relative_to(uploads_dir())
    page.get_by_role("tab", name="Downloads").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Trials (CSV)").click()
    assert download.value.suggested_filename == "their-search.csv"
    downloaded = Path(download.value.path()).read_text()
    assert downloaded == to_csv(load_project(project))
    assert len(downloaded.strip().splitlines()) == 3  # a header and the two trials


def test_a_hostile_zip_is_refused_with_a_message_and_writes_nothing(app: AppServer, page: Any, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../escaped.txt", "outside")
    archive_path = tmp_path / "hostile.zip"
    archive_path.write_bytes(buffer.getvalue())

    open_page(page, f"{app.url}/analyse", "Analyse a search")
    page.get_by_text("Open another folder, or upload a zip of a tuner directory").click()
    page.locator("input[type=file]").set_input_files(str(archive_path))
    expect()(page.get_by_text(re.compile(r"\.\.", re.I)).first).to_be_visible()
    expect()(page.locator("[data-testid=stAlertContentError]").first).to_be_visible()
    screenshot(page, "analyse-hostile-zip")
    assert not (app.runs.parent / "escaped.txt").exists() and not (app.runs / "escaped.txt").exists()
    uploads = uploads_dir()
    assert not uploads.exists() or not any(uploads.iterdir())


def test_best_model_page_shows_the_confusion_matrix_and_the_gallery(app: AppServer, page: Any) -> None:
    project = jobs.create_search(tiny_config(train_size=400), app.runs, "finished")
    launch.run_search(project, resume=False)

    open_page(page, f"{app.url}/best_model?search=finished", "Best model")
    page.get_by_role("button", name="Evaluate on the test set").click()
    confusion = page.locator(".js-plotly-plot").filter(has_text="Confusion matrix")
    expect()(confusion).to_have_count(1, timeout=90_000)
    expect()(page.get_by_text("Test accuracy")).to_be_visible()
    images = page.get_by_test_id("stImage")
    expect()(images.first).to_be_visible()
    every = images.count()
    assert every > 0
    screenshot(page, "best-model")

    page.get_by_text("Show only mistakes").click()
    wrong = int(re.search(r"\((\d+) wrong\)", page.inner_text("body")).group(1))
    expect()(images).to_have_count(min(wrong, every))
    screenshot(page, "best-model-mistakes")
