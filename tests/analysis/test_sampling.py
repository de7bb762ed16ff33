"""Sampling trials for charts and paging tables: deterministic, stratified, the cap respected, the best and
the highlighted trials always kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tuning.analysis.sampling import TrialSample, best_ids, sample_trials, stratified_positions, table_page


def trials(n: int, *, seed: int = 0, failed_every: int = 7) -> pd.DataFrame:
    """``n`` trials indexed by id, in search order; every ``failed_every``-th failed (no score)."""
    rng = np.random.default_rng(seed)
    status = ["FAILED" if i % failed_every == 3 else "COMPLETED" for i in range(n)]
    score = [np.nan if s == "FAILED" else float(rng.random()) for s in status]
    index = pd.Index([f"{i:05d}" for i in range(n)], name="trial_id")
    return pd.DataFrame({"number": range(1, n + 1), "status": status, "score": score}, index=index)


def test_small_projects_are_drawn_whole() -> None:
    found = sample_trials(trials(50), direction="max", cap=50, top=5)
    assert found == TrialSample(tuple(trials(50).index), 50)
    assert not found.sampled and found.notice() == ""


def test_the_cap_is_respected_and_the_sample_is_in_search_order() -> None:
    table = trials(10_000)
    found = sample_trials(table, direction="max", cap=2_000, top=200, highlight=["00004", "09999"])
    assert len(found.ids) == 2_000 and len(set(found.ids)) == 2_000
    assert list(found.ids) == sorted(found.ids)  # the trials' own order
    assert found.total == 10_000 and found.sampled


def test_every_highlighted_and_every_top_trial_is_drawn() -> None:
    table = trials(5_000)
    highlight = ["00003", "04321", "00010"]  # one of them failed (no score)
    found = sample_trials(table, direction="max", cap=500, top=50, highlight=highlight)
    assert set(highlight) <= set(found.ids)
    assert set(best_ids(table, "max", 50)) <= set(found.ids)
    assert found.highlighted == 3 and found.best == 50
    lowest = sample_trials(table, direction="min", cap=500, top=50)
    assert set(table["score"].nsmallest(50).index) <= set(lowest.ids)


def test_highlighted_trials_are_kept_beyond_the_cap_and_unknown_ids_ignored() -> None:
    found = sample_trials(trials(1_000), direction="max", cap=10, top=5, highlight=[f"{i:05d}" for i in range(12)])
    assert found.ids == tuple(f"{i:05d}" for i in range(12)) and found.best == 0
    assert sample_trials(trials(100), direction="max", cap=10, highlight=["nope"]).highlighted == 0


def test_the_sample_is_deterministic_and_depends_on_the_seed() -> None:
    table = trials(3_000)
    first = sample_trials(table, direction="max", cap=300, top=30)
    assert first == sample_trials(table.copy(), direction="max", cap=300, top=30)
    assert first != sample_trials(table, direction="max", cap=300, top=30, seed=1)


def test_the_sample_is_stratified_along_the_search() -> None:
    table = trials(10_000)
    found = sample_trials(table, direction="max", cap=1_000, top=0)
    numbers = table.loc[list(found.ids), "number"]
    per_tenth = np.histogram(numbers, bins=10, range=(1, 10_001))[0]
    assert per_tenth.tolist() == [100] * 10  # one trial in each run of ten, so exactly 100 per tenth
    positions = stratified_positions(1_000, 100)
    assert (np.diff(positions // 10) == 1).all()  # exactly one position in each stratum of ten


@pytest.mark.parametrize(("n", "k"), [(10, 0), (10, 3), (10, 10), (7, 20), (1_001, 1_000)])
def test_stratified_positions_are_distinct_and_in_range(n: int, k: int) -> None:
    positions = stratified_positions(n, k)
    assert len(positions) == min(n, k) == len(set(positions.tolist()))
    assert all(0 <= p < n for p in positions)


def test_the_notice_says_what_is_drawn() -> None:
    found = sample_trials(trials(100_000), direction="max", cap=2_000, top=200, highlight=["00001"])
    assert found.notice() == (
        "2,000 of 100,000 trials drawn: the best 200, 1 selected, a sample of the rest, spread evenly over the search"
    )


def test_table_pages() -> None:
    table = trials(250)
    first = table_page(table, size=100)
    assert (first.page, first.pages, first.first, first.total) == (1, 3, 0, 250)
    assert list(first.rows.index) == list(table.index[:100])
    last = table_page(table, page=9, size=100)  # clamped to the last page
    assert last.page == 3 and len(last.rows) == 50 and last.caption() == "Rows 201-250 of 250."
    best = table_page(table, size=10, sort_by="score", descending=True)
    assert list(best.rows["score"]) == sorted(table["score"].dropna(), reverse=True)[:10]
    worst = table_page(table, page=25, size=10, sort_by="score")
    assert worst.rows["score"].isna().all()  # missing values last, whichever the order
    assert table_page(table.iloc[:0]).caption() == "No rows."


def test_a_column_of_mixed_types_sorts_by_its_text() -> None:
    table = pd.DataFrame({"units": [16, "wide", None, 8]}, index=list("abcd"))
    assert list(table_page(table, sort_by="units").rows.index) == ["a", "d", "b", "c"]
