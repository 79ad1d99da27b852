# `make run IDEA="..."` and `make test` each create .venv when it is missing and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test extension lint format clean

# llama-cpp-python (the offline model, extra `local`) compiles on install: a few minutes, once
# per machine since pip caches the wheel. A native build uses CPU instructions some machines
# lack, so it is built portable.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install --quiet -e '.[dev,local]'
	touch $@

run: $(STAMP)
	@test -n "$(IDEA)" || { echo 'Say what to build: make run IDEA="a snake game in the terminal"' >&2; exit 2; }
	$(BIN)/sopls startup "$(IDEA)"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest
	cd editor-client && npm ci --no-audit --no-fund && SOPLS_PYTHON=$(CURDIR)/$(BIN)/python npm test

# The VS Code extension as editor-client/sopls-<version>.vsix.
extension:
	cd editor-client && npm ci --no-audit --no-fund && npm run package

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	rm -rf editor-client/node_modules editor-client/out editor-client/dist editor-client/*.vsix
