# caseload-sim: `make run` runs the baseline, `make test` runs lint and the tests.
# Both create .venv with a Python >= 3.12 when it is missing (see find-python below).

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SEED   ?= 20210101
MONTHS ?= 36

# A Python >= 3.12: $PYTHON if set, else python3.13/python3.12 on PATH, else pyenv's.
find-python = $(shell \
  for c in "$$PYTHON" python3.13 python3.12 python3 \
           "$$(pyenv root 2>/dev/null)/versions/3.12.1/bin/python3.12" \
           "$$(pyenv root 2>/dev/null)/versions/3.13.0/bin/python3.13" \
           $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
    [ -n "$$c" ] || continue; \
    command -v "$$c" >/dev/null 2>&1 || [ -x "$$c" ] || continue; \
    "$$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo "$$c"; break; }; \
  done)

.PHONY: run test test-slow lint bench bench-batch clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  BASE="$(find-python)"; \
	  if [ -z "$$BASE" ]; then \
	    echo "error: no Python >= 3.12 found. Install one (e.g. 'pyenv install 3.12') or run 'make PYTHON=/path/to/python3.12 ...'." >&2; \
	    exit 1; \
	  fi; \
	  echo "creating $(VENV) with $$BASE"; \
	  "$$BASE" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/caseload run scenarios/baseline.toml --months $(MONTHS) --seed $(SEED) --out results/baseline

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: $(STAMP) lint
	$(PY) -m pytest -q -n 2

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(STAMP)
	$(PY) benchmarks/bench_model.py

bench-batch: $(STAMP)
	$(PY) benchmarks/bench_batch.py

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
