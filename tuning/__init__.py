"""Hyperparameter Explorer's engine: search spaces, data, background Keras Tuner searches.

This package never imports Streamlit; the app, notebooks and the command line are all clients.
"""

from __future__ import annotations

__version__ = "0.1.0"
