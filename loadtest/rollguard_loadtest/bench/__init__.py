"""`make bench-api`: latency, throughput and SQL per request of the API's key endpoints."""
