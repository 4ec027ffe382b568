# atomint: two commands for users — `make book` and `make test`. Both create .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.atomint-installed
export ATOMINT_DATA ?= $(if $(wildcard ../shared/data/qm9/qm9.npz),$(abspath ../shared/data),)

.PHONY: book test env clean-book chromium cxx
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

env: $(STAMP) cxx

# torch first and alone (CPU wheel), then everything else constrained to the tested stack,
# then schnetpack 2.1.1 without its (sympy-clashing) dependency pins — see ARCHITECTURE.md.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e ".[book,test]"
	$(PY) -m pip install -q -c constraints.txt --no-deps schnetpack==2.1.1
	@touch $(STAMP)

book: $(STAMP)
	$(PY) -m atomint_helpers.book build

test: $(STAMP) chromium cxx
	$(PY) -m pytest -q tests

clean-book:
	rm -rf _build

# Debian's chromium for the browser test of the built book (tests/test_browser.py); once, on first use.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "make: installing chromium (headless browser for tests/test_browser.py) ..."; \
	    $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "make: could not install chromium; tests/test_browser.py will fail under CI"

# A C++ compiler for torch.compile's CPU backend (the cpu profile compiles SchNet's interaction blocks,
# 1.75x faster per step on one thread; without one, training warns and runs eagerly). Once, on first use.
cxx:
	@command -v g++ >/dev/null 2>&1 || command -v c++ >/dev/null 2>&1 || \
	  { echo "make: installing g++ (C++ compiler for torch.compile) ..."; \
	    $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null; } || \
	  echo "make: could not install g++; SchNet training will run without torch.compile"
