# fairnn: `make demo` and `make test` work on a fresh clone with only the package registries.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Tests and CI read the offline mirror of the datasets when it sits beside the repo.
MIRROR := $(abspath ../shared/data)
export FAIRNN_DATA_DIR ?= $(if $(wildcard $(MIRROR)),$(MIRROR),)

.PHONY: demo test bench lint format clean install install-test

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -e ".[test]"
	touch $@

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

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) demo-output .pytest_cache build dist src/*.egg-info
