# make demo  - create .venv, install, build the example project into output/
# make test  - install the system packages and axe-core the tests need
#              (scripts/setup-test-env.sh), create .venv with test extras, run pytest in parallel
# make bench - run the benchmarks (writes benchmarks/results.md); BENCH_ARGS=--scaling adds
#              guides/s for --jobs 1, 2, 4 ... cores, --big peak RSS at 2,000 runners
# make bench-scaling - only the --jobs scaling figures (printed)
# make profile - where one guide's PDF time goes, part by part
# make lock  - re-resolve requirements.lock (the exact versions make test, make demo and the
#              container image install) with pip-compile; LOCK_ARGS=--upgrade takes new releases
# make dist  - the wheel and sdist into dist/, checked with twine
# make i18n  - refresh locales/messages.pot, merge it into every catalog, check them and
#              list what is left to translate (guidegen i18n ...)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=
# pytest-xdist workers; `make test PYTEST_WORKERS=0` runs in one process
PYTEST_WORKERS ?= auto

# pyproject.toml's ranges stay loose for people who install guidegen as a library; this lock
# pins what CI tested. pip's -c constrains versions without adding packages, so one lock
# serves the runtime install and the one with the test and dev extras.
LOCK := requirements.lock

.PHONY: demo test bench bench-scaling profile lint clean lock dist i18n

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[test,dev]'
	touch $(VENV)/.installed $@

# Like `make test`, the setup script runs first (--runtime: Pango, HarfBuzz subsetting, fonts).
demo:
	PYTHON='$(PYTHON)' bash scripts/setup-test-env.sh --runtime
	@$(MAKE) --no-print-directory $(VENV)/.installed
	GUIDEGEN_PLAN_SECRET=$${GUIDEGEN_PLAN_SECRET:-demo-secret-change-me-0123456789} \
	SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-1790000000} \
	GUIDEGEN_AS_OF=$${GUIDEGEN_AS_OF:-2026-09-21} \
	$(BIN)/guidegen build --out output
	@echo "Open output/site/index.html and output/guides/"

# The setup script runs first: on a fresh Debian it also installs python3-venv, which making
# .venv needs. It is quick when everything is already installed.
test:
	PYTHON='$(PYTHON)' bash scripts/setup-test-env.sh
	@$(MAKE) --no-print-directory $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Pelican (pip) and Debian's Hugo (apt, when missing; needs root) are the site bench's
# yardsticks (benchmarks/site_edit.py); without Hugo the bench runs and says so.
bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet pelican markdown
	@command -v hugo >/dev/null 2>&1 || apt-get install -y -qq hugo >/dev/null 2>&1 \
	    || { apt-get update -qq && apt-get install -y -qq hugo >/dev/null; } \
	    || echo "no hugo (apt-get install hugo): the site bench runs without it"
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# Make takes no --scaling of its own: `make bench BENCH_ARGS=--scaling` or this target
bench-scaling: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py --scaling-only $(BENCH_ARGS)

profile: $(VENV)/.installed-test
	$(BIN)/python benchmarks/profile.py $(PROFILE_ARGS)

# pip-compile keeps the pins already in the lock that still satisfy pyproject.toml (so the
# versions CI tested stay until someone asks for newer ones) and writes this command into
# the lock's header. It needs the network (PyPI), as any resolver does. Only pip-tools is
# installed first: a pyproject.toml the old lock no longer fits must still be lockable.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(LOCK) pip-tools
	CUSTOM_COMPILE_COMMAND='make lock' $(BIN)/pip-compile --quiet --allow-unsafe \
	    --strip-extras --no-emit-index-url --no-emit-find-links --extra test --extra dev \
	    --output-file $(LOCK) $(LOCK_ARGS) pyproject.toml

dist: $(VENV)/.installed-test
	rm -rf dist
	$(BIN)/python -m build --outdir dist
	$(BIN)/python -m twine check --strict dist/*

i18n: $(VENV)/.installed
	$(BIN)/guidegen i18n extract
	$(BIN)/guidegen i18n update
	$(BIN)/guidegen i18n compile
	$(BIN)/guidegen i18n status

lint: $(VENV)/.installed-test
	$(BIN)/ruff check generator tests benchmarks

clean:
	rm -rf output .pytest_cache .hypothesis build dist
