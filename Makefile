# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv and
# install core and every plugin (editable) with the known-good versions in constraints.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.trtforge-installed
PLUGINS := $(wildcard plugins/*)
INSTALL_INPUTS := constraints.txt requirements-dev.txt core/pyproject.toml $(wildcard plugins/*/pyproject.toml)
PYTEST_ARGS ?=

.PHONY: demo test test-fast test-gpu bench-gpu clean-venv

$(STAMP): $(INSTALL_INPUTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements-dev.txt \
		-e 'core[rtx]' $(foreach p,$(PLUGINS),-e $(p))
	@touch $@

demo: $(STAMP)
	$(BIN)/trtforge demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
