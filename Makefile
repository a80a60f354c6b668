# seclab: `make lab` (set up, start the simulator, open JupyterLab) and `make test` are the quick start.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.seclab-installed
LAB ?= orientation
PORT ?= 4566
JUPYTER_PORT ?= 8888

.PHONY: setup lab demo test test-fast bench sim-start sim-stop clean help

help:
	@echo "make lab    set up, start the simulator and open JupyterLab on the labs"
	@echo "make demo   run the $(LAB) lab's reference solution headless and print its grade"
	@echo "make test   run the test suite"
	@echo "make bench  run the benchmarks and update BENCHMARKS.md"

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python env/venv_fixups.py
	@touch $(STAMP)
	@echo "seclab is set up: $(BIN)/seclab"

lab: setup
	$(BIN)/seclab sim start --port $(PORT)
	$(BIN)/seclab jupyter --port $(JUPYTER_PORT)

demo: setup
	$(BIN)/seclab run $(LAB) --solution --format text

test: setup
	$(BIN)/python -m pytest -n auto --dist loadgroup -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser" -x

bench: setup
	$(BIN)/python benchmarks/run_all.py

sim-start: setup
	$(BIN)/seclab sim start --port $(PORT)

sim-stop: setup
	$(BIN)/seclab sim stop

clean:
	-$(BIN)/seclab sim stop 2>/dev/null
	rm -rf $(VENV) .seclab .pytest_cache
