# `make run IDEA="..."` and `make test` each create .venv when it is missing and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bubblewrap e2e-packages extension lint format clean

# llama-cpp-python (the offline model, extra `local`) compiles on install: a few minutes, once
# per machine since pip caches the wheel. A native build uses CPU instructions some machines
# lack, so it is built portable.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install --quiet -e '.[dev,local]'
	touch $@

run: $(STAMP) bubblewrap
	@test -n "$(IDEA)" || { echo 'Say what to build: make run IDEA="a snake game in the terminal"' >&2; exit 2; }
	$(BIN)/sopls startup "$(IDEA)"

# Generated code runs under bubblewrap. Where it is missing it is installed when that is possible
# (root with apt); otherwise the tests still run and the sandbox reports its weaker fallback.
bubblewrap:
	@command -v bwrap >/dev/null || { test "$$(id -u)" = 0 && command -v apt-get >/dev/null \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; } \
		|| echo "bubblewrap is not installed: generated code runs in the weaker fallback sandbox" >&2

# The extension's tests drive a real VS Code (code-server) in Debian's Chromium; code-server's
# native modules build against Kerberos headers and its search uses Debian's ripgrep.
E2E_PACKAGES := chromium libkrb5-dev ripgrep
e2e-packages:
	@command -v chromium >/dev/null && command -v rg >/dev/null && command -v krb5-config >/dev/null || { \
		test "$$(id -u)" = 0 && command -v apt-get >/dev/null && apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(E2E_PACKAGES); } \
		|| { echo "install $(E2E_PACKAGES) (apt) for the VS Code tests" >&2; exit 1; }

test: $(STAMP) bubblewrap e2e-packages
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
