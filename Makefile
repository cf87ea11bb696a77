# The two commands a newcomer needs: `make demo` and `make test`.
# Both create and reuse .venv with the project installed into it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test venv bench ratios clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m idrisk demo --out reports --overwrite

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(VENV)/bin/asv run --quick --python=same --show-stderr

ratios: $(STAMP)
	$(PY) benchmarks/ratios.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
