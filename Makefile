PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test soak demo run bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest

# The hostile-input test at length: ten thousand generated updates (make test sends 2,000).
soak: $(STAMP)
	HOSTILE_UPDATES=10000 $(BIN)/pytest tests/test_hostile.py
	KILLS=15 PATIENTS=30 $(BIN)/pytest tests/test_kills.py -o log_cli=true --log-cli-level=INFO
	AGENCY_PATIENTS=500 AGENCY_DAY=60 $(BIN)/pytest tests/test_agency.py -o log_cli=true --log-cli-level=INFO

demo: $(STAMP)
	$(BIN)/secretary-bot demo --config config.example.yaml

run: $(STAMP)
	$(BIN)/secretary-bot run --config $(or $(CONFIG),config.yaml)

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info
