# Helix LMS: `make run` sets everything up and serves on http://127.0.0.1:5000; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# `make run PORT=8080` serves elsewhere; links in mail follow (LMS_BASE_URL defaults to http://127.0.0.1:$(PORT)).
PORT ?= 5000
# Tests run in their own environment, so the example plugins they install never appear in `make run`.
TEST_VENV := .venv-test
TEST_BIN := $(TEST_VENV)/bin
TEST_PLUGINS := tests/plugins/lms-example-qtype tests/plugins/lms-example-course

.PHONY: install install-test browser-deps bench-deps migrate sync demo run reset serve-prod test test-sqlite test-postgres lint format bench bench-scale loadtest clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# `make run` gets the runtime dependencies only; the test extras (pytest, Playwright, ...) live in .venv-test.
$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

install: $(VENV)/.installed

$(TEST_BIN)/activate:
	$(PYTHON) -m venv $(TEST_VENV)
	$(TEST_BIN)/python -m pip install --quiet --upgrade pip

$(TEST_VENV)/.installed: $(TEST_BIN)/activate pyproject.toml $(shell find tests/plugins -type f -not -path '*/build/*' -not -path '*egg-info*' 2>/dev/null)
	$(TEST_BIN)/python -m pip install --quiet -e '.[test]'
	$(TEST_BIN)/python -m pip install --quiet --no-deps --force-reinstall $(TEST_PLUGINS)
	touch $@

install-test: $(TEST_VENV)/.installed browser-deps

# Debian's Chromium for the browser tests (Playwright never downloads its own browser).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's chromium for the browser tests"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
				|| echo "warning: could not install chromium; browser tests will be skipped"; \
		else \
			echo "note: /usr/bin/chromium is missing; browser tests will be skipped (apt-get install chromium)"; \
		fi; \
	fi

migrate: install
	$(FLASK) db upgrade

sync: migrate
	$(FLASK) courses sync

demo: migrate
	$(FLASK) users demo

run: sync demo
	LMS_PORT=$(PORT) $(FLASK) run --host 127.0.0.1 --port $(PORT)

# Development only: empties the database and the outbox after asking; keeps instance/ keys unless ARGS=--all.
reset: install
	$(FLASK) reset $(ARGS)

# Production-style server: several gunicorn workers. Set LMS_CONFIG=production, LMS_SECRET_KEY,
# LMS_DATABASE_URL and LMS_RATELIMIT_STORAGE_URI first (see docs/deployment.md).
serve-prod: install
	$(BIN)/gunicorn --workers $${WEB_CONCURRENCY:-3} --bind $${BIND:-127.0.0.1:8000} --access-logfile - wsgi:app

# The whole suite on SQLite, then again on PostgreSQL when LMS_TEST_DATABASE_URL is set (CI sets it).
# Browser tests, the accessibility sweep and the smoke runs (marks "browser" and "smoke") run once per
# `make test`: in the PostgreSQL pass when there is one, otherwise in the SQLite pass.
test: install-test
	$(TEST_BIN)/ruff check .
	$(TEST_BIN)/ruff format --check .
	@if [ -n "$$LMS_TEST_DATABASE_URL" ]; then \
		echo "== SQLite (browser, accessibility and smoke tests run in the PostgreSQL pass)"; \
		LMS_TEST_DATABASE_URL= $(TEST_BIN)/pytest -q -p no:cacheprovider -m "not browser and not smoke" || exit $$?; \
		echo "== PostgreSQL: $$LMS_TEST_DATABASE_URL"; \
		$(TEST_BIN)/pytest -q -p no:cacheprovider; \
	else \
		echo "== SQLite"; \
		LMS_TEST_DATABASE_URL= $(TEST_BIN)/pytest -q -p no:cacheprovider; \
	fi

test-sqlite: install-test
	LMS_TEST_DATABASE_URL= $(TEST_BIN)/pytest -q -p no:cacheprovider

test-postgres: install-test
	LMS_TEST_DATABASE_URL=$${LMS_TEST_DATABASE_URL:-$(PG_TEST_URL)} $(TEST_BIN)/pytest -q -p no:cacheprovider

lint: install-test
	$(TEST_BIN)/ruff check .
	$(TEST_BIN)/ruff format --check .

format: install-test
	$(TEST_BIN)/ruff check --fix .
	$(TEST_BIN)/ruff format .

# The app under gunicorn (production config) beside bare Flask, driven by wrk (apt-get install wrk), plus
# SQL statements per page and the PDF, certificate and report benches; writes bench/RESULTS.md.
# LMS_BENCH_DATABASE_URL=postgresql+psycopg://.../bench_x runs it on PostgreSQL (that database is emptied).
bench: install bench-deps
	$(BIN)/python bench/run_all.py
	$(BIN)/python bench/scale_bench.py --profile bench --write

# Dashboard, course page and report latency on seeded scale data (bench/scale_bench.py, writes bench/SCALE.md):
# `make bench` runs the 10,000-learner profile, `make bench-scale` the 100,000-learner one. Set
# LMS_SCALE_DATABASE_URL=postgresql+psycopg://.../bench_y (a database of its own: it is emptied); else SQLite.
bench-scale: install
	$(BIN)/python bench/scale_bench.py --profile loadtest --write

# Debian's wrk drives the HTTP benchmark (installed here when missing and we may; never downloaded otherwise).
bench-deps:
	@if ! command -v wrk >/dev/null; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian's wrk for the benchmark"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else \
			echo "wrk is missing: apt-get install wrk"; exit 1; \
		fi; \
	fi

# The exam-day scenario (bench/loadtest.py, bench/locustfile.py): a stepped ramp of examinees on two gunicorn
# masters sharing PostgreSQL and Redis (capped at LOAD_BUDGET seconds), then the faults (one app process
# SIGKILLed mid-run; a private PostgreSQL cluster restarted mid-run). Writes bench/LOADTEST.md (linked from
# bench/RESULTS.md). LMS_LOAD_DATABASE_URL is emptied first: a database of its own (default bench_exam).
# LMS_LOAD_REDIS_URL (default redis://127.0.0.1:6379/14) holds its rate limits and job queue. LOAD_STEPS,
# LOAD_THINK (min,max s), LOAD_RAMP, LOAD_SPIKE, LOAD_BUDGET, LOAD_PROCESSES, LOAD_WORKERS, LOAD_SEED tune it.
loadtest: install-test
	$(TEST_BIN)/python bench/loadtest.py

clean:
	rm -rf $(VENV) $(TEST_VENV) build *.egg-info .pytest_cache
