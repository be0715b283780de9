# Two commands: `make run` serves the embedded system with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HELPDESK_DATA_DIR ?= var

.PHONY: run test setup lint bench-quick clean

run: setup
	$(BIN)/helpdesk db upgrade
	$(BIN)/helpdesk demo-data --if-empty
	$(BIN)/helpdesk metrics warm
	$(BIN)/helpdesk triage train --if-missing
	HELPDESK_DEMO=$${HELPDESK_DEMO:-1} $(BIN)/python run.py

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(STAMP) node_modules/.package-lock.json translations

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

translations: $(STAMP)
	$(BIN)/pybabel -q compile --use-fuzzy -d helpdesk/translations -f

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy helpdesk channels triage knowledge_base

clean:
	rm -rf $(VENV) node_modules
