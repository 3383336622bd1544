# The two commands of a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/wardens_test
export WARDENS_INSTANCE ?= $(CURDIR)/instance

.PHONY: demo test test-sqlite test-postgres install lint clean

$(BIN)/wardens: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/wardens

## Set up, migrate the SQLite database under instance/, seed demo data, serve on :8000.
demo: install
	$(BIN)/wardens db upgrade
	$(BIN)/wardens demo
	WARDENS_ENV=development $(BIN)/wardens serve --host 127.0.0.1 --port 8000

## Set up and run the whole suite on SQLite, then on PostgreSQL.
test: install test-sqlite test-postgres

test-sqlite: install
	$(BIN)/pytest -m "not postgres_only"

test-postgres: install
	$(PYTHON) .ci/pg_database.py "$(PG_URL)"
	WARDENS_TEST_DATABASE_URL="$(PG_URL)" $(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance/test
