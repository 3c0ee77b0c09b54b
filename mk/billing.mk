# The claims service's own schema changes, released the phased way.
.PHONY: bench-rename

bench-rename: $(VENV)/.synced ## Claim.denial_reason rename: naive vs migrate_phase expand under previous-release writes (BENCH_ROWS=1000000)
	RESULTS=$(RESULTS) $(BIN)/python tests/migrations/bench_denial_reason_rename.py

.PHONY: bench-rollup

bench-rollup: $(VENV)/.synced ## payer-summary rollup: one-transaction fill vs migrate_phase expand (batched backfill) under previous-release writes (BENCH_ROWS=1000000)
	RESULTS=$(RESULTS) $(BIN)/python tests/migrations/bench_claim_rollup.py
