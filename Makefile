# Two set-up commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch is an optional extra; the tests exercise the torch backends when it is there.
# On this project's machines `torch==2.13.0` installs a CPU build from local disk.
# `make test TORCH=` skips it.
TORCH ?= torch==2.13.0
# torchmetrics is the SI-SDR reference of the tests; it needs torch, so it comes with it
TORCHMETRICS ?= $(if $(TORCH),torchmetrics==1.9.0)
PYTEST_ARGS ?=

.PHONY: venv install demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

venv: $(BIN)/python

install: venv
	$(BIN)/python -m pip install -q -e .

demo: install
	$(BIN)/mssoracle eval --out mssoracle-out

test: venv
	$(BIN)/python -m pip install -q -e '.[test]' $(TORCH) $(TORCHMETRICS)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python benchmarks/bench_bsseval.py
	$(BIN)/python benchmarks/bench_eval.py
	$(BIN)/python benchmarks/bench_nsgt.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache mssoracle-out
