# Two commands for a newcomer: `make build` (the main job on the embedded default data) and
# `make test` (the whole test suite). Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEFAULT_DATA := data/online_retail.csv
DEFAULT_PERSONAS := data/online_retail_personas.csv
GENERATOR_SEED ?= 42

.PHONY: build test install data docs clean

build: install data
	$(BIN)/dbt build

test: install
	$(BIN)/pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# The default data is produced here, deterministically, never downloaded.
data: $(DEFAULT_DATA)

$(DEFAULT_DATA): | install
	$(BIN)/python -m customer_segments.generate --seed $(GENERATOR_SEED) \
		--out $(DEFAULT_DATA) --personas-out $(DEFAULT_PERSONAS)

docs: install data
	$(BIN)/dbt docs generate

clean:
	rm -rf target logs segments.duckdb segments.duckdb.wal
