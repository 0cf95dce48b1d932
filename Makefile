# isp.ops: everything runs from the venv at .venv (Debian's Python, system site packages so that
# Debian's bcc stays importable). scripts/bootstrap.sh installs what is missing.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
PYTEST := $(PY) -m pytest

.PHONY: help venv test unit integration sanity lint build-check molecule bench demo demo-clean clean

help:
	@echo "make demo        site.yml twice on the lab inventory (emulated CRM, Ubilling and OML APIs; shaper and Asterisk peers in namespaces)"
	@echo "make test        every test layer: pytest, ansible-test sanity, ansible-lint, build, molecule"
	@echo "make bench       benchmarks (ratios against a baseline measured in the same run)"
	@echo "make lint        ansible-lint --profile production"
	@echo "make molecule    every molecule scenario under extensions/molecule/ (localhost, root)"
	@echo "make demo-clean  remove what the demo started"

venv:
	@bash scripts/bootstrap.sh

# pytest exits 5 when it collects no test; that is not a failure of the layer.
unit: venv
	$(PYTEST) tests/unit -q || test $$? -eq 5

integration: venv
	$(PYTEST) tests/integration -q || test $$? -eq 5

sanity: venv
	bash scripts/sanity.sh

lint: venv
	ansible-lint --profile production

build-check: venv
	bash scripts/build-check.sh

# Every scenario molecule finds in extensions/molecule/<name>/molecule.yml (collection mode), in turn;
# each one's destroy runs even after a failed step.
molecule: venv
	molecule test --all

test: venv unit integration sanity lint build-check molecule
	@echo "make test: all layers passed"

bench: venv
	$(PY) tests/benchmarks/topology.py
	$(PY) tests/benchmarks/shaper_apply.py
	$(PY) tests/benchmarks/shaper_throughput.py

demo: venv
	bash scripts/demo.sh

demo-clean:
	bash scripts/demo.sh clean

clean: demo-clean
	rm -rf .build
