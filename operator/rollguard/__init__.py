"""rollguard: a kopf operator that releases a Django API safely."""

__version__ = "0.1.0"
