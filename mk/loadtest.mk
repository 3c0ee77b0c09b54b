# Load tests: the Locust suite against a running API, and the API benchmark.

LOADTEST_HOST ?= http://127.0.0.1:8000
LOADTEST_USERS ?= 5
LOADTEST_SPAWN_RATE ?= 5
LOADTEST_RUN_TIME ?= 30s
# One API token per tenant, comma-separated; else the seed_demo JSON (or a token list) in
# LOADTEST_TOKENS_FILE; else `manage.py seed_demo` runs against DATABASE_URL (by default the
# database `make run` serves) and its fresh tokens land in results/loadtest/seed.json.
LOADTEST_TOKENS ?=
LOADTEST_TOKENS_FILE ?=
LOADTEST_RESULTS := $(RESULTS)/loadtest

# seed_demo makes two tenants: 2 x 50,000 claims.
# Claims per tenant, comma-separated: each endpoint is measured at every size in one run.
BENCH_SIZES ?= 100000,1000000
BENCH_USERS ?= 20
BENCH_RUN_TIME ?= 45s

.PHONY: loadtest bench-api loadtest-lint sync-summary-schema

loadtest: $(VENV)/.synced ## Locust headless against `make run` (LOADTEST_HOST/_USERS/_RUN_TIME/_TOKENS); reports in results/loadtest/
	@mkdir -p $(LOADTEST_RESULTS) && rm -f $(LOADTEST_RESULTS)/summary.json
	@tokens_file='$(LOADTEST_TOKENS_FILE)'; \
	if [ -z "$(LOADTEST_TOKENS)$$ROLLGUARD_API_TOKENS$$tokens_file" ]; then \
		tokens_file=$(LOADTEST_RESULTS)/seed.json; \
		echo "no tokens given: running seed_demo for fresh demo tokens ($$tokens_file)"; \
		(cd service && ../$(BIN)/python manage.py seed_demo) > $$tokens_file || exit 1; \
	fi; \
	echo "locust: $(LOADTEST_USERS) users for $(LOADTEST_RUN_TIME) against $(LOADTEST_HOST)"; \
	status=0; \
	$(if $(LOADTEST_TOKENS),ROLLGUARD_API_TOKENS='$(LOADTEST_TOKENS)') ROLLGUARD_RESULTS_DIR=$(LOADTEST_RESULTS) \
	$(BIN)/python -m rollguard_loadtest.locustrun --host $(LOADTEST_HOST) --users $(LOADTEST_USERS) \
		--spawn-rate $(LOADTEST_SPAWN_RATE) --run-time $(LOADTEST_RUN_TIME) --results $(LOADTEST_RESULTS) \
		--tokens-file "$$tokens_file" || status=$$?; \
	if [ -s $(LOADTEST_RESULTS)/summary.json ]; then \
		$(BIN)/python -m rollguard_loadtest.report $(LOADTEST_RESULTS)/summary.json || true; \
	else \
		tail -n 25 $(LOADTEST_RESULTS)/locust.log; \
	fi; \
	echo; echo "reports: $(LOADTEST_RESULTS)/{summary.json,report.html,locust_stats.csv,locust.log}"; \
	exit $$status

bench-api: $(VENV)/.synced ## p50/p95/req/s, SQL per request (ours and naive DRF) of key endpoints at 100,000 and 1,000,000 claims per tenant; results/bench-api/
	$(BIN)/python -m rollguard_loadtest.bench --sizes $(BENCH_SIZES) --users $(BENCH_USERS) \
		--run-time $(BENCH_RUN_TIME) --results $(RESULTS)/bench-api

loadtest-lint: $(VENV)/.synced ## hadolint the load-test image recipe
	$(BIN)/hadolint loadtest/Dockerfile

sync-summary-schema: ## copy the load-test summary's JSON Schema into the operator package (a test fails on drift)
	mkdir -p operator/rollguard/schemas
	cp loadtest/rollguard_loadtest/summary.schema.json operator/rollguard/schemas/loadtest-summary.schema.json
