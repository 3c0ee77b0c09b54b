# The release operator: its benchmark and the checks that keep its copies in sync.
.PHONY: bench-operator operator-check

bench-operator: $(VENV)/.synced ## 500 ApiReleases at once: time to Succeeded, API calls per release per minute (idle, in flight, finished LoadTest), rollback reaction p95, RSS (emulator)
	RESULTS=$(RESULTS) $(BIN)/python tests/operator/bench_operator.py

operator-check: $(VENV)/.synced ## layering contracts, and the chart's and the package's CRD copies identical to manifests/crds
	cd operator && ../$(BIN)/lint-imports --config ../.importlinter
	@for crd in manifests/crds/*.yaml; do \
		for copy in charts/rollguard/crds/$$(basename $$crd) operator/rollguard/crds/$$(basename $$crd); do \
			if ! cmp -s "$$crd" "$$copy"; then \
				echo "$$copy differs from $$crd: run make sync-crds"; exit 1; \
			fi; \
		done; \
	done
