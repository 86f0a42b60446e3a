# caseload-sim: `make run` starts the web UI, `make baseline` runs the baseline on the command line,
# `make test` runs lint and the tests.
# Both create .venv with a Python >= 3.12 when it is missing (see find-python below).

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SEED   ?= 20210101
MONTHS ?= 36
HOST   ?= 127.0.0.1
PORT   ?= 8765
# a GeoJSON file of kecamatan polygons for the Districts page (optional; none is shipped)
BOUNDARIES ?=

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

.PHONY: run baseline test test-slow lint bench bench-batch bench-ui clean setup

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

# The web UI, bound to 127.0.0.1 only. Solara's version check and telemetry are switched off
# (no network at run time); a closed browser tab's session is dropped after 60 s.
run: $(STAMP)
	@echo "caseload-sim web UI: http://$(HOST):$(PORT)  (Ctrl-C stops it)"
	@CASELOAD_BOUNDARIES="$(BOUNDARIES)" SOLARA_TELEMETRY_MIXPANEL_ENABLE=False SOLARA_KERNEL_CULL_TIMEOUT=60s \
	  $(VENV)/bin/solara run app.py --host $(HOST) --port $(PORT) --production --no-open --no-check-version

baseline: $(STAMP)
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

bench-ui: $(STAMP)
	$(PY) benchmarks/bench_ui.py

bench-batch: $(STAMP)
	$(PY) benchmarks/bench_batch.py

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
