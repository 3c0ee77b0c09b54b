# The local sandbox: the whole release pipeline on this machine (see
# operator/rollguard_sandbox/README.md). Needs only what `make setup` installs.

SANDBOX_RESULTS := $(RESULTS)/demo
SANDBOX_ARGS ?=
# processes: pods run from folders of this checkout (no root needed); containers: podman runs
# them from the images `make images` builds, on the host network (root).
RUNTIME ?= processes
SANDBOX_RUNTIME_ARGS = --runtime $(RUNTIME) $(if $(filter containers,$(RUNTIME)),--image api=$(API_IMAGE) --image loadtest=$(LOADTEST_IMAGE))
SANDBOX_PREREQUISITES = setup $(if $(filter containers,$(RUNTIME)),images)

.PHONY: demo demo-quick test-sandbox

demo: $(SANDBOX_PREREQUISITES) ## the release story locally: PostgreSQL, API emulator, operator, 7 releases incl. 4 rollbacks (RUNTIME=containers: pods from the images)
	$(BIN)/python -m rollguard_sandbox --results $(SANDBOX_RESULTS) $(SANDBOX_RUNTIME_ARGS) $(SANDBOX_ARGS)

demo-quick: $(SANDBOX_PREREQUISITES) ## the same story with 5 s load tests and short timeouts
	$(BIN)/python -m rollguard_sandbox --results $(SANDBOX_RESULTS) --load-seconds 5 --ready-timeout 20 $(SANDBOX_RUNTIME_ARGS) $(SANDBOX_ARGS)

test-sandbox: $(VENV)/.synced ## the sandbox's tests (runtime units, real processes, the end-to-end story)
	$(BIN)/pytest tests/sandbox --no-cov
