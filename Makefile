# The two commands a newcomer needs: `make run` and `make test` (and `make serve` for the page).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# The browser tests drive Debian's chromium: Playwright's own browser download is not used.
CHROMIUM = /usr/bin/chromium
AS_ROOT  = $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run serve test lint bench clean

$(BIN)/bsg-import: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## run: set up, then import the sample into the built-in sandbox
# The sample holds two invalid phones on purpose, so the import exits 1 (see README).
run: $(BIN)/bsg-import
	$(BIN)/bsg-import sample_data/contacts.xlsx --list "Promo" --default-region UA --sandbox --wait-hlr \
		|| [ $$? -eq 1 ]

## serve: set up, then serve the web page against the built-in sandbox on http://127.0.0.1:8000
serve: $(BIN)/bsg-import
	$(BIN)/bsg-import serve --sandbox

## test: set up (with Debian's chromium for the browser tests), then run the whole test suite
test: $(BIN)/bsg-import $(CHROMIUM)
	$(BIN)/pytest

$(CHROMIUM):
	$(AS_ROOT) apt-get update -q
	$(AS_ROOT) apt-get install -y -q chromium

## lint: ruff (lint and format) and mypy --strict
lint: $(BIN)/bsg-import
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## bench: the speed and memory benchmark (not part of the tests)
bench: $(BIN)/bsg-import
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
