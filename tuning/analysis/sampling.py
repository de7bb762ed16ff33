"""Bounding what a chart or a table shows, however many trials a project has.

``sample_trials`` picks at most ``cap`` trials to draw: every highlighted trial, the ``top`` best completed
ones, and a deterministic sample of the rest stratified along the search (one trial drawn at random, with a
fixed seed, from each of equal runs of consecutive trials), so that early, middle and late trials are all
represented and the same project always gives the same picture. ``table_page`` cuts a sorted table into
pages. Both are pure: nothing here reads files or knows Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SEED = 0


@dataclass(frozen=True)
class TrialSample:
    """The trials a chart draws: ``ids`` in the trials' own order, of ``total``; ``best`` and
    ``highlighted`` count the top and highlighted trials kept whatever the sample (a trial both highlighted
    and among the best counts as highlighted)."""

    ids: tuple[str, ...]
    total: int
    best: int = 0
    highlighted: int = 0

    @property
    def sampled(self) -> bool:
        """Whether some trials are left out."""
        return len(self.ids) < self.total

    def notice(self) -> str:
        """``2,000 of 100,000 trials drawn: the best 200, 3 selected and a sample of the rest``; empty when
        every trial is drawn."""
        if not self.sampled:
            return ""
        kept = [f"the best {self.best:,}"] * (self.best > 0) + [f"{self.highlighted:,} selected"] * (
            self.highlighted > 0
        )
        rest = "a sample of the rest, spread evenly over the search"
        return f"{len(self.ids):,} of {self.total:,} trials drawn: " + ", ".join([*kept, rest])


def best_ids(trials: pd.DataFrame, direction: str, n: int) -> list[str]:
    """The ids of the ``n`` best completed trials with a score (ties: the earlier trial first)."""
    if n <= 0 or trials.empty:
        return []
    done = trials[(trials["status"] == "COMPLETED") & trials["score"].notna()]
    scores = done["score"].astype(float)
    ordered = scores.sort_values(ascending=direction == "min", kind="stable")
    return [str(i) for i in ordered.index[:n]]


def stratified_positions(n: int, k: int, *, seed: int = SEED) -> np.ndarray:
    """``k`` of the positions ``0..n-1``, one drawn (seeded) from each of ``k`` equal consecutive runs."""
    if k >= n:
        return np.arange(n)
    if k <= 0:
        return np.arange(0)
    edges = np.linspace(0, n, k + 1)
    starts = np.ceil(edges[:-1]).astype(int)
    ends = np.maximum(np.ceil(edges[1:]).astype(int), starts + 1)
    offsets = np.random.default_rng(seed).random(k)
    return np.minimum(starts + (offsets * (ends - starts)).astype(int), ends - 1)


def sample_trials(
    trials: pd.DataFrame,
    *,
    direction: str,
    cap: int,
    top: int = 0,
    highlight: Sequence[str] = (),
    seed: int = SEED,
) -> TrialSample:
    """At most ``cap`` of ``trials`` (indexed by trial id, in search order): every one in ``highlight``
    (kept even beyond ``cap``), the ``top`` best, then a stratified sample of the others up to ``cap``."""
    total = len(trials)
    if total <= cap:
        return TrialSample(tuple(map(str, trials.index)), total)
    ids = trials.index.astype(str)
    chosen = list(dict.fromkeys(t for t in map(str, highlight) if t in ids))
    room = max(0, cap - len(chosen))
    best = [t for t in best_ids(trials, direction, min(top, room) + len(chosen)) if t not in chosen][: min(top, room)]
    keep = np.asarray(ids.isin([*chosen, *best]))
    rest = np.flatnonzero(~keep)
    keep[rest[stratified_positions(len(rest), max(0, cap - int(keep.sum())), seed=seed)]] = True
    return TrialSample(tuple(ids[keep]), total, best=len(best), highlighted=len(chosen))


@dataclass(frozen=True)
class TablePage:
    """One page of a table: its rows, which page of how many, and the rows' positions in the whole."""

    rows: pd.DataFrame
    page: int  # 1-based
    pages: int
    first: int  # 0-based position of the page's first row in the sorted table
    total: int

    def caption(self) -> str:
        """``Rows 201-300 of 10,000.``"""
        if self.total == 0:
            return "No rows."
        return f"Rows {self.first + 1:,}-{self.first + len(self.rows):,} of {self.total:,}."


def table_page(
    table: pd.DataFrame, *, page: int = 1, size: int = 100, sort_by: str | None = None, descending: bool = False
) -> TablePage:
    """Page ``page`` (clamped to the pages there are) of ``table`` sorted by column ``sort_by`` (None: the
    table's order; missing values last), ``size`` rows a page."""
    pages = max(1, math.ceil(len(table) / size))
    page = min(max(1, page), pages)
    if sort_by is not None and sort_by in table.columns:
        table = _sorted(table, sort_by, descending=descending)
    first = (page - 1) * size
    return TablePage(table.iloc[first : first + size], page, pages, first, len(table))


def _sorted(table: pd.DataFrame, column: str, *, descending: bool) -> pd.DataFrame:
    """``table`` sorted by ``column``, missing values last; values of mixed types sort by their text."""
    options = {"ascending": not descending, "kind": "stable", "na_position": "last"}
    try:
        return table.sort_values(column, **options)
    except TypeError:
        return table.sort_values(column, key=lambda c: c.map(lambda v: None if pd.isna(v) else str(v)), **options)
