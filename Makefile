# Two commands: `make run` (embedded SQLite + in-memory layer, demo data) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The test suite runs against real services; override to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# Parallel workers (pytest-xdist), a file at a time each; 0 runs the suite in one process.
TEST_WORKERS ?= 2

.PHONY: run test setup messages lint stack lock

# Settings default to production (DEBUG off); the demo and the suite run with DEBUG on.
run test messages: export DEBUG ?= 1

# Exactly the versions CI tested (requirements-dev.lock; `make lock` renews both locks).
$(BIN)/.installed: pyproject.toml requirements-dev.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

setup: $(BIN)/.installed

run: setup
	$(BIN)/python manage.py migrate -v 0
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py collectstatic --noinput -v 0
	@echo "\n  Demo shop with the widget (another origin): http://localhost:$(PORT)/shop/"
	@echo "  Expert console:                           http://127.0.0.1:$(PORT)/console/"
	@echo "  Staff pages:                              http://127.0.0.1:$(PORT)/staff/"
	@echo "  Django admin:                             http://127.0.0.1:$(PORT)/admin/\n"
	@# The job worker and scheduler run beside Daphne and stop with it.
	trap 'kill 0' EXIT; \
	$(BIN)/python manage.py db_worker --queue-name '*' --no-reload -v 0 & \
	$(BIN)/python manage.py scheduler & \
	WIDGET_ALLOWED_ORIGINS=$${WIDGET_ALLOWED_ORIGINS:-http://localhost:$(PORT)} \
		$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

test: setup
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run -v 0
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) REQUIRE_SERVICES=1 \
		$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Production-like: nginx, two Daphne processes, job worker and scheduler, DEBUG off,
# on PostgreSQL and Redis (STACK_DATABASE_URL, STACK_REDIS_URL); see docs/deploy.md.
stack: setup
	$(BIN)/python deploy/stack.py --port $${STACK_PORT:-8080}

# Resolve pyproject.toml's ranges afresh in clean environments and pin the result:
# requirements.lock for production images, requirements-dev.lock for make setup and CI.
lock:
	rm -rf .lock-venv && $(PY) -m venv .lock-venv && .lock-venv/bin/pip install -q .
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^brandexperts' > requirements.lock
	.lock-venv/bin/pip install -q '.[dev]'
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^brandexperts' > requirements-dev.lock
	rm -rf .lock-venv

messages: setup
	$(BIN)/python manage.py makemessages -l nl --ignore '.venv/*' --ignore 'tests/*'
	$(BIN)/python manage.py makemessages -d djangojs -l nl --ignore '.venv/*' --ignore 'tests/*'

lint: setup
	$(BIN)/ruff check .
