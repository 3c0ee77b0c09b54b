# The claims API (service/): its tests and its benchmark. `make run` is in the top Makefile.
.PHONY: test-service bench-service

test-service: $(VENV)/.synced ## the claims API's tests (real PostgreSQL), without the coverage gate
	$(BIN)/pytest tests/service --no-cov -q

bench-service: $(VENV)/.synced ## seed 100,000 claims per tenant and time every API endpoint (CLAIMS=N)
	@mkdir -p $(RESULTS)
	$(BIN)/python service/bench.py --claims $(or $(CLAIMS),100000)
