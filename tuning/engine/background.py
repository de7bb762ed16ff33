"""Start the engine's background processes (``python -m MODULE ARGS`` in a new session), and their logging.

Searches, workers and final trainings all run this way, so a search outlives the terminal or web server
that started it, and a child imports this package wherever it is started from.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tuning import settings

_children: list[subprocess.Popen[bytes]] = []


def spawn(
    module: str,
    args: Sequence[str],
    *,
    log: Path,
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start ``python -m module *args`` detached (its own session), appending its output to ``log``.

    ``pass_fds`` are kept open in the child (e.g. a lock it inherits).
    """
    reap()
    child_env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    child_env["PYTHONPATH"] = settings.pythonpath_with_package(child_env.get("PYTHONPATH"))
    with open(log, "ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=child_env,
            start_new_session=True,
            pass_fds=tuple(pass_fds),
        )
    _children.append(process)
    return process


def reap() -> None:
    """Collect background processes that have ended, so they do not linger as zombies."""
    _children[:] = [p for p in _children if p.poll() is None]


@contextmanager
def log_lines(
    logger: logging.Logger, *, file: Path | None = None, console: bool = False, prefix: str = ""
) -> Iterator[None]:
    """Send ``logger``'s lines, time-stamped (and ``prefix``-ed), to ``file`` and/or standard output."""
    formatter = logging.Formatter(f"%(asctime)s {prefix}%(message)s", "%Y-%m-%d %H:%M:%S")
    handlers: list[logging.Handler] = [logging.FileHandler(file, encoding="utf-8")] if file else []
    if console:
        handlers.append(logging.StreamHandler(sys.stdout))
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
