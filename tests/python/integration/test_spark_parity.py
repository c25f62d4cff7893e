"""Issue 13: the project built on Spark equals the project built on DuckDB, table by table.

One generated file of about 20,000 lines is built twice: with DuckDB (dbt's programmatic runner,
as the other integration tests) and with ``python -m customer_segments.spark_runner`` on a local
Spark session (a process of its own, as ``make build-spark`` runs it, with the documented
environment variables: ``RAW_ORDERS_PATH`` and the Spark warehouse and metastore folders). Then
every model and seed of the manifest must be equal (:mod:`customer_segments.parity`: rows,
columns, types, pennies, labels) and the exports must be the same files with the same columns.

Marked ``spark``: left out of ``make test``, run by ``make test-spark`` (Java 17 and the
``spark`` extra).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from customer_segments.export import DuckDBMarts, export_build
from customer_segments.parity import compare_builds, format_report, tables_from_manifest

from .conftest import PROJECT_DIR, generate, run_dbt

pytestmark = pytest.mark.spark

LINES = 20_000
SEED = 7


@pytest.fixture(scope="module")
def java() -> None:
    if shutil.which("java") is None:
        pytest.fail("Java 17 is needed: apt-get install -y openjdk-17-jre-headless")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("spark_data"), SEED, lines=LINES)[0]


def _run_spark(folder: Path, raw_orders_path: Path, exports: Path) -> subprocess.CompletedProcess:
    """``make build-spark``'s command, with every folder it writes inside ``folder``."""
    env = {
        **os.environ,
        "RAW_ORDERS_PATH": str(raw_orders_path),
        "SEGMENTS_SPARK_WAREHOUSE_DIR": str(folder / "spark-warehouse"),
        "SEGMENTS_SPARK_METASTORE_DIR": str(folder / "metastore_db"),
    }
    command = [
        sys.executable,
        "-m",
        "customer_segments.spark_runner",
        "--exports",
        str(exports),
        "--unit-tests",
        "--",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(folder / "target"),
        "--log-path",
        str(folder / "logs"),
    ]
    return subprocess.run(
        command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=1800
    )


@pytest.fixture(scope="module")
def duckdb_build(data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The DuckDB warehouse of ``data`` (every model, seed, unit and data test) and its exports."""
    folder = tmp_path_factory.mktemp("duckdb_build")
    run = run_dbt(["build"], folder, data)
    assert run.returncode == 0, run.output[-5000:]
    with DuckDBMarts(run.warehouse) as source:
        export_build(source, folder / "exports")
    return run.warehouse, folder / "exports"


@pytest.fixture(scope="module")
def spark_build(java, data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the Spark build of ``data``: spark-warehouse, target, exports."""
    folder = tmp_path_factory.mktemp("spark_build")
    exports = folder / "exports"
    exports.mkdir()
    (exports / "left_by_an_earlier_build.parquet").write_text("replaced with the folder")
    completed = _run_spark(folder, data, exports)
    (folder / "spark_runner.log").write_text(completed.stdout + completed.stderr)
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-6000:]
    return folder


def test_every_model_and_seed_equals_duckdbs(duckdb_build, spark_build: Path):
    tables = tables_from_manifest(spark_build / "target" / "manifest.json")
    # Every model and seed of the project, whatever is added later.
    names = {table.name for table in tables}
    assert len(tables) >= 44
    assert {"stg_online_retail__order_lines", "fct_order_line_audit", "dim_customer_segments"} <= (
        names
    )
    assert {"int_cluster_k_evaluation", "cluster_centroids", "fct_segment_drift"} <= names
    assert {"cluster_personas", "rfm_segments"} <= names
    diffs = compare_builds(
        f"duckdb:{duckdb_build[0]}", f"spark:{spark_build / 'spark-warehouse'}", tables
    )
    report = format_report(diffs)
    (spark_build / "parity.txt").write_text(report)
    print(report)
    assert all(diff.equal for diff in diffs), report
    # The comparison saw real content: the audit counts every raw line on both sides.
    by_name = {diff.table: diff for diff in diffs}
    assert by_name["stg_online_retail__order_lines"].rows_right == LINES
    assert by_name["dim_customer_segments"].rows_right > 100


def test_the_exports_are_the_same_files_and_columns(duckdb_build, spark_build: Path):
    duckdb_exports, spark_exports = duckdb_build[1], spark_build / "exports"

    def files(folder: Path) -> list[str]:
        return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())

    # The folder was replaced whole: the earlier build's file is gone, nothing half-written left.
    assert files(spark_exports) == files(duckdb_exports)
    assert len(files(spark_exports)) > 19
    assert not list(spark_build.glob(".exports*"))
    for name in files(duckdb_exports):
        if name.endswith(".parquet"):
            duck, spark = pq.read_table(duckdb_exports / name), pq.read_table(spark_exports / name)
            assert spark.schema.remove_metadata() == duck.schema.remove_metadata(), name
            assert spark.num_rows == duck.num_rows, name
        else:
            # The audiences' CSV files: the same customers, values and order, to the byte.
            assert (spark_exports / name).read_bytes() == (duckdb_exports / name).read_bytes(), name


def test_a_failed_step_publishes_nothing(java, tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "fct_segment_summary.parquet").write_text("the previous build's")
    missing = tmp_path / "no_such_file.csv"
    completed = _run_spark(tmp_path, missing, exports)
    assert completed.returncode == 1
    message = completed.stderr
    assert "spark build failed: step 'dbt build (" in message, message[-3000:]
    assert "Raw orders file not found" in message and str(missing) in message
    assert f"{exports} is unchanged" in message
    assert [path.name for path in exports.iterdir()] == ["fct_segment_summary.parquet"]
    assert not list(tmp_path.glob(".exports*"))
