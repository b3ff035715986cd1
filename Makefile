# Learning Commons — two commands: `make run` (the tool + sandbox LMS on SQLite) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint format install clean bench lrs

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -U pip
	$(PIP) install -q -e '.[test,postgres,redis]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	COMMONS_ENV=development $(PY) -m sandbox --port $${PORT:-5000}

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL (or a local server) is there.
test: $(STAMP) lint
	$(PY) -m pytest -q
	@if [ -n "$${TEST_POSTGRES_URL:-}" ] || pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  echo "== again on PostgreSQL =="; \
	  TEST_DATABASE=postgres $(PY) -m pytest -q -m "not browser"; \
	else echo "PostgreSQL not reachable: skipped the PostgreSQL run (.ci/run starts it)"; exit 1; fi

lrs: $(STAMP)
	$(PY) -m tests.support.ralph

bench: $(STAMP)
	$(PY) benchmarks/xapi.py
	$(PY) benchmarks/boards.py
	$(PY) benchmarks/mentoring.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache test-artifacts
