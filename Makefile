# Two entry points: `make demo` (the main job) and `make test` (the whole suite). Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_STAMP := $(VENV)/.demo-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: demo test lint browser-deps bench train-bundled

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[cli]'
	touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[cli,serve,train,dev]'
	touch $@ $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(VENV)/bin/hanzicheck demo

# Headless Chromium (Debian) and the npm packages used by the web page and its browser test.
browser-deps:
	bash scripts/browser_deps.sh

lint: $(DEV_STAMP)
	$(PY) -m ruff check src tests benchmarks scripts

test: $(DEV_STAMP) browser-deps lint
	$(PY) -m pytest -q

$(VENV)/.bench-installed: pyproject.toml $(DEV_STAMP)
	$(PY) -m pip install -q -e '.[cli,serve,train,dev,bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(PY) benchmarks/run_all.py
