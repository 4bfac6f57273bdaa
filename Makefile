# Two commands on a fresh machine with only Python: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.flowmaps-installed

.PHONY: setup demo test lab export readme

setup: $(STAMP)

$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

demo: setup
	$(BIN)/flowmaps_demo --out outputs

test: setup
	OMP_NUM_THREADS=1 $(BIN)/python tests/check_notebooks.py
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest tests/ -q -p no:cacheprovider

lab: setup
	$(BIN)/jupyter lab nbs/

export: setup
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean

readme: setup
	$(BIN)/python tests/check_notebooks.py --write-readme
