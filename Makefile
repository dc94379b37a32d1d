# claimflow: two commands on a fresh machine.
#   make demo   — the whole pipeline on the embedded default (SQLite file, in-process broker)
#   make test   — the three test tiers (real PostgreSQL/Redis/RabbitMQ tests skip when those are down)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test bench venv clean

$(BIN)/claimflow: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

venv: $(BIN)/claimflow

demo: venv
	$(BIN)/claimflow demo

test: venv
	$(BIN)/pytest -q

bench: venv
	$(BIN)/python bench/pipeline.py --events 10000 --broker redis

clean:
	rm -rf $(VENV) claimflow.db* claimflow-demo.db* .pytest_cache
