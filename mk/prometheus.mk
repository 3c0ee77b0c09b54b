# Prometheus: the tests that judge metrics start a real server, and so does the
# sandbox. Debian's package (2.42 on bookworm), installed through apt where no
# `prometheus` is on PATH; a machine that has one keeps it.

.PHONY: prometheus

prometheus: ## install Debian's prometheus through apt where it is missing
	@if command -v prometheus >/dev/null 2>&1; then exit 0; fi; \
	echo "installing prometheus through apt"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus

tools:: prometheus
