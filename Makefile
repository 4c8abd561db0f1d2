# Three commands for a fresh machine:  make demo  |  make test  |  make app  (make bench: speed figures)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test app lint bench validation clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# what `pip install icsim` gives: run, compare, plan, report
$(VENV)/.installed-demo: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

# the test tools, the Dask backend and what executes the notebooks
$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# the web app: icsim with Streamlit
$(VENV)/.installed-app: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e ".[app]"
	touch $@

demo: $(VENV)/.installed-demo  ## install, compare the baseline with HomeFirst (10 paired replications of one year), write the HTML report
	$(BIN)/icsim compare baseline homefirst --replications 10 --workers 2 --out runs/demo-$$(date +%Y%m%d-%H%M%S)

app: $(VENV)/.installed-app  ## install, then serve the web app on http://localhost:8501 (workspace: icsim-workspace/; Ctrl-C stops it)
	$(BIN)/icsim app

lint: $(VENV)/.installed-test  ## ruff (configured in pyproject.toml)
	$(BIN)/ruff check sim tests benchmarks scripts

test: lint  ## install (and headless Chromium for the report's browser test), lint, then run the test suite
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver)
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-test  ## speed and scale figures beside their targets, with the machine (not tests; about 50 minutes)
	$(BIN)/python benchmarks/bench_targets.py

validation: $(VENV)/.installed-demo  ## compare the scenarios calibration/anchors.toml names (20 paired replications) and write docs/validation.md
	$(BIN)/python scripts/validation.py --replications 20 --workers 2

clean:
	rm -rf $(VENV) runs .pytest_cache
