"""Canary analysis: pure judging of measurements (model) and the providers that take them.

Importing the package imports nothing: the planner imports `rollguard.analysis.model`
(pure), orchestration imports `rollguard.analysis.providers` (I/O).
"""
