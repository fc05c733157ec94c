# Two entry points for a fresh clone: `make demo` and `make test`.
# Everything they need is installed from here: a virtualenv with the project and its
# test extras, and (as root) the Debian packages the tests use (Slurm, munge, b3sum, graphviz,
# chromium).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.naga-installed
# `make test-pythons`: the versions to run (each in .venvs/py3XY), extra pytest arguments,
# and PYTHONS_REQUIRED=1 to fail rather than skip a version this machine lacks.
PYTHONS ?= 3.10 3.11 3.12 3.13
PYTEST_ARGS ?=
PYTHONS_REQUIRED ?= 0

.PHONY: venv system demo test test-pythons lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

system:
	bash scripts/setup-system.sh

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP) system
	$(PY) -m pytest -q

# The suite under every supported Python found here, one summary line per version, e.g.
#   make test-pythons PYTHONS="3.10 3.13" PYTEST_ARGS='-m "not slurm and not server"'
test-pythons: system
	PYTHONS="$(PYTHONS)" PYTHONS_REQUIRED="$(PYTHONS_REQUIRED)" bash scripts/test-pythons.sh $(PYTEST_ARGS)

# The test apps are users' scripts: mypy checks them as users would, one folder at a time
# (each folder is its own project, and two of them have a train.py).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy naga hydra_plugins
	for dir in tests/apps tests/apps/*/; do $(VENV)/bin/mypy $${dir%/}/*.py || exit 1; done

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[test,bench]'
	bash scripts/setup-system.sh
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .venvs .naga-demo .pytest_cache .ruff_cache .hypothesis
