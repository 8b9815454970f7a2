# make demo  - create .venv, install, build the example project into output/
# make test  - install the system packages and axe-core the tests need
#              (scripts/setup-test-env.sh), create .venv with test extras, run pytest in parallel
# make bench - run the benchmarks (writes benchmarks/results.md)
# make profile - where one guide's PDF time goes, part by part
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=
# pytest-xdist workers; `make test PYTEST_WORKERS=0` runs in one process
PYTEST_WORKERS ?= auto

.PHONY: demo test bench profile lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(VENV)/.installed $@

# Like `make test`, the setup script runs first (--runtime: Pango, HarfBuzz subsetting, fonts).
demo:
	PYTHON='$(PYTHON)' bash scripts/setup-test-env.sh --runtime
	@$(MAKE) --no-print-directory $(VENV)/.installed
	GUIDEGEN_PLAN_SECRET=$${GUIDEGEN_PLAN_SECRET:-demo-secret-change-me-0123456789} \
	SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-1790000000} \
	$(BIN)/guidegen build --out output
	@echo "Open output/site/index.html and output/guides/"

# The setup script runs first: on a fresh Debian it also installs python3-venv, which making
# .venv needs. It is quick when everything is already installed.
test:
	PYTHON='$(PYTHON)' bash scripts/setup-test-env.sh
	@$(MAKE) --no-print-directory $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet pelican markdown
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

profile: $(VENV)/.installed-test
	$(BIN)/python benchmarks/profile.py $(PROFILE_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check generator tests benchmarks

clean:
	rm -rf output .pytest_cache .hypothesis
