"""Phased, zero-downtime database migrations: expand before the rollout, contract after it."""
