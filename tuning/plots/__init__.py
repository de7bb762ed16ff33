"""Plotly figure builders. Each figure is computed first as a small, typed, immutable record (tested by
equality), then drawn by a function that sees only that record. Import the submodules directly.

May import: ``tuning.errors``, ``tuning.space``, ``tuning.analysis``, ``tuning.results.model``. Never reads files.
"""
