"""Results the analyse and monitor pages keep across reruns and browser tabs, until the project changes.

``kept(result, what, compute)`` runs ``compute()`` once per project state (``tuning.analysis.fingerprint``:
its trials, their states, scores and end times, its curves) and per ``what`` (a key naming the result and
every input it depends on beyond the project), and hands the same object to every later rerun and
session. At most ``MAX_ENTRIES`` results are kept, each for at most ``TTL_S`` seconds: the cache is
bounded in memory. Kept results are shared: callers never change them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from tuning.analysis.fingerprint import fingerprint
from tuning.results import ProjectResult

MAX_ENTRIES = 64
TTL_S = 30 * 60
T = TypeVar("T")
_LAST = threading.local()  # per script thread: the last result fingerprinted and its fingerprint


@st.cache_resource(max_entries=MAX_ENTRIES, ttl=TTL_S, show_spinner=False)
def _kept(state: str, what: str, _compute: Callable[[], Any]) -> Any:
    return _compute()


def state_of(result: ProjectResult) -> str:
    """``result``'s fingerprint, computed once per result object (a rerun asks for it many times)."""
    last = getattr(_LAST, "last", None)
    if last is not None and last[0]() is result:
        return str(last[1])
    found = fingerprint(result)
    _LAST.last = (weakref.ref(result), found)
    return found


def kept(result: ProjectResult, what: str, compute: Callable[[], T]) -> T:
    """``compute()``, computed once per state of ``result``'s project and ``what``, shared by every session."""
    return _kept(state_of(result), what, compute)  # type: ignore[no-any-return]
