# Everything a developer does, by name. `make run` and `make test` work on a fresh machine
# that has Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= 100k
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint fmt mypy demo bench migrations messages clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)  ## migrate, load demo data on first start, serve with the worker
	$(BIN)/voronka serve --init --host $(HOST) --port $(PORT)

test: $(STAMP)  ## lint, types, migrations check, pytest on SQLite and PostgreSQL, browser tests
	$(BIN)/python scripts/run_tests.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

mypy: $(STAMP)
	$(BIN)/mypy src

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(STAMP)
	$(BIN)/voronka demo

bench: $(STAMP)
	$(BIN)/voronka bench --scale $(SCALE)

migrations: $(STAMP)
	$(BIN)/voronka manage makemigrations

messages: $(STAMP)  ## refresh and compile the translations (needs gettext)
	cd src/voronka && ../../$(BIN)/voronka manage makemessages -l ru -l en --ignore "migrations/*" && ../../$(BIN)/voronka manage compilemessages

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
