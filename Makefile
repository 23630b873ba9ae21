# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Tests and their fixture modules live in environments of their own, so that `make run` after
# `make test` serves the example plugins only. A second one proves that modules pinning
# webargs~=5.5.3 keep working.
VENVT := .venv-test
BINT := $(VENVT)/bin
VENV5 := .venv-webargs5
TEST_MODULES := -e plugins/demo -e plugins/iris -e plugins/poet -e tests/compat/compatmod -e tests/compat/corpus
PIP_FLAGS := --quiet --disable-pip-version-check
PORT ?= 5000

.PHONY: run test test-main test-webargs5 lint venv clean bench

$(BIN)/deepaas-run: pyproject.toml plugins/demo/pyproject.toml plugins/iris/pyproject.toml \
		plugins/poet/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) -e . -e plugins/demo -e plugins/iris -e plugins/poet
	touch $@

venv: $(BIN)/deepaas-run

run: venv
	$(BIN)/deepaas-run --listen-ip 127.0.0.1 --listen-port $(PORT)

FIXTURE_PROJECTS := pyproject.toml plugins/demo/pyproject.toml plugins/iris/pyproject.toml \
	plugins/poet/pyproject.toml \
	tests/compat/compatmod/pyproject.toml tests/compat/corpus/pyproject.toml

$(VENVT)/.test-deps: $(FIXTURE_PROJECTS)
	$(PYTHON) -m venv $(VENVT)
	$(BINT)/pip install $(PIP_FLAGS) -e '.[test,ray,postgres]' $(TEST_MODULES)
	@# The dashboard's end-to-end tests drive Debian's Chromium (never a downloaded browser);
	@# the shared job store's tests start Debian's PostgreSQL server themselves.
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get update -qq && apt-get install -y -qq postgresql)
	touch $@

$(VENV5)/.test-deps: $(FIXTURE_PROJECTS)
	$(PYTHON) -m venv $(VENV5)
	$(VENV5)/bin/pip install $(PIP_FLAGS) -e '.[test]' $(TEST_MODULES) \
		'webargs==5.5.3'
	touch $@

lint: $(VENVT)/.test-deps
	$(BINT)/ruff check deepaas tests plugins bench
	$(BINT)/mypy deepaas

test-main: $(VENVT)/.test-deps
	$(BINT)/python -m pytest --cov=deepaas --cov-report=term:skip-covered --cov-fail-under=85

test-webargs5: $(VENV5)/.test-deps
	$(VENV5)/bin/python -c 'import webargs; assert webargs.__version__ == "5.5.3", webargs.__version__'
	@# The browser and cluster tests ran once already; this run is about webargs 5, so the
	@# tests of what never parses a module's arguments (job stores, webhook deliveries,
	@# storage fetches, the server process's start and stop) run once too.
	$(VENV5)/bin/python -m pytest -q -m "not e2e and not cluster" --ignore=tests/jobs \
		--ignore=tests/webhooks --ignore=tests/storage --ignore=tests/cmd/test_stopping.py \
		--ignore=tests/cmd/test_run.py --ignore=tests/cmd/test_job_index.py

test: lint test-main test-webargs5

# LitServe, what the streaming benchmark compares against, gets an environment of its own: it
# is never a dependency of deepaas. Without a package index the benchmark measures deepaas only.
VENVB := .venv-bench
$(VENVB)/.litserve:
	$(PYTHON) -m venv $(VENVB)
	$(VENVB)/bin/pip install $(PIP_FLAGS) litserve && touch $@ || \
		echo "LitServe could not be installed: bench/stream_bench.py will measure deepaas alone"

# Benchmarks print ratios and timings measured in one run; results go in the README.
bench: venv $(VENVB)/.litserve
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/predict_bench.py
	$(BIN)/python bench/jobs_bench.py
	$(BIN)/python bench/remote_bench.py
	$(BIN)/python bench/loop_bench.py
	$(BIN)/python bench/index_bench.py
	$(BIN)/python bench/stream_bench.py --litserve-python $(VENVB)/bin/python

clean:
	rm -rf $(VENV) $(VENVT) $(VENV5) $(VENVB) *.egg-info plugins/*/*.egg-info tests/compat/*/*.egg-info
