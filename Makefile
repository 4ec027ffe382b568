# atomint: two commands for users — `make book` and `make test`. Both create .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.atomint-installed
export ATOMINT_DATA ?= $(if $(wildcard ../shared/data/qm9/qm9.npz),$(abspath ../shared/data),)

.PHONY: book test env clean-book

env: $(STAMP)

# torch first and alone (CPU wheel), then everything else constrained to the tested stack,
# then schnetpack 2.1.1 without its (sympy-clashing) dependency pins — see ../shared/STACK.md.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e ".[book,test]"
	$(PY) -m pip install -q -c constraints.txt --no-deps schnetpack==2.1.1
	@touch $(STAMP)

book: $(STAMP)
	$(PY) -m atomint_helpers.book build

test: $(STAMP)
	$(PY) -m pytest -q tests

clean-book:
	rm -rf _build
