# The two commands a newcomer needs: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
DEMO_DRONES ?= 25
DEMO_AREA ?= 47.6062,-122.3321,8

# `make run` is a local demo: manage.py's local settings (DEBUG on, no SECRET_KEY needed) for every
# process it starts, and 60x flight speed.
run: export FLIGHT_TIME_SCALE ?= 60

.PHONY: run test test-chaos soak install lint format bench bench-micro clean

$(INSTALLED): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required: set PYTHON=python3.11")'
	@echo "==> creating $(VENV) and installing requirements.txt"
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --progress-bar on -r requirements.txt
	@touch $@

install: $(INSTALLED)

run: install
	@echo "==> migrating the database"
	@$(PY) manage.py migrate --noinput -v1
	@$(PY) manage.py migrate --database packages --noinput -v1
	@echo "==> seeding a demo fleet"
	@$(PY) manage.py seed_fleet --drones $(DEMO_DRONES) --area "$(DEMO_AREA)" --if-empty
	@$(PY) manage.py ensure_demo_admin
	@$(PY) manage.py dev

# checkov and hadolint need their own venv (checkov pins packaging<24, which pytest 9 cannot share).
test: install
	@TOOLS_BIN="$$(bash .ci/install-lint-tools.sh | tail -n1)" && \
	  PATH="$$TOOLS_BIN:$$PATH" $(PY) -m pytest $(PYTEST_ARGS)

# The fault-injection scenarios and their ledger (tests/chaos/README.md): CHAOS=full (default,
# about half an hour) or short (CI). Each scenario writes tests/chaos/results/<scenario>.json.
CHAOS ?= full
test-chaos: install
	$(PY) -m pytest tests/chaos --chaos $(CHAOS) -p no:cacheprovider -rA $(PYTEST_ARGS)

# A steady load for SOAK_SECONDS (after a warm-up): no failed request, memory flat per role.
SOAK_SECONDS ?= 600
soak: install
	$(PY) -m pytest tests/chaos/test_soak.py --soak-seconds $(SOAK_SECONDS) \
	  --timeout $$(( $(SOAK_SECONDS) * 2 + 600 )) -p no:cacheprovider -s $(PYTEST_ARGS)

lint: install
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/lint-imports --no-cache

format: install
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

# The system's throughput vs a bare Django view, in one bounded run (bench/README.md).
bench: install
	@$(PY) bench/throughput.py $(BENCH_ARGS)

# Every focused micro-benchmark (publish, auth, telemetry, memory, summaries, assignment).
bench-micro: install
	@for script in bench/*.py; do [ "$$script" = bench/throughput.py ] && continue; \
	  echo "==> $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
