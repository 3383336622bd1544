# The two commands of a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/wardens_test
export WARDENS_INSTANCE ?= $(CURDIR)/instance

FUZZ_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/wardens_fuzz

.PHONY: demo test test-sqlite test-postgres test-firebase test-fuzz-ci test-browser browser fuzz \
        install lint clean nginx check-deploy mutate

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

## Set up and run the whole suite on SQLite, the Firebase emulator tests, then on PostgreSQL,
## then the short seeded fuzz run over the OpenAPI document.
test: install check-deploy test-sqlite test-browser test-firebase test-postgres test-fuzz-ci

# The main runs never see FIREBASE_AUTH_EMULATOR_HOST (firebase-admin would skip signatures).
test-sqlite: install
	env -u FIREBASE_AUTH_EMULATOR_HOST $(BIN)/pytest -m "not postgres_only and not firebase_emulator and not fuzz and not browser"

test-postgres: install
	$(PYTHON) .ci/pg_database.py "$(PG_URL)"
	env -u FIREBASE_AUTH_EMULATOR_HOST WARDENS_TEST_DATABASE_URL="$(PG_URL)" \
	  $(BIN)/pytest -m "not firebase_emulator and not fuzz and not browser"

# Schemathesis over the whole served document (tests/fuzz): a few seeded examples per operation,
# as the demo admin and a volunteer on SQLite, and as the volunteer on PostgreSQL.
test-fuzz-ci: install
	env -u FIREBASE_AUTH_EMULATOR_HOST WARDENS_FUZZ_EXAMPLES=3 WARDENS_FUZZ_ROLES=admin,volunteer1 \
	  $(BIN)/pytest -m fuzz tests/fuzz
	$(PYTHON) .ci/pg_database.py "$(FUZZ_PG_URL)"
	env -u FIREBASE_AUTH_EMULATOR_HOST WARDENS_FUZZ_EXAMPLES=3 WARDENS_FUZZ_ROLES=volunteer1 \
	  WARDENS_TEST_DATABASE_URL="$(FUZZ_PG_URL)" $(BIN)/pytest -m fuzz tests/fuzz

## The long fuzz run: many random examples per operation, both roles (FUZZ_EXAMPLES=...).
FUZZ_EXAMPLES ?= 100
fuzz: install
	env -u FIREBASE_AUTH_EMULATOR_HOST WARDENS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) WARDENS_FUZZ_RANDOM=1 \
	  WARDENS_FUZZ_ROLES=admin,volunteer1 $(BIN)/pytest -m fuzz tests/fuzz

## Debian's Chromium, its driver and a Chinese font, for the console's browser tests (apt, as
## root like CI).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	    && dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then :; else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium chromium-driver fonts-wqy-microhei; fi
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { echo "chromium or chromedriver is missing: the browser tests cannot run" >&2; exit 1; }

## The console in a real headless Chromium; writes the screenshots in docs/screenshots/.
test-browser: install browser
	env -u FIREBASE_AUTH_EMULATOR_HOST $(BIN)/pytest -m browser tests/browser

node_modules/.bin/firebase: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

## Only the Firebase Auth emulator tests, under the emulator (firebase-tools pinned in package.json).
# CI=true and NO_UPDATE_NOTIFIER: firebase-tools then calls no server but the local emulator.
test-firebase: install node_modules/.bin/firebase
	CI=true NO_UPDATE_NOTIFIER=1 WARDENS_ENV=testing \
	  npx firebase emulators:exec --only auth --project demo-wardens "$(BIN)/pytest -m firebase_emulator"

## Debian's nginx, for nginx -t on the deployment's site (apt, as root like CI).
nginx:
	@if test -x /usr/sbin/nginx || command -v nginx >/dev/null; then :; else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; fi

## systemd-analyze verify on deploy/systemd/*.service and nginx -t on deploy/nginx/ (offline,
## a self-signed certificate in place of the site's).
check-deploy: install nginx
	PATH="$$PATH:/usr/sbin" deploy/check.sh

## ruff, and mypy over core, api and plugins (run by .ci/run before the tests).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

## Mutation testing of one module (by hand, not in CI): make mutate MODULE=core/ledger.py
## [ARGS="--again --jobs 2"]; no MODULE: every module of tests/mutation.py. See docs/testing.md.
mutate: install
	$(BIN)/python -m tests.mutation $(ARGS) $(MODULE)

clean:
	rm -rf $(VENV) instance/test
