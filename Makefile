# fairnn: `make demo` and `make test` work on a fresh clone with only the package registries.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Tests and CI read the offline mirror of the datasets when it sits beside the repo.
MIRROR := $(abspath ../shared/data)
export FAIRNN_DATA_DIR ?= $(if $(wildcard $(MIRROR)),$(MIRROR),)

.PHONY: demo test test-latest test-oldest lock bench lint format clean install install-test

# Exact versions of every dependency, with hashes (requirements/*.txt, made by `make lock`).
# pyproject.toml keeps ranges for `pip install fairnn`; these files fix what make installs.
LOCK_BASE := requirements/base.txt
LOCK_TEST := requirements/test.txt
LOCK_OLDEST := requirements/oldest.txt
LOCK_IN   := pyproject.toml requirements/build.in requirements/torch-cpu.txt
PIP_INSTALL := $(PIP) install --quiet --disable-pip-version-check
# uv does not read pip's configuration: where pip finds the torch CPU wheel (a local folder
# from PIP_FIND_LINKS or pip.conf, else PyTorch's CPU index page), for `make lock`.
TORCH_LINKS ?= $(or $(PIP_FIND_LINKS),$(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null),https://download.pytorch.org/whl/cpu/torch/)

$(VENV)/.installed: $(LOCK_BASE)
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --require-hashes --no-deps -r $(LOCK_BASE)
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed $(LOCK_TEST)
	$(PIP_INSTALL) --require-hashes --no-deps -r $(LOCK_TEST)
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	touch $@

# Regenerate the lock files from pyproject.toml's ranges (needs the package index).
lock: $(LOCK_IN)
	$(PYTHON) -m venv .venv-tools
	.venv-tools/bin/pip install --quiet --disable-pip-version-check pip-tools==7.7.0 uv==0.13.9
	cd requirements && ../.venv-tools/bin/pip-compile --quiet --upgrade --allow-unsafe \
	  --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
	  --constraint torch-cpu.txt --output-file base.txt ../pyproject.toml build.in
	cd requirements && ../.venv-tools/bin/pip-compile --quiet --upgrade --allow-unsafe \
	  --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
	  --constraint torch-cpu.txt --constraint base.txt --extra test --extra dask \
	  --extra fairlearn --extra onnx --output-file test.txt ../pyproject.toml build.in
# the other end of the ranges, for `make test-oldest`: every direct dependency at its
# lower bound (the rest as new as those allow), wheels only, as pip picks them on 3.11
	cd requirements && ../.venv-tools/bin/uv pip compile --quiet --resolution lowest-direct \
	  --python-version 3.11 --only-binary :all: --generate-hashes --custom-compile-command \
	  "make lock" $(foreach l,$(TORCH_LINKS),--find-links $(l)) --constraint torch-cpu.txt \
	  --extra test --extra dask --extra fairlearn --extra onnx --output-file oldest.txt \
	  ../pyproject.toml build.in

# A maintainer's drift check, not part of CI: the suite against the newest releases
# pyproject.toml's ranges allow (torch stays at the local CPU build), in its own venv.
test-latest:
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/pip install --quiet --disable-pip-version-check -r requirements/torch-cpu.txt
	.venv-latest/bin/pip install --quiet --disable-pip-version-check --upgrade \
	  -c requirements/torch-cpu.txt -e ".[test,dask,fairlearn,onnx]" build setuptools wheel
	.venv-latest/bin/pip freeze | grep -iE '^(numpy|pandas|scikit-learn|scipy|torch|highspy|fairlearn|pydantic|dask)=='
	OMP_NUM_THREADS=1 .venv-latest/bin/python -m pytest -n auto tests

# Its twin at the other end: the suite on the lowest releases pyproject.toml's ranges allow
# (requirements/oldest.txt), in its own venv; a range's lower bound is one this has passed.
test-oldest: $(LOCK_OLDEST)
	rm -rf .venv-oldest
	$(PYTHON) -m venv .venv-oldest
	.venv-oldest/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
	  -r $(LOCK_OLDEST)
	.venv-oldest/bin/pip install --quiet --disable-pip-version-check --no-deps \
	  --no-build-isolation -e .
	.venv-oldest/bin/pip check
	OMP_NUM_THREADS=1 .venv-oldest/bin/python -m pytest -n auto tests

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: $(VENV)/.installed
	$(VENV)/bin/fairnn demo --out demo-output

# One torch thread per pytest worker, one worker per core: small MLPs gain nothing from
# intra-op threads, and oversubscribed cores slow them down several-fold.
test: $(VENV)/.installed-test
	OMP_NUM_THREADS=1 $(PY) -m pytest -n auto tests

bench: $(VENV)/.installed
	$(PY) benchmarks/train_speed.py

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/lint-imports --no-cache

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) .venv-latest .venv-oldest .venv-tools demo-output .pytest_cache build dist src/*.egg-info
