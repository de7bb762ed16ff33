"""Pure functions over a ``ProjectResult``: best-so-far, effects, importance, interactions, findings.

Import the submodules directly (``from tuning.analysis.history import best_so_far``).

May import: ``tuning.errors``, ``tuning.space``, ``tuning.results.model`` (types only). Never reads files.
"""
