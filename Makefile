# The two commands a newcomer needs: `make demo` and `make test`.
#   make demo   creates and reuses .venv (the project installed editable, with the dev extra)
#   make test   builds the wheel and tests it as a user would get it:
#     1. .venv-test: pandas>=3 and the wheel with its test and splink extras; the main suite runs from a
#        directory outside the source tree, so `import idrisk` is the installed wheel (a file
#        missing from the package data fails), plus the doctests of every idrisk module;
#     2. .venv-crosscheck: pandas<3 and the crosscheck extra; the recordlinkage cross-checks
#        in tests/crosscheck.
#   make test-main PYTEST_ARGS='-x -k suda'   step 1 only, with extra pytest arguments
#        (TEST_WORKERS=0 runs the main suite in one process, without workers).
#   make fuzz   the property-based fuzzing of the readers, config and result JSON
#               (tests/test_hardening_fuzz*.py) at 2000 examples a test, in .venv (FUZZ_EXAMPLES=...).
# Environments are created once and refreshed when pyproject.toml changes.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TVENV  := .venv-test
TPY    := $(TVENV)/bin/python
TSTAMP := $(TVENV)/.installed
XVENV  := .venv-crosscheck
XPY    := $(XVENV)/bin/python
XSTAMP := $(XVENV)/.installed
WHEELS := build/wheelhouse
PYTEST_ARGS ?=
# the main suite runs on this many pytest-xdist workers; the Spark tests all on one (one JVM)
TEST_WORKERS ?= 2
# pytest run from outside the source tree, configured by this pyproject.toml
PYTEST_OUT = -c $(CURDIR)/pyproject.toml --rootdir=$(CURDIR) -p no:cacheprovider

.PHONY: demo test test-main test-crosscheck wheel venv bench ratios fuzz clean check-python check-java

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "idrisk needs Python >= 3.11 (found: $$($(PYTHON) --version 2>&1)); set PYTHON=python3.11" >&2; exit 2; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's python3-venv (needed to create the environments)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  else echo "Python's venv module is missing: run 'sudo apt-get install python3-venv' first" >&2; exit 2; fi; }

# the Spark tests (tests/spark) start a local Spark session, which needs a Java runtime (>= 17)
check-java:
	@command -v java >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's default-jre-headless (Java for the local Spark session of the tests)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless; \
	  else echo "Java is missing (the Spark tests need it): run 'sudo apt-get install default-jre-headless' first" >&2; exit 2; fi; }

$(STAMP): pyproject.toml
	@test -x $(PY) || $(MAKE) --no-print-directory check-python
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# dependencies only; the wheel itself is reinstalled by every run
$(TSTAMP): pyproject.toml
	@test -x $(TPY) || $(MAKE) --no-print-directory check-python
	test -x $(TPY) || $(PYTHON) -m venv $(TVENV)
	$(TPY) -m pip install --quiet --upgrade pip
	$(TPY) -m pip install --quiet 'pandas>=3' '.[test,splink,spark,anonymise]'
	touch $(TSTAMP)

$(XSTAMP): pyproject.toml
	@test -x $(XPY) || $(MAKE) --no-print-directory check-python
	test -x $(XPY) || $(PYTHON) -m venv $(XVENV)
	$(XPY) -m pip install --quiet --upgrade pip
	$(XPY) -m pip install --quiet '.[crosscheck]'
	touch $(XSTAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m idrisk demo --out reports --overwrite

wheel: $(TSTAMP)
	rm -rf $(WHEELS)
	$(TPY) -m pip wheel --quiet --no-deps --wheel-dir $(WHEELS) .

test: test-main test-crosscheck

test-main: wheel check-java
	$(TPY) -m pip install --quiet --no-deps --force-reinstall $(WHEELS)/idrisk-*.whl
	@tmp=$$(mktemp -d) && cd $$tmp && \
	  $(CURDIR)/$(TPY) -c 'import idrisk, sys; f = idrisk.__file__; print("testing", f); sys.exit(f.startswith("$(CURDIR)/idrisk/"))' && \
	  $(CURDIR)/$(TPY) -m pytest $(PYTEST_OUT) -q $(CURDIR)/tests --ignore=$(CURDIR)/tests/crosscheck \
	    -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS) && \
	  $(CURDIR)/$(TPY) -m pytest $(PYTEST_OUT) -q --doctest-modules --pyargs idrisk; \
	  rc=$$?; cd $(CURDIR); rm -rf $$tmp; exit $$rc

test-crosscheck: $(XSTAMP) wheel
	$(XPY) -m pip install --quiet --no-deps --force-reinstall $(WHEELS)/idrisk-*.whl
	@tmp=$$(mktemp -d) && cd $$tmp && \
	  $(CURDIR)/$(XPY) -m pytest $(PYTEST_OUT) -q $(CURDIR)/tests/crosscheck -m crosscheck $(PYTEST_ARGS); \
	  rc=$$?; cd $(CURDIR); rm -rf $$tmp; exit $$rc

FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	IDRISK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -p no:cacheprovider -q tests/test_hardening_fuzz.py \
	  tests/test_hardening_fuzz_readers.py $(PYTEST_ARGS)

bench: $(STAMP)
	$(VENV)/bin/asv run --quick --python=same --show-stderr

# every benchmarks/ratios_*.py, each against its baseline timed in the same run (RATIOS_ARGS=--quick)
ratios: $(STAMP)
	$(PY) benchmarks/ratios.py $(RATIOS_ARGS)

clean:
	rm -rf $(VENV) $(TVENV) $(XVENV) build *.egg-info .pytest_cache
