"""A search as OS processes: launch, one-process runner, group leader, chief and workers, recorder, tuners,
the HyperModel, jobs (start/stop/resume/list) and background processes.

May import: ``tuning.errors``, ``tuning.settings``, ``tuning.store``, ``tuning.space``, ``tuning.data``.
"""
