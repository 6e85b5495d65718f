# Two commands from a fresh clone: `make run` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
QA := $(VENV)/bin/qa
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install run test test-fast index bench clean

install: $(STAMP)

# torch first, pinned to the CPU wheel: otherwise sentence-transformers pulls a multi-GB CUDA build.
# On these machines pip's configuration serves torch==2.13.0 as the CPU wheel; elsewhere run
# `make install TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu` (docs/deploy.md, section 1).
TORCH_INDEX_URL ?=
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "torch==2.13.0" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(PIP) install --quiet -e ".[build,milvus,dev]"
	touch $(STAMP)

index: install
	$(QA) index build --if-stale

run: index
	$(QA) serve --port $(PORT)

test: install
	$(PY) -m pytest

# the edit-test loop: everything but the `slow` marker (real servers, browsers, nginx, Milvus, load
# tools); it still runs the real model and some quick `qa` subprocesses (about a minute)
test-fast: install
	$(PY) -m pytest -m "not slow"

bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PIP) install --quiet -r benchmarks/requirements.txt
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) index/v-* index/current index/.tmp-*
