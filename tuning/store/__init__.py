"""The files of a search directory: their layout, atomic writes, and the status records (search, workers).

May import: ``tuning.errors``. Readers and the engine both build on it; it knows no process.
"""
