"""What a search is: hyperparameter specs, the search space, ``SearchConfig`` and the planner of its cost.

May import: ``tuning.errors``, ``tuning.data`` (the dataset settings). Nothing of the engine.
"""
