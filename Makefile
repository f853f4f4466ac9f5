# Everything runs from a fresh clone: the targets install what they need (uv, the project's locked packages, and a
# separate Airflow virtual environment for the runtime tests).
SHELL := /bin/bash
STACK ?= dev
FORMAT ?= text
PROJECT ?= .
PORT ?= 8080
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
AIRFLOW_PYTHON_VERSION := 3.11
# The self-managed image's Python (stackconfig/project_files.py IMAGE_PYTHON; a test ties the two).
IMAGE_PYTHON_VERSION := 3.12
# make image-constraints AIRFLOW_VERSION=x.y.z: resolve (and so offer) one version; without it, every offered one.
AIRFLOW_VERSION ?=
# make cost ASSUME="natGbPerMonth=500 logGbPerMonth=40"; make prices REGION=eu-west-1 ADD=ec2:instance:m7g.large
ASSUME ?=
STRICT ?=
REGION ?=
ADD ?=
KEEP_GOING ?=

.PHONY: pgbouncer graphviz help plan cost prices policy policy-lock diagram bench-plan bench-dag-sync chaos load golden docs manifests local gate test test-fast airflow-lock image-constraints clean

help:
	@echo "make plan STACK=dev [FORMAT=json]   what 'pulumi up' would create, offline (Pulumi's mock engine)"
	@echo "make cost STACK=prod [FORMAT=json] [ASSUME=\"natGbPerMonth=500 ...\"] [STRICT=1]  the stack's monthly estimate from its plan and cost/prices.json"
	@echo "make prices [REGION=eu-west-1] [ADD=key] [KEEP_GOING=1]  cost/prices.json read anew from the AWS Price List (needs the internet, no AWS account)"
	@echo "make diagram STACK=prod            the stack's architecture picture from its plan: docs/diagrams/<stack>.svg, .png (and .dot)"
	@echo "make policy STACK=prod             the policy pack's rules over the offline plan (pulumi preview --policy-pack policy runs them for real)"
	@echo "make bench-plan                    how long make plan takes for dev and prod (prints figures)"
	@echo "make bench-dag-sync                how long 10, 100 and 1,000 DAG files take to reach a pod (prints figures)"
	@echo "make chaos [OUTAGE=90] [FAULTS=..]  faults on the twin (database, scheduler, worker, S3, Secrets Manager, import error): what it did and saw"
	@echo "make load [RUNS=200] [DAG_FILES=50] [TASKS=3]  many DAG runs on the twin: runs completed, tasks lost, latency, throughput"
	@echo "make docs                          write docs/configuration.md anew from the config model"
	@echo "make golden                        write tests/golden/*.json anew after an intended change (review the diff)"
	@echo "make manifests STACK=prod          a self-managed stack's Kubernetes objects as YAML (secrets masked)"
	@echo "make local [PORT=8080] [AIRFLOW_VERSION=x.y.z]  the self-managed Airflow on this machine (no Docker): UI on localhost"
	@echo "make gate STACK=dev                the deployment gate: config, requirements, DAGs and plugins, unit tests"
	@echo "make test                          every test: unit, stack, contract and runtime (real Airflow)"
	@echo "make test-fast                     all but the runtime tests"
	@echo "make policy-lock                   re-resolve policy/requirements.txt (the policy pack's environment)"
	@echo "make airflow-lock                  re-resolve tests/runtime/airflow-requirements.lock"
	@echo "make image-constraints [AIRFLOW_VERSION=x.y.z] [UPGRADE=1]  resolve docker/constraints/<version>.txt (every offered one) after a requirements change, keeping the other pins (UPGRADE=1: all anew)"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# Makefile: a change of how the environment is installed (e.g. compiled to bytecode) installs it again.
.venv/.installed: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --group test --quiet --compile-bytecode
	@touch $@

# checkov pins its own dependencies apart from the project's: it gets a virtual environment of its own.
.venv-checkov/.installed: tests/contract/checkov-requirements.lock | $(UV)
	$(UV) venv --quiet --allow-existing --python $(AIRFLOW_PYTHON_VERSION) .venv-checkov
	$(UV) pip install --quiet --python .venv-checkov/bin/python -r tests/contract/checkov-requirements.lock
	@touch $@

.venv-airflow/.installed: tests/runtime/airflow-requirements.lock | $(UV)
	$(UV) venv --quiet --allow-existing --python $(AIRFLOW_PYTHON_VERSION) .venv-airflow
	$(UV) pip install --quiet --compile-bytecode --python .venv-airflow/bin/python -r tests/runtime/airflow-requirements.lock
	@touch $@

plan: .venv/.installed
	@.venv/bin/python -m offline --stack $(STACK) --format $(FORMAT) --project $(PROJECT)

# The stack's monthly estimate (offline/cost.py over cost/), for the stack's region; the README shows dev's and prod's.
cost: .venv/.installed
	@.venv/bin/python -m offline.cost --stack $(STACK) --format $(FORMAT) $(foreach a,$(ASSUME),--assume $(a)) \
		$(if $(filter 1 true yes,$(STRICT)),--strict)

# The price table read anew from the AWS Price List's bulk offer files (cost/refresh.py); review the diff.
prices: .venv/.installed
	@.venv/bin/python -m cost.refresh $(foreach r,$(REGION),--region $(r)) $(foreach k,$(ADD),--add $(k)) \
		$(if $(filter 1 true yes,$(KEEP_GOING)),--keep-going)

# The stack's picture (offline/diagram.py); the README shows dev's and prod's, which a test holds to the plans.
diagram: .venv/.installed graphviz
	@.venv/bin/python -m offline.diagram --stack $(STACK)

# The policy pack's rules (policy/rules.py) over the offline plan; exits 1 when a mandatory one is broken.
policy: .venv/.installed
	@.venv/bin/python -m offline.policy --stack $(STACK)

# The self-managed deployment on this machine: PostgreSQL, moto, then Airflow from the rendered manifests, on the
# image's Python layer for the stack's Airflow version (built once into .venv-image/<version>).
local: .venv/.installed pgbouncer | $(UV)
	UV=$(UV) .venv/bin/python -m local.twin --port $(PORT) --stack $(STACK) $(if $(AIRFLOW_VERSION),--airflow-version $(AIRFLOW_VERSION))

# How long a plan takes, fresh and warm (figures, no assertions). The virtual environment is compiled to bytecode
# when it is installed: pulumi_aws is large, and compiling it on every run (no writable .pyc) triples a plan's time.
bench-plan: .venv/.installed
	@.venv/bin/python bench/plan_speed.py

# Faults on the twin (local/chaos.py); OUTAGE: seconds the database is away; FAULTS: some of them, comma-separated.
OUTAGE ?= 90
FAULTS ?=
chaos: .venv/.installed pgbouncer | $(UV)
	UV=$(UV) .venv/bin/python -m local.chaos --outage $(OUTAGE) $(if $(FAULTS),--faults $(FAULTS))

# Many DAG runs at once on the twin (local/load.py): figures, and exit 1 if a run did not complete or a task was lost.
RUNS ?= 200
DAG_FILES ?= 50
TASKS ?= 3
load: .venv/.installed pgbouncer | $(UV)
	UV=$(UV) .venv/bin/python -m local.load --runs $(RUNS) --dag-files $(DAG_FILES) --tasks $(TASKS)

# DAG delivery by folder size against moto's S3 behind a 20 ms-per-request proxy (figures, no assertions).
bench-dag-sync: .venv/.installed
	@.venv/bin/python bench/dag_sync_speed.py

# The configuration reference, generated from the config model (tests/contract/test_config_keys.py checks it).
docs: .venv/.installed
	@.venv/bin/python -m stackconfig.reference

# The committed plans of every stack/flavour combination and the bootstrap (tests/stack/test_golden_plans.py).
golden: .venv/.installed
	@.venv/bin/python -m offline.golden

manifests: .venv/.installed
	@.venv/bin/python -m offline --stack $(STACK) --format kubernetes --project $(PROJECT)

# The deployment gate, which Pulumi Deployments runs before every preview and update (docs/deploying.md, "Deploying on git push"): the
# stack file, the requirements against Airflow's constraints, DAG and plugin import on the stack's Airflow, then the
# unit and stack tests. CONSTRAINTS=<file> stands in for Airflow's constraints URL on machines without GitHub.
gate: .venv/.installed .venv-airflow/.installed
	UV=$(UV) .venv/bin/python -m gate --stack $(STACK) \
		$(if $(CONSTRAINTS),--constraints-file $(CONSTRAINTS))
	.venv/bin/python -m pytest -q -m "not runtime and not contract"

# Two workers: the package twin's tests (faults, load) on one while the rest run on the other (tests/conftest.py).
# The twin runs Debian's PgBouncer between Airflow and PostgreSQL, as the cluster does (local/pgbouncer.py).
pgbouncer:
	@command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null 2>&1 \
	      || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null; }; \
	  else echo "the twin needs PgBouncer: sudo apt-get install pgbouncer (Debian, Ubuntu) or brew install pgbouncer"; exit 1; fi; }

# Graphviz's dot renders the diagrams (Debian's package, with the fonts it recommends: the pictures' layout
# depends on them).
graphviz:
	@command -v dot >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq graphviz >/dev/null 2>&1 \
	      || { apt-get update -qq >/dev/null && apt-get install -y -qq graphviz >/dev/null; }; \
	  else echo "the diagrams need Graphviz: sudo apt-get install graphviz (Debian, Ubuntu) or brew install graphviz"; exit 1; fi; }

test: .venv/.installed .venv-airflow/.installed .venv-checkov/.installed pgbouncer graphviz
	UV=$(UV) AIRFLOW_PYTHON=$(CURDIR)/.venv-airflow/bin/python CHECKOV=$(CURDIR)/.venv-checkov/bin/checkov \
		.venv/bin/python -m pytest -n 2 --dist loadgroup

test-fast: .venv/.installed .venv-checkov/.installed
	CHECKOV=$(CURDIR)/.venv-checkov/bin/checkov .venv/bin/python -m pytest -m "not runtime"

# What the Pulumi CLI installs into policy/venv for `--policy-pack policy` (PulumiPolicy.yaml: pip, virtualenv venv).
policy-lock: | $(UV)
	$(UV) pip compile --quiet --no-header --python-version $(AIRFLOW_PYTHON_VERSION) policy/requirements.in \
		-o policy/requirements.txt

airflow-lock: | $(UV)
	$(UV) pip compile --quiet --no-header --python-version $(AIRFLOW_PYTHON_VERSION) \
		tests/runtime/airflow-requirements.in -o tests/runtime/airflow-requirements.lock

# The image installs apache-airflow==<airflow.version> and its requirements file under docker/constraints/<version>.txt
# (linux/amd64, the image's Python). Every offered version anew, or AIRFLOW_VERSION=x.y.z alone (which offers it).
image-constraints: .venv/.installed | $(UV)
	UV=$(UV) .venv/bin/python -m local.image_constraints $(if $(AIRFLOW_VERSION),--airflow-version $(AIRFLOW_VERSION)) $(if $(UPGRADE),--upgrade)

clean:
	rm -rf .venv .venv-airflow .venv-checkov .venv-image .venv-mwaa .tools .build .pytest_cache
