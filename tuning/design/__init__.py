"""App-side helpers that are not pages: widgets <-> configuration, presets, narrowing a search, estimates.

May import: every wing below the pages (``space``, ``data``, ``engine``, ``results``, ``export``, ...).
"""
