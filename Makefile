# GeraOS — the README's two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_ENV := DEBUG=true

.PHONY: run demo test lint worker beat bench loadtest venv dev-deps migrate seed manage format

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "GeraOS needs Python >= 3.11 (set PYTHON=python3.x)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

venv: $(VENV)/.runtime
dev-deps: $(VENV)/.dev

migrate: venv
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput

seed: migrate
	@$(RUN_ENV) $(BIN)/python manage.py seed_demo

# Any management command with the development settings, on a migrated database:
# make manage ARGS="rotate_memory_key"
manage: venv
	@$(RUN_ENV) $(BIN)/python manage.py migrate --noinput --verbosity 0
	@$(RUN_ENV) $(BIN)/python manage.py $(ARGS)

run: seed
	@echo ""
	@echo "  GeraOS is starting on http://127.0.0.1:8000/"
	@echo "  Operator admin: http://127.0.0.1:8000/admin/   API docs: http://127.0.0.1:8000/api/docs/"
	@echo "  The admin asks the operator for a second factor after the password: a code from an"
	@echo "  authenticator app holding the TOTP secret above, or the recovery code (once)."
	@echo "  Emails (verification, password reset) are printed in this terminal."
	@echo "  MCP server for agents (Streamable HTTP, bearer token): http://127.0.0.1:8000/mcp"
	@echo ""
	$(RUN_ENV) $(BIN)/uvicorn geraos.asgi:application --host 127.0.0.1 --port 8000 --reload

# An agent books the Lagos plumber over the HTTP API and verifies the receipt offline;
# make demo ARGS=--mcp does it as an MCP client, through /mcp.
demo: seed
	@$(RUN_ENV) $(BIN)/python scripts/demo_agent.py --serve $(ARGS)

test: dev-deps
	scripts/with-test-services $(BIN)/pytest --durations=15 $(PYTEST_ARGS)

bench: dev-deps
	scripts/with-test-services sh -c '$(BIN)/python -m bench.run && $(BIN)/python -m bench.trust && $(BIN)/python -m bench.dispatch && $(BIN)/python -m bench.dashboard && $(BIN)/python -m bench.mcp'

# The production shape (gunicorn, 2 Celery workers, PostgreSQL, Redis) under a locust load;
# make loadtest ARGS="--users 20 --mix-seconds 30" (ARGS="--help" lists the knobs).
loadtest: dev-deps
	scripts/with-test-services $(BIN)/python -m loadtest.run $(ARGS)

worker: venv
	@test -n "$$REDIS_URL" || { echo "make worker needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)"; exit 1; }
	$(RUN_ENV) $(BIN)/celery -A geraos worker --loglevel=INFO

beat: venv
	@test -n "$$REDIS_URL" || { echo "make beat needs REDIS_URL"; exit 1; }
	@mkdir -p var
	$(RUN_ENV) $(BIN)/celery -A geraos beat --loglevel=INFO --schedule=var/celerybeat-schedule

lint: dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(RUN_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

format: dev-deps
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
