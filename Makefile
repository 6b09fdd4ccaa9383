# The developer entry point: `make run` and `make test` each set up .venv on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKERS ?= 1
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format typecheck bench migration clean soak

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start the ChatKit backend (:8000, local mode, offline model; `make run WORKERS=2` for two
## processes) and both MCP servers over streamable HTTP (tasks :8101, items :8102); Ctrl-C stops them all.
run: install
	@mkdir -p data
	@echo "ChatKit page: http://127.0.0.1:8000/   endpoint: http://127.0.0.1:8000/chatkit   MCP token: $(BIN)/tasks-mcp token --user alice"
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	$(BIN)/chatkit-backend --port 8000 --workers $(WORKERS) & \
	$(BIN)/tasks-mcp --transport http --port 8101 & \
	$(BIN)/items-mcp --transport http --port 8102 & \
	wait

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint typecheck
	$(BIN)/python -m pytest

## The reliability suite at full size (tests/reliability/sizes.py): 100 users x 10 tool turns on
## SQLite and Postgres, 10,000+ malformed ChatKit requests, MCP argument fuzz; prints the figures.
soak: install
	SOAK=1 $(BIN)/python -m pytest -q -s tests/reliability -p no:cacheprovider

bench: install
	$(BIN)/python -m bench.search_bench
	$(BIN)/python -m bench.chatkit_bench
	$(BIN)/python -m bench.agent_bench
	$(BIN)/python -m bench.action_bench
	$(BIN)/python -m bench.approval_bench
	$(BIN)/python -m bench.turn_instructions

## A new migration of one store from the change to its models:
##   make migration STORE=chat|tasks|items MESSAGE="add a due time to tasks"
MIGRATIONS_chat := backend.store.migrations
MIGRATIONS_tasks := mcp_servers.tasks.migrations
MIGRATIONS_items := mcp_servers.items.migrations
migration: install
	@test -n "$(MIGRATIONS_$(STORE))" || { echo 'usage: make migration STORE=chat|tasks|items MESSAGE="..."'; exit 2; }
	@test -n "$(MESSAGE)" || { echo 'usage: make migration STORE=chat|tasks|items MESSAGE="..."'; exit 2; }
	$(BIN)/python -c 'import sys; from $(MIGRATIONS_$(STORE)) import HISTORY; from plumbing.migrations import new_revision; print(new_revision(HISTORY, sys.argv[1]))' "$(MESSAGE)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
