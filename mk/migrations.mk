# Phased migrations (service/phased_migrations).
.PHONY: bench-migrations test-migrations

bench-migrations: $(VENV)/.synced ## claim-number constraint naive vs phased under a writer (BENCH_ROWS=1000000,5000000)
	RESULTS=$(RESULTS) $(BIN)/python tests/migrations/bench_claim_number.py

test-migrations: $(VENV)/.synced ## the phased-migration tests (real PostgreSQL)
	$(BIN)/pytest tests/migrations --no-cov -q
