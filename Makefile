# The two commands: `make demo` and `make test`. Everything else is set-up they call.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PO := $(wildcard src/bastion/locale/*/LC_MESSAGES/django.po)
MO := $(PO:.po=.mo)
# The whole suite runs in 2 worker processes (one per core; PYTEST_WORKERS=0 runs it in this
# process), a test file per worker at a time so module fixtures (the demo street) are built once.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

.PHONY: demo test test-sqlite test-postgres setup system lint format messages bench openapi clean

demo: setup
	$(BIN)/bastion demo

test: setup system
	$(BIN)/ruff check src tools
	$(BIN)/lint-imports
	$(PYTEST)
	scripts/with-postgres $(PYTEST)

test-sqlite: setup
	$(PYTEST)

test-postgres: setup system
	scripts/with-postgres $(PYTEST)

setup: $(STAMP) $(MO)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -D django -i $< -o $@ --statistics

system:
	scripts/ensure-system-packages

# Regenerate the catalogue from the code (needs GNU gettext, a developer tool).
messages: $(STAMP)
	cd src/bastion && ../../$(BIN)/bastion makemessages -l zh_Hans --no-obsolete --add-location file -i "*/tests/*"

# The mass-testing benchmark: its own scratch database (PostgreSQL when DATABASE_URL is set,
# 1,000,000 residents; else SQLite, 100,000). Options: make bench BENCH_ARGS="--residents 3000".
bench: setup
	$(BIN)/bastion bench testing $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tools
	$(BIN)/ruff format --check src tools
	$(BIN)/lint-imports

# The committed copy of the API schema (web/tests/test_openapi.py compares the served one
# with it): run after changing the API on purpose, and commit both.
openapi: $(STAMP)
	DJANGO_SETTINGS_MODULE=bastion.settings $(BIN)/python -c 'import django, json; \
	django.setup(); from bastion.api import api; \
	print(json.dumps(api.get_openapi_schema(), indent=1, sort_keys=True, ensure_ascii=False))' \
	> docs/openapi.json

format: $(STAMP)
	$(BIN)/ruff check --fix src
	$(BIN)/ruff format src

lock:
	$(BIN)/pip-compile --quiet --extra dev --strip-extras -o requirements.lock pyproject.toml
	sed -i '/^--extra-index-url/d;/^--find-links/d' requirements.lock

clean:
	rm -rf $(VENV) var
