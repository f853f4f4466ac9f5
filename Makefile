# Everything runs from a fresh clone: the targets install what they need (uv, the project's locked packages, and a
# separate Airflow virtual environment for the runtime tests).
SHELL := /bin/bash
STACK ?= dev
FORMAT ?= text
PROJECT ?= .
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
AIRFLOW_PYTHON_VERSION := 3.11

.PHONY: help plan test test-fast airflow-lock clean

help:
	@echo "make plan STACK=dev [FORMAT=json]   what 'pulumi up' would create, offline (Pulumi's mock engine)"
	@echo "make test                          every test: unit, stack, contract and runtime (real Airflow)"
	@echo "make test-fast                     all but the runtime tests"
	@echo "make airflow-lock                  re-resolve tests/runtime/airflow-requirements.lock"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --group test --quiet
	@touch $@

.venv-airflow/.installed: tests/runtime/airflow-requirements.lock | $(UV)
	$(UV) venv --quiet --allow-existing --python $(AIRFLOW_PYTHON_VERSION) .venv-airflow
	$(UV) pip install --quiet --python .venv-airflow/bin/python -r tests/runtime/airflow-requirements.lock
	@touch $@

plan: .venv/.installed
	@.venv/bin/python -m offline --stack $(STACK) --format $(FORMAT) --project $(PROJECT)

test: .venv/.installed .venv-airflow/.installed
	AIRFLOW_PYTHON=$(CURDIR)/.venv-airflow/bin/python .venv/bin/python -m pytest

test-fast: .venv/.installed
	.venv/bin/python -m pytest -m "not runtime"

airflow-lock: | $(UV)
	$(UV) pip compile --quiet --no-header --python-version $(AIRFLOW_PYTHON_VERSION) \
		tests/runtime/airflow-requirements.in -o tests/runtime/airflow-requirements.lock

clean:
	rm -rf .venv .venv-airflow .tools .build .pytest_cache
