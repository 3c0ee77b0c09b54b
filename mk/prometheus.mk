# Prometheus: the tests that judge metrics start a real server, and so does the
# sandbox. Debian's package (2.42 on bookworm), installed through apt where no
# `prometheus` is on PATH (as root, or through passwordless sudo); a machine that
# has one keeps it. Without either, setup goes on and says so: the tests that need
# Prometheus then fail with the same hint.

.PHONY: prometheus

prometheus: ## install Debian's prometheus through apt where it is missing
	@if command -v prometheus >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "prometheus is missing and apt needs root: run 'apt-get install prometheus' as root"; exit 0; fi; \
	echo "installing prometheus through apt"; \
	$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus

tools:: prometheus
