# Two commands for a newcomer: `make build` (the main job on the embedded default data) and
# `make test` (the whole test suite). Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEFAULT_DATA := data/online_retail.csv
DEFAULT_PERSONAS := data/online_retail_personas.csv
GENERATOR_SEED ?= 42
WAREHOUSE ?= $(or $(SEGMENTS_DUCKDB_PATH),segments.duckdb)

.PHONY: build build-spark test test-spark test-fast lint install spark-install data report export docs clean

## build: generate the default data if missing; dbt build into a work file, published atomically
## when every model and test passed; then the Parquet copies and CRM audiences, then the report
## (exports first: the audiences a CRM reads must never lag the warehouse because of a figure)
build: install data
	$(BIN)/python -m customer_segments.publish --warehouse $(WAREHOUSE)
	$(BIN)/python -m customer_segments.export --duckdb $(WAREHOUSE) --out exports
	$(BIN)/python -m customer_segments.report --duckdb $(WAREHOUSE) --out reports/segments.html

## build-spark: the same job on a local Spark session (target `spark`, docs/spark.md): every
## model, seed and data test, the dbt Python models in-process, then the Parquet copies in exports/
build-spark: spark-install data
	$(BIN)/python -m customer_segments.spark_runner --exports exports

## spark-install: the `spark` extra (dbt-spark[session], pyspark) once Java is there
spark-install: install
	@command -v java >/dev/null || { echo "Java 17 is needed: apt-get install -y openjdk-17-jre-headless" >&2; exit 1; }
	$(BIN)/python -c "import dbt.adapters.spark, pyspark" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[spark]"

## test: the whole test suite (what CI runs)
test: install
	$(BIN)/pytest -n auto --dist worksteal

## test-spark: the Spark lane: a ~20,000-line file built on DuckDB and on Spark, every table equal
test-spark: spark-install
	$(BIN)/pytest -m spark

## test-fast: the development lane: the library's unit tests and the dbt unit tests
test-fast: install
	$(BIN)/pytest -n auto -m "not integration"

## lint: ruff (lint and format), sqlfluff on the compiled models, dbt-score on their metadata
LINT_WAREHOUSE := target/lint/segments.duckdb
lint: install
	$(BIN)/ruff check python tests bench models
	$(BIN)/ruff format --check python tests bench models
	mkdir -p $(dir $(LINT_WAREHOUSE))
	@# A model that dbt cannot compile is skipped by sqlfluff with a warning: that fails too.
	SEGMENTS_DUCKDB_PATH=$(LINT_WAREHOUSE) $(BIN)/sqlfluff lint models tests/dbt analyses \
		> $(dir $(LINT_WAREHOUSE))sqlfluff.log 2>&1; status=$$?; \
		cat $(dir $(LINT_WAREHOUSE))sqlfluff.log; \
		! grep -q "Skipped file" $(dir $(LINT_WAREHOUSE))sqlfluff.log && exit $$status
	SEGMENTS_DUCKDB_PATH=$(LINT_WAREHOUSE) $(BIN)/dbt-score lint --run-dbt-parse

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,lint]"
	touch $@

# The default data is produced here, deterministically, never downloaded.
data: $(DEFAULT_DATA)

$(DEFAULT_DATA): python/online_retail_generator/generate.py | install
	$(BIN)/python -m online_retail_generator --seed $(GENERATOR_SEED) \
		--out $(DEFAULT_DATA) --personas-out $(DEFAULT_PERSONAS)

report: install
	$(BIN)/python -m customer_segments.report --duckdb $(WAREHOUSE) --out reports/segments.html

export: install
	$(BIN)/python -m customer_segments.export --duckdb $(WAREHOUSE) --out exports

docs: install data
	$(BIN)/dbt docs generate

clean:
	rm -rf target logs reports exports segments.duckdb segments.duckdb.wal
