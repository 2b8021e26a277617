# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv and
# install core, every plugin and the zoo (editable) with the known-good versions in constraints.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.trtforge-installed
PLUGINS := $(wildcard plugins/*)
# The seed models and `trtforge demo` (distribution trtforge-zoo), outside the core wheel.
ZOO := zoo
INSTALL_INPUTS := constraints.txt requirements-dev.txt core/pyproject.toml $(wildcard plugins/*/pyproject.toml) \
	$(ZOO)/pyproject.toml
PYTEST_ARGS ?=

.PHONY: demo test test-all test-gpu bench-gpu gpu-zoo clean-venv

# GPU machines keep their own torch/TensorRT (e.g. TensorRT 8.6, PyTorch 2.11, Python 3.12):
# .venv-gpu sees the system's packages and installs trtforge from its version ranges, no pins.
# Without a GPU the development environment is used and the GPU tests skip with the reason.
GPU_PYTHON ?= python3
ifeq ($(wildcard /dev/nvidiactl),)
GPU_STAMP := $(STAMP)
GPU_BIN := $(BIN)
else
GPU_STAMP := .venv-gpu/.trtforge-installed
GPU_BIN := .venv-gpu/bin
endif

$(STAMP): $(INSTALL_INPUTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements-dev.txt \
		-e 'core[rtx]' $(foreach p,$(PLUGINS),-e $(p)) -e $(ZOO)
	@touch $@

demo: $(STAMP)
	$(BIN)/trtforge demo

# The default run (CI's) leaves out tests marked slow (heavy seed models at every precision,
# packaging into fresh venvs, the executor's model zoo); each route keeps fast seed tests.
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

.venv-gpu/.trtforge-installed: core/pyproject.toml $(wildcard plugins/*/pyproject.toml) $(ZOO)/pyproject.toml
	@test -x .venv-gpu/bin/python || $(GPU_PYTHON) -m venv --system-site-packages .venv-gpu
	.venv-gpu/bin/python -m pip install --quiet pytest -e core $(foreach p,$(PLUGINS),-e $(p)) -e $(ZOO)
	@touch $@

# The GPU rig (../shared/gpu-rig) installs core and the plugins and writes the stamp itself; the
# zoo (the seed models the GPU tests use) joins here, offline, when it is missing.
gpu-zoo: $(GPU_STAMP)
	@$(GPU_BIN)/python -c "import trtforge_zoo" 2>/dev/null || \
		$(GPU_BIN)/python -m pip install --quiet --no-index --no-deps --no-build-isolation -e $(ZOO)

test-gpu: gpu-zoo
	$(GPU_BIN)/python -m pytest -m gpu -rs tests/gpu $(PYTEST_ARGS)

bench-gpu: gpu-zoo
	$(GPU_BIN)/python benchmarks/gpu_report.py $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV) .venv-gpu
