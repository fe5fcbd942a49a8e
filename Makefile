# Two commands do everything on a fresh clone (see README): `make run` and `make test`.
# Only python3 (3.11), make and bash are assumed; uv is installed into .tools/ from PyPI
# and builds .venv/ from the committed uv.lock.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: setup run test ui bench docs

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# The dbt manifest is prepared here (and by `nqp run`/`nqp ui`), never when Dagster imports the code location.
setup: $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	.venv/bin/python -m dagster_project.defs.transform.manifest

run: setup
	.venv/bin/nqp run

test: setup
	.venv/bin/python -m pytest

ui: setup
	.venv/bin/nqp ui

bench: setup
	.venv/bin/python bench/run_bench.py

docs: setup
	.venv/bin/python -m dagster_project.dbt_docs
