"""The atomic publish step, with a stand-in for dbt that writes a small warehouse or fails."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import duckdb
import pytest

from customer_segments.export import export_marts
from customer_segments.publish import build_and_publish, work_file_for

FAKE_DBT = """#!{python}
import os, sys, duckdb
path = os.environ["SEGMENTS_DUCKDB_PATH"]
with duckdb.connect(path) as connection:
    connection.execute("create table main.marker as select {value} as build")
sys.exit({exit_code})
"""


def _fake_dbt(tmp_path: Path, value: int, exit_code: int) -> Path:
    script = tmp_path / f"dbt_{value}_{exit_code}"
    script.write_text(FAKE_DBT.format(python=sys.executable, value=value, exit_code=exit_code))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def _build_marker(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute("select build from main.marker").fetchall()[0][0]


def test_success_publishes_and_leaves_no_work_file(tmp_path: Path):
    warehouse = tmp_path / "segments.duckdb"
    assert build_and_publish(warehouse, dbt_executable=_fake_dbt(tmp_path, 1, 0)) == 0
    assert _build_marker(warehouse) == 1
    assert not work_file_for(warehouse).exists()


def test_failure_keeps_the_published_warehouse(tmp_path: Path):
    warehouse = tmp_path / "segments.duckdb"
    build_and_publish(warehouse, dbt_executable=_fake_dbt(tmp_path, 1, 0))
    assert build_and_publish(warehouse, dbt_executable=_fake_dbt(tmp_path, 2, 1)) == 1
    assert _build_marker(warehouse) == 1
    assert not work_file_for(warehouse).exists()


def test_open_reader_keeps_its_snapshot_and_new_readers_see_the_new_build(tmp_path: Path):
    warehouse = tmp_path / "segments.duckdb"
    build_and_publish(warehouse, dbt_executable=_fake_dbt(tmp_path, 1, 0))
    with duckdb.connect(str(warehouse), read_only=True) as reader:
        assert build_and_publish(warehouse, dbt_executable=_fake_dbt(tmp_path, 2, 0)) == 0
        assert reader.execute("select build from main.marker").fetchall()[0][0] == 1
    assert _build_marker(warehouse) == 2


def test_export_names_a_missing_warehouse_and_a_missing_mart(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="nothing.duckdb"):
        export_marts(tmp_path / "nothing.duckdb", tmp_path / "out")
    warehouse = tmp_path / "segments.duckdb"
    build_and_publish(warehouse, dbt_executable=_fake_dbt(tmp_path, 1, 0))
    with pytest.raises(ValueError, match="main.dim_customer_segments"):
        export_marts(warehouse, tmp_path / "out")
    written = export_marts(warehouse, tmp_path / "out", marts=["marker"])
    assert duckdb.sql(f"select build from read_parquet('{written[0]}')").fetchall() == [(1,)]
