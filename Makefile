# taar-etl: one virtualenv per package under .venv/, built by tools/ensure-venv and
# rebuilt only when that package's pyproject (or a shared lib's) changes.
SHELL := /bin/bash
PYTHON ?= python3
JOBS := $(notdir $(wildcard jobs/*))
LIBS := $(notdir $(wildcard libs/*))
JOB ?=
BUCKET ?=

.PHONY: help test demo bench lint format envs dataproc-bundle clean

help:
	@echo "make demo    run the whole pipeline locally on embedded defaults (./taar-data/)"
	@echo "make test    build the environments and run every test suite"
	@echo "make lint    ruff check + format check"
	@echo "make bench   benchmarks (figures in bench-results/)"
	@echo "make dataproc-bundle JOB=spark_lite   zip for spark-submit --py-files"

envs:
	@PYTHON=$(PYTHON) tools/ensure-venv services
	@PYTHON=$(PYTHON) tools/ensure-venv tests
	@for p in $(addprefix libs/,$(LIBS)) $(addprefix jobs/,$(JOBS)); do PYTHON=$(PYTHON) tools/ensure-venv $$p || exit 1; done

test: envs
	@if [ -x tools/ensure-system-deps ]; then tools/ensure-system-deps; fi
	@$(PYTHON) tools/run-tests $(SUITES)

demo: envs
	@.venv/taar_common/bin/python tools/demo.py $(if $(BUCKET),--bucket $(BUCKET)) $(if $(DATE),--date $(DATE))

bench: envs
	@$(PYTHON) tools/bench.py

lint: envs
	@.venv/repo/bin/ruff check . && .venv/repo/bin/ruff format --check .

format: envs
	@.venv/repo/bin/ruff format . && .venv/repo/bin/ruff check --fix .

dataproc-bundle:
	@test -n "$(JOB)" || { echo "usage: make dataproc-bundle JOB=spark_lite" >&2; exit 2; }
	@$(PYTHON) tools/dataproc_bundle.py $(JOB)

clean:
	rm -rf .venv .test-results build dist
