# The two commands of the README: `make run` and `make test`. Both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never

UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif

.PHONY: help setup run serve test lint clean

help:
	@echo "make run    a load run end to end (portal, gateway, every actor, audit): about"
	@echo "            2.5 minutes; writes reports/<run id>/report.html, report.md and"
	@echo "            results.json, and prints a summary"
	@echo "make serve  serve the mock portal alone on http://127.0.0.1:8000 (SQLite under var/)"
	@echo "make test   lint, type-check and run the tests (SQLite; PostgreSQL too when"
	@echo "            TEST_DATABASE_URL=postgresql://... is set)"

setup:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@# The README's examples call `uv`: under pyenv, pip's new command needs a shim first.
	@command -v uv >/dev/null 2>&1 || ! command -v pyenv >/dev/null 2>&1 || pyenv rehash
	@command -v uv >/dev/null 2>&1 || echo "note: uv is installed but not on PATH; the README's 'uv run ...' examples need it there (or use 'python3 -m uv run ...')"
	@# Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on this machine),
	@# every process would otherwise compile its imports again, about half of a start-up.
	@$(UV) sync --frozen --quiet --compile-bytecode

run: setup
	$(UV) run portalsim run

serve: setup
	$(UV) run portalsim serve

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

test: lint
	@TEST_DATABASE_URL= $(UV) run pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "--- the same suite on $$TEST_DATABASE_URL"; \
		$(UV) run pytest -q; \
	fi

clean:
	rm -rf var reports .pytest_cache .mypy_cache .ruff_cache
