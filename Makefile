# The two commands a fresh machine needs (see README): `make demo` and `make test`.
# Both create .venv and install diogel into it first; nothing else is assumed to be installed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test workers (pytest-xdist). Two, not `auto`: each worker builds its own session fixtures and may
# start its own Spark JVM (2 GB driver), so the count is chosen for the machine, not the core count.
TEST_WORKERS ?= 2

.PHONY: demo test lint bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/diogel --data-dir diogel-data demo

# --dist loadfile: a test file runs whole on one worker, so its module-scoped fixtures (warehouses,
# assessments) are built once, not once per worker.
test: $(STAMP)
	SPARK_LOCAL_IP=127.0.0.1 $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench-smoke: $(STAMP)
	$(BIN)/python benchmarks/ingest_national.py --smoke

clean:
	rm -rf $(VENV) diogel-data
