# The three images (the claims API, the operator, the load-test runner), built with
# podman from the project's own Dockerfiles, and their tests run against real
# containers (tests/images, never collected by `make test`).
#
# Production builds use each Dockerfile's default BASE_IMAGE, the official slim image
# pinned by digest. Where no registry answers, `make images` builds a base of its own:
# Debian bookworm with its python3.11 and python3.11-venv (whose python3.11-distutils
# debootstrap only finds under its real name, python3-distutils), imported
# once with `podman import` and reused from then on.

export CONTAINERS_CONF := $(CURDIR)/mk/containers.conf

PODMAN ?= podman
IMAGE_TAG ?= dev
IMAGE_PREFIX ?= localhost/rollguard
API_IMAGE ?= $(IMAGE_PREFIX)/claims-api:$(IMAGE_TAG)
OPERATOR_IMAGE ?= $(IMAGE_PREFIX)/operator:$(IMAGE_TAG)
LOADTEST_IMAGE ?= $(IMAGE_PREFIX)/loadtest:$(IMAGE_TAG)
LOCAL_BASE_IMAGE := $(IMAGE_PREFIX)/debian-python:bookworm-3.11
DEBIAN_MIRROR ?= http://deb.debian.org/debian
# The official base the Dockerfiles default to; `make images` uses it when it can pull it.
REGISTRY_BASE_IMAGE := $(shell sed -n 's/^ARG BASE_IMAGE=//p' service/Dockerfile)
# Empty: the registry base when it can be pulled, else the local Debian base.
BASE_IMAGE ?=
IMAGES_RESULTS := $(RESULTS)/images
# The host's CA bundle, mounted read-only into each build step that reaches PyPI (a
# TLS-inspecting proxy may sit in between); it is never copied into an image.
HOST_CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
BUILD_VOLUMES := $(if $(wildcard $(HOST_CA_BUNDLE)),--volume $(HOST_CA_BUNDLE):/etc/ssl/certs/ca-certificates.crt:ro)

.PHONY: images image-tools base-image test-images

image-tools: ## install podman, runc and debootstrap through apt where they are missing
	@missing=""; \
	for tool in podman:podman runc:runc debootstrap:debootstrap; do \
		command -v $${tool%%:*} >/dev/null 2>&1 || [ -x /usr/sbin/$${tool%%:*} ] || missing="$$missing $${tool##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing through apt:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

base-image: image-tools ## the local base: Debian bookworm + python3.11 from debootstrap, built once
	@if $(PODMAN) image exists $(LOCAL_BASE_IMAGE); then \
		echo "base image $(LOCAL_BASE_IMAGE) already built"; exit 0; \
	fi; \
	set -e; root=$$(mktemp -d /var/tmp/rollguard-base.XXXXXX); trap 'rm -rf "$$root"' EXIT; \
	echo "debootstrap bookworm (python3.11) into $$root"; \
	debootstrap --variant=minbase --include=python3.11,python3.11-venv,python3-distutils,ca-certificates \
		bookworm "$$root" $(DEBIAN_MIRROR) > $$root.log 2>&1 || { tail -n 30 $$root.log; exit 1; }; \
	rm -f $$root.log; \
	chroot "$$root" apt-get clean; \
	rm -rf "$$root"/var/lib/apt/lists/* "$$root"/var/cache/apt/*.bin "$$root"/var/log/*.log "$$root"/tmp/*; \
	ln -sf python3.11 "$$root"/usr/bin/python; \
	tar --numeric-owner -C "$$root" -c . | $(PODMAN) import --quiet \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV LANG=C.UTF-8' \
		--change 'CMD ["python3.11"]' \
		--message "Debian bookworm with python3.11, from Debian's packages" \
		- $(LOCAL_BASE_IMAGE) >/dev/null; \
	echo "base image $(LOCAL_BASE_IMAGE) built"

# podman build of one image: $(1) the Dockerfile's folder, $(2) the tag. The build
# context is the repository root (the lock file), narrowed by <folder>/Dockerfile.dockerignore.
define build_image
	$(PODMAN) build --network host $(BUILD_VOLUMES) --build-arg BASE_IMAGE="$$(cat $(IMAGES_RESULTS)/base-image)" \
		--file $(1)/Dockerfile --ignorefile $(1)/Dockerfile.dockerignore --tag $(2) . \
		> $(IMAGES_RESULTS)/build-$(1).log 2>&1 || { tail -n 40 $(IMAGES_RESULTS)/build-$(1).log; exit 1; }
	@echo "built $(2): $$($(PODMAN) image inspect --format '{{.Id}}' $(2) | cut -c1-12)"
endef

$(IMAGES_RESULTS)/base-image: image-tools FORCE
	@mkdir -p $(IMAGES_RESULTS)
	@base='$(BASE_IMAGE)'; \
	if [ -z "$$base" ]; then \
		if $(PODMAN) image exists '$(REGISTRY_BASE_IMAGE)' \
			|| timeout 30 $(PODMAN) pull --quiet '$(REGISTRY_BASE_IMAGE)' >/dev/null 2>&1; then \
			base='$(REGISTRY_BASE_IMAGE)'; \
		else \
			echo "no registry answers for $(REGISTRY_BASE_IMAGE): using the local Debian base"; \
			$(MAKE) --no-print-directory base-image || exit 1; \
			base='$(LOCAL_BASE_IMAGE)'; \
		fi; \
	fi; \
	echo "base image: $$base"; echo "$$base" > $@

images: $(IMAGES_RESULTS)/base-image ## build the API, operator and load-test images with podman (BASE_IMAGE=... to choose the base)
	$(call build_image,service,$(API_IMAGE))
	$(call build_image,operator,$(OPERATOR_IMAGE))
	$(call build_image,loadtest,$(LOADTEST_IMAGE))

.PHONY: FORCE
FORCE:

test-images: images $(VENV)/.synced ## run each image for real and check its contract (tests/images); prints the size table
	ROLLGUARD_IMAGE_TESTS=1 ROLLGUARD_API_IMAGE=$(API_IMAGE) ROLLGUARD_OPERATOR_IMAGE=$(OPERATOR_IMAGE) \
		ROLLGUARD_LOADTEST_IMAGE=$(LOADTEST_IMAGE) $(BIN)/pytest tests/images --no-cov
