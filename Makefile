# Two commands for a fresh machine:  make demo  |  make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)  ## install, compare the baseline with HomeFirst (10 paired replications of one year), write the HTML report
	@out=runs/demo-$$(date +%Y%m%d-%H%M%S) && \
	$(BIN)/icsim compare scenarios/baseline.toml scenarios/homefirst.toml --replications 10 --workers 2 --out $$out && \
	$(BIN)/icsim report $$out

test: $(STAMP)  ## install (and headless Chromium for the report's browser test), then run the test suite
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver)
	$(BIN)/python -m pytest -q

bench: $(STAMP)  ## speed and scale figures beside their targets (not tests; about 10 minutes)
	$(BIN)/python benchmarks/bench_targets.py

clean:
	rm -rf $(VENV) runs .pytest_cache
