"""``hpx app``: open the web app with its own Streamlit settings, from any working directory.

The app (``app.py`` and ``pages/``) sits at the top of a checkout; a wheel carries the same files, with
``.streamlit/config.toml``, in the folder ``hpx_app/`` beside the ``tuning`` package. Streamlit reads
``.streamlit/config.toml`` only from the working directory, so its settings (localhost only, XSRF on, no
file watcher, ...) are passed as ``--section.key=value`` flags; the user's own arguments come last and win.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import tuning
from tuning.errors import TuningError

APP_FOLDER = "hpx_app"  # where a wheel puts app.py, pages/ and .streamlit/ (beside tuning/)
MAX_CONFIG_BYTES = 64_000


def app_location() -> Path:
    """The folder holding ``app.py`` and ``pages/``: the installed copy, or the checkout's top level."""
    root = Path(tuning.__file__).resolve().parent.parent
    for folder in (root / APP_FOLDER, root):
        if (folder / "app.py").is_file() and (folder / "pages" / "_shared.py").is_file():
            return folder
    raise TuningError(
        f"The web app's files (app.py, pages/) are neither in {root / APP_FOLDER} nor in {root}; "
        "reinstall the package (pip install hyperparameter-explorer) or run from a checkout."
    )


def streamlit_flags(folder: Path) -> list[str]:
    """The app's ``.streamlit/config.toml`` in ``folder`` as ``streamlit run`` flags (none if it is missing)."""
    path = folder / ".streamlit" / "config.toml"
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise TuningError(f"{path} is larger than {MAX_CONFIG_BYTES:,} bytes; it is not the app's settings.")
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TuningError(f"Cannot read the app's Streamlit settings {path}: {exc}") from None
    return [
        f"--{section}.{key}={_flag_value(value)}"
        for section, values in settings.items()
        if isinstance(values, dict)
        for key, value in values.items()
    ]


def _flag_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def app_command(streamlit_args: list[str]) -> list[str]:
    """The ``streamlit run`` command line ``hpx app STREAMLIT_ARGS`` executes."""
    folder = app_location()
    return [sys.executable, "-m", "streamlit", "run", str(folder / "app.py"), *streamlit_flags(folder), *streamlit_args]


def run_app(streamlit_args: list[str]) -> int:
    """Serve the app in this process's place (the same as ``./dev app``) until Ctrl-C."""
    command = app_command(streamlit_args)
    sys.stdout.flush()
    if os.name == "posix":
        os.execv(command[0], command)
    return subprocess.call(command)  # pragma: no cover (Windows)
