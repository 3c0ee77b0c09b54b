# The local sandbox: the whole release pipeline on this machine (see
# operator/rollguard_sandbox/README.md). Needs only what `make setup` installs.

SANDBOX_RESULTS := $(RESULTS)/demo
SANDBOX_ARGS ?=

.PHONY: demo demo-quick test-sandbox

demo: setup ## the release story locally: PostgreSQL, API emulator, operator, 4 releases incl. 2 rollbacks
	$(BIN)/python -m rollguard_sandbox --results $(SANDBOX_RESULTS) $(SANDBOX_ARGS)

demo-quick: setup ## the same story with 5 s load tests and short timeouts
	$(BIN)/python -m rollguard_sandbox --results $(SANDBOX_RESULTS) --load-seconds 5 --ready-timeout 20 $(SANDBOX_ARGS)

test-sandbox: $(VENV)/.synced ## the sandbox's tests (runtime units, real processes, the end-to-end story)
	$(BIN)/pytest tests/sandbox --no-cov
