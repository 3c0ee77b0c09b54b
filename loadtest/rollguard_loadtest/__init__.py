"""Rollguard's load-test toolkit: the threshold gate, run summaries, load stages and the API benchmark.

Nothing here imports Locust at import time: Locust patches the standard library
with gevent as soon as it is imported, which the operator's asyncio code and
the pure unit tests must never inherit.
"""
