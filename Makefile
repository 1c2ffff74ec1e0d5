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

.PHONY: venv install demo test bench clean figures

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

venv: $(BIN)/python

install: venv
	$(BIN)/python -m pip install -q -e .

# the figure extra (matplotlib, scikit-posthocs) for the report; the core package stays light
demo: install
	$(BIN)/python -m pip install -q -e '.[plots]'
	$(BIN)/mssoracle eval --out mssoracle-out
	$(BIN)/mssoracle report mssoracle-out --out mssoracle-out/report.html

test: venv
	$(BIN)/python -m pip install -q -e '.[test]' $(TORCH) $(TORCHMETRICS)
	sh tests/ensure_browser.sh   # Debian's chromium for the report's browser test (skipped where it cannot be had)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python benchmarks/bench_bsseval.py
	$(BIN)/python benchmarks/bench_eval.py
	$(BIN)/python benchmarks/bench_nsgt.py
	$(BIN)/python benchmarks/bench_search.py

# the README's boxplot of the demo (docs/boxplot-demo.png)
figures: install
	$(BIN)/python -m pip install -q -e '.[plots]'
	$(BIN)/mssoracle eval --out mssoracle-out
	$(BIN)/mssoracle plot mssoracle-out --metrics SDR,SIR --dpi 80 --out docs/boxplot-demo.png

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache mssoracle-out
