PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint schema clean

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

run: $(VENV)/.run-installed
	$(BIN)/incident-service serve --host $(HOST) --port $(PORT)

test: $(VENV)/.dev-installed
	$(BIN)/pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check service tests bench
	$(BIN)/ruff format --check service tests bench
	$(BIN)/mypy

schema: $(VENV)/.run-installed
	$(BIN)/incident-service export-schema > schema/schema.graphql

clean:
	rm -rf $(VENV) build *.egg-info service/*.egg-info
