# Two commands matter: `make run` and `make test`. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-stamp
NODE_INSTALLED := node_modules/.installed-stamp

# Settings for `make run` may live in a .env file (KEY=value lines, read by the bot itself,
# quotes and comments as in a shell).
ENV_FILE := $(if $(wildcard .env),--env-file .env)

.PHONY: install run socket migrate test test-fast lint format check-policies cluster-up cluster-down cluster-status clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres]'
	touch $@

# configurable-http-proxy, for the tests that start a real JupyterHub.
$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(INSTALLED) $(NODE_INSTALLED)

# Without Slack settings (in the environment or .env), `make run` starts the local sandbox:
# a Slack workspace in the browser on 127.0.0.1, the real bot behind it (bot/sandbox/).
# With them, it serves Slack (Socket Mode when SLACK_APP_TOKEN is set).
run: $(INSTALLED)
	$(BIN)/python -m bot run $(ENV_FILE)

socket: $(INSTALLED)
	$(BIN)/python -m bot socket $(ENV_FILE)

migrate: $(INSTALLED)
	$(BIN)/python -m bot migrate $(ENV_FILE)

check-policies: $(INSTALLED)
	$(BIN)/python -m bot check-policies

# Every test, including the local Kubernetes cluster (built on first use, then cached
# under ~/.cache/jupyterhub-bot) and real JupyterHub processes.
test: install
	$(BIN)/python -m pytest

# Only the tests that need no cluster, no hub and no PostgreSQL server.
test-fast: $(INSTALLED)
	$(BIN)/python -m pytest -m "not cluster and not hub and not postgres and not browser"

lint: $(INSTALLED)
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy

format: $(INSTALLED)
	$(BIN)/ruff format bot tests bench
	$(BIN)/ruff check --fix bot tests bench

cluster-up:
	cluster/harness.sh up

cluster-down:
	cluster/harness.sh down

cluster-status:
	cluster/harness.sh status

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
