# Two commands for a fresh machine:  make demo  |  make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)  ## install, then simulate the baseline: 30 replications of one year
	$(BIN)/icsim run scenarios/baseline.toml --replications 30 --workers 2 --out runs/demo-$$(date +%Y%m%d-%H%M%S)

test: $(STAMP)  ## install, then run the test suite
	$(BIN)/python -m pytest -q

bench: $(STAMP)  ## speed and scale figures beside their targets (not tests; about 10 minutes)
	$(BIN)/python benchmarks/bench_targets.py

clean:
	rm -rf $(VENV) runs .pytest_cache
