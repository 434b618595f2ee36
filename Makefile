# Everything a fresh machine needs is installed by these targets into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODELS ?= 300
JOBS ?= 2

.PHONY: venv test lint demo bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy polaris_sync

test: lint
	$(BIN)/pytest -q -n $(JOBS)

demo: venv
	$(BIN)/python -m polaris_sync.demo --models $(MODELS)

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
