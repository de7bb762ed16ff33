"""``python -m tuning``: the command-line interface (see ``tuning.cli``)."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tuning.cli import main

if __name__ == "__main__":
    sys.exit(main())
