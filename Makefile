# The two commands a fresh machine needs (see README): `make demo` and `make test`.
# Both create .venv and install diogel into it first; nothing else is assumed to be installed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/diogel --data-dir diogel-data demo

test: $(STAMP)
	SPARK_LOCAL_IP=127.0.0.1 $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench-smoke: $(STAMP)
	$(BIN)/python benchmarks/ingest_national.py --smoke

clean:
	rm -rf $(VENV) diogel-data
