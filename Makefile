# Every workflow a person runs. A fresh clone needs only Python 3.11 and make:
# the first target that needs the environment creates it from uv.lock.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
RESULTS := results

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export PATH := $(CURDIR)/$(TOOLS)/bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup run test test-fast lint format clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-22s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)/uv
	$(TOOLS)/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced tools ## create .venv from uv.lock and install the pinned tools

run: $(VENV)/.synced ## serve the API on 127.0.0.1:8000 (embedded PostgreSQL unless DATABASE_URL is set)
	$(BIN)/python service/devserver.py

# Most of the suite waits on live servers and operator passes, not on the CPU: two
# workers halve it on two cores. A file's tests stay on one worker (module fixtures).
TEST_WORKERS ?= 2

test: setup ## the whole test suite with coverage of service/ (fails under 85%); TEST_WORKERS=2
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: $(VENV)/.synced ## unit tests only: no database, no emulator, no live server
	$(BIN)/pytest -m "not integration" --no-cov

lint: $(VENV)/.synced ## ruff, the type check and the import layering
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd operator && ../$(BIN)/lint-imports --config ../.importlinter

format: $(VENV)/.synced ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## remove the environment, tools, local databases and results
	rm -rf $(VENV) $(TOOLS) .local $(RESULTS) .pytest_cache .mypy_cache .ruff_cache .coverage

# Each part keeps its own workflows in mk/<part>.mk.
include $(sort $(wildcard mk/*.mk))

# Parts that install pinned tools add them as prerequisites of `tools`.
.PHONY: tools
tools::
