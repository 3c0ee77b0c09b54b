# The claims API (service/): its tests and its benchmark. `make run` is in the top Makefile.
.PHONY: test-service bench-service bench-cpu

test-service: $(VENV)/.synced ## the claims API's tests (real PostgreSQL), without the coverage gate
	$(BIN)/pytest tests/service --no-cov -q

bench-service: $(VENV)/.synced ## seed 100,000 claims per tenant and time every API endpoint (CLAIMS=N)
	@mkdir -p $(RESULTS)
	$(BIN)/python service/bench.py --claims $(or $(CLAIMS),100000)

.PHONY: fuzz-api
FUZZ_SECONDS ?= 300

fuzz-api: $(VENV)/.synced ## schemathesis on a fresh live API: all phases, stateful, login/logout excluded (FUZZ_SECONDS=300); results/fuzz-api/
	@mkdir -p $(RESULTS)/fuzz-api
	cd tests/service && ../../$(BIN)/python fuzz_api.py --max-time $(FUZZ_SECONDS) --results $(CURDIR)/$(RESULTS)/fuzz-api

bench-cpu: $(VENV)/.synced ## Python CPU ms per request of the bench-api endpoints, through the WSGI app (CLAIMS=N REPEAT=N); results/bench-cpu/
	$(BIN)/python service/bench_cpu.py --claims $(or $(CLAIMS),100000) --repeat $(or $(REPEAT),500) \
		--out $(RESULTS)/bench-cpu/bench-cpu.json
