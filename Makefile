PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint schema clean checkov

# The stamp files re-install only when pyproject.toml changes.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip >/dev/null

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[embedded]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[dev]'
	touch $@ $(VENV)/.run-installed

# checkov (policy checks of the rendered k8s manifests, tests/deploy) pins
# older versions of packages we also use (packaging, boto3, networkx, ...), so
# it lives in a virtualenv of its own instead of the dev extra.
CHECKOV_VERSION := 3.3.30
CHECKOV_STAMP := $(VENV)/checkov/.installed-$(CHECKOV_VERSION)

$(CHECKOV_STAMP): | $(BIN)/python
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install 'checkov==$(CHECKOV_VERSION)'
	touch $@

checkov: $(CHECKOV_STAMP)

run: $(VENV)/.run-installed
	$(BIN)/incident-service serve --host $(HOST) --port $(PORT)

test: $(VENV)/.dev-installed $(CHECKOV_STAMP)
	$(BIN)/pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check service tests bench
	$(BIN)/ruff format --check service tests bench
	$(BIN)/mypy

schema: $(VENV)/.run-installed
	$(BIN)/incident-service export-schema > schema/schema.graphql
	$(BIN)/incident-service operations-manifest schema/operations > service/incident_service/api/operations.json

clean:
	rm -rf $(VENV) build *.egg-info service/*.egg-info
