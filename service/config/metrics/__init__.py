"""The API's own Prometheus metrics: what each request records, and the port that serves them."""
