# evalplat — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed
export EVALPLAT_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/evalplat.db

.PHONY: run serve test test-sqlite test-postgres system-packages install translations migrate demo lint typecheck bench clean initial-migration

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP) translations

# Debian packages: OCR (Tesseract + Chinese model, poppler), CJK fonts for charts, Chromium for browser tests.
system-packages:
	@bash .ci/system-packages.sh

translations: $(STAMP)
	@$(PY) -m evalplat.i18n_tools compile

migrate: install
	@mkdir -p instance
	@$(FLASK) db upgrade

demo: migrate
	@$(FLASK) demo --if-empty

run: system-packages demo
	@$(FLASK) demo-logins
	@$(FLASK) run --host 127.0.0.1 --port 5000

# gthread workers: each worker process serves up to THREADS requests at once, so one waiting on
# PostgreSQL does not hold a whole process, and connections are kept alive (bench/README.md, "Load").
serve: install
	@test -n "$$EVALPLAT_SECRET_KEY" || { echo "EVALPLAT_SECRET_KEY is not set"; exit 1; }
	@EVALPLAT_ENV=production $(FLASK) db upgrade
	@EVALPLAT_ENV=production $(VENV)/bin/gunicorn -w $${WORKERS:-4} --threads $${THREADS:-4} \
		-b $${BIND:-127.0.0.1:8000} 'wsgi:app'

test: system-packages install
	@$(VENV)/bin/ruff check --quiet evalplat scoring forms reports tests bench
	@$(MAKE) --no-print-directory typecheck
	@$(PY) tests/run_all.py

# mypy --strict on the pure packages (scoring, forms), the default mode on the app (evalplat, reports);
# configuration in pyproject.toml. Each mode keeps its own incremental cache, so neither rechecks the other's.
typecheck: install
	@$(VENV)/bin/mypy --strict --no-error-summary --cache-dir .mypy_cache/strict scoring forms
	@$(VENV)/bin/mypy --no-error-summary --cache-dir .mypy_cache/app evalplat reports

lint: install
	@$(VENV)/bin/ruff check evalplat scoring forms reports tests bench

bench: install
	@for f in bench/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

# Before the first release only: fold every revision into one initial revision rebuilt from the models.
initial-migration: install
	@tmp=$$(mktemp -d); rm -f migrations/versions/*.py; \
	EVALPLAT_DATABASE_URL=sqlite:///$$tmp/initial.db $(FLASK) db migrate -m "initial schema" --rev-id 0001; \
	rm -rf $$tmp

clean:
	rm -rf $(VENV) instance .pytest_cache
