# `make run` starts a device, `make test` runs every check; each sets itself up first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA_DIR ?= openstation-data
ARGS ?=

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "openstation needs Python 3.11+"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	# Byte-compile the sources once: where PYTHONDONTWRITEBYTECODE is set, every device and
	# CLI process would otherwise compile them again (~300 ms a start).
	$(PY) -m compileall -q src
	touch $@

run: $(STAMP)
	$(VENV)/bin/openstation run --data-dir $(DATA_DIR) $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check src tests bench
	$(PY) -m mypy

# pytest exits 5 when it collected no test: make treats any non-zero exit as failure.
test: lint
	$(PY) -m pytest $(ARGS)

bench: $(STAMP)
	$(PY) bench/boot.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
