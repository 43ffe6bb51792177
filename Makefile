# taar-etl: one virtualenv per package under .venv/, built by tools/ensure-venv and
# rebuilt only when that package's pyproject (or a shared lib's) changes.
SHELL := /bin/bash
PYTHON ?= python3
JOBS := $(notdir $(wildcard jobs/*))
LIBS := $(notdir $(wildcard libs/*))
# Standalone suites with their own pins (real Airflow, the TAAR service): <dir>/requirements.txt + tests/
SUITE_DIRS := $(patsubst %/requirements.txt,%,$(wildcard deploy/*/requirements.txt contracts/*/requirements.txt))
JOB ?=
BUCKET ?=
BASE_IMAGE ?=
EXTRA_CA_DIR ?=

.PHONY: help test demo run bench lint format envs dataproc-bundle clean image images base-image test-images workflows

help:
	@echo "make demo [DATE=YYYY-MM-DD] [BUCKET=url]   the whole pipeline locally on embedded defaults (taar-data/)"
	@echo "make run JOB=spark_lite ARGS=\"--date 2026-01-31\"   one job by name (same as bin/taar spark_lite ...)"
	@echo "make test    build the environments and run every test suite"
	@echo "make lint    ruff check + format check"
	@echo "make bench   benchmarks (figures in bench-results/)"
	@echo "make dataproc-bundle JOB=spark_lite   zip for spark-submit --py-files"
	@echo "make image JOB=amodump | make images   container images taar-<job>:<version> (docker, else podman)"
	@echo "make base-image [EXTRA_CA_DIR=dir]    local Debian base without a registry (podman)"
	@echo "make test-images   build every image and run --help + a small job in each (README: Deploy)"

envs:
	@PYTHON=$(PYTHON) tools/ensure-venv services
	@PYTHON=$(PYTHON) tools/ensure-venv tests
	@for p in $(addprefix libs/,$(LIBS)) $(addprefix jobs/,$(JOBS)) $(SUITE_DIRS); do PYTHON=$(PYTHON) tools/ensure-venv $$p || exit 1; done

test: envs
	@if [ -x tools/ensure-system-deps ]; then tools/ensure-system-deps; fi
	@$(PYTHON) tools/run-tests $(SUITES)

# Only the env that runs tools/demo.py; the demo then builds the envs its steps use (and says so).
demo:
	@PYTHON=$(PYTHON) tools/ensure-venv libs/taar_common --check 2>/dev/null || echo "make demo: building .venv/taar_common first (runs the demo; ~1 min with pyspark's wheel, built once)"
	@PYTHON=$(PYTHON) tools/ensure-venv libs/taar_common
	@.venv/taar_common/bin/python tools/demo.py $(if $(BUCKET),--bucket $(BUCKET)) $(if $(DATE),--date $(DATE))

# Any job (or taar-fixtures / taar-report) by name, its env built when missing: make run JOB=spark_lite ARGS="-h"
run:
	@test -n "$(JOB)" || { echo 'usage: make run JOB=<job> ARGS="..."   (jobs: $(JOBS))' >&2; exit 2; }
	@bin/taar $(JOB) $(ARGS)

bench: envs
	@$(PYTHON) tools/bench.py

lint: envs
	@.venv/repo/bin/ruff check . && .venv/repo/bin/ruff format --check .
	@$(PYTHON) tools/images.py dockerfiles --check && .venv/repo/bin/hadolint templates/job/Dockerfile jobs/*/Dockerfile
	@$(PYTHON) tools/gen_workflows.py --check && .venv/repo/bin/actionlint

format: envs
	@.venv/repo/bin/ruff format . && .venv/repo/bin/ruff check --fix .

dataproc-bundle:
	@test -n "$(JOB)" || { echo "usage: make dataproc-bundle JOB=spark_lite" >&2; exit 2; }
	@$(PYTHON) tools/dataproc_bundle.py $(JOB)

image:
	@test -n "$(JOB)" || { echo "usage: make image JOB=amodump [BASE_IMAGE=...]" >&2; exit 2; }
	@$(PYTHON) tools/images.py build $(JOB) $(if $(BASE_IMAGE),--base-image $(BASE_IMAGE))

images:
	@$(PYTHON) tools/images.py build $(if $(BASE_IMAGE),--base-image $(BASE_IMAGE))

base-image:
	@$(PYTHON) tools/images.py base-image $(if $(EXTRA_CA_DIR),--extra-ca-dir $(EXTRA_CA_DIR))

test-images: envs
	@$(PYTHON) tools/images.py test $(JOB) $(if $(BASE_IMAGE),--base-image $(BASE_IMAGE))

workflows:
	@$(PYTHON) tools/gen_workflows.py

clean:
	rm -rf .venv .test-results build dist
