"""The customer-segments-cluster command on a temporary DuckDB warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from customer_segments.cli import DEFAULT_SCHEMA, OWNER_COMMENT, main
from customer_segments.clustering import (
    TABLE_NAMES,
    build_centroids,
    build_customer_clusters,
    run_segmentation,
)
from test_clustering import SEED_FILE, persona_rfm


def make_warehouse(path: Path, rfm: pd.DataFrame) -> Path:
    """A DuckDB file with ``main.fct_customer_rfm`` typed like the dbt mart."""
    with duckdb.connect(str(path)) as connection:
        connection.register("rfm_frame", rfm.drop(columns="planted"))
        connection.execute(
            """
            create table main.fct_customer_rfm as
            select
                customer_id::bigint as customer_id,
                recency_days::integer as recency_days,
                tenure_days::integer as tenure_days,
                frequency::integer as frequency,
                monetary::decimal(18, 2) as monetary,
                gross_revenue::decimal(18, 2) as gross_revenue
            from rfm_frame
            """
        )
    return path


def dbt_built_tables(path: Path, comment: str | None) -> None:
    """The four output names in ``main`` as dbt leaves them: tables with its description."""
    with duckdb.connect(str(path)) as connection:
        for name in TABLE_NAMES.values():
            connection.execute(f"create table main.{name} as select 'dbt' as built_by")
            if comment is not None:
                connection.execute(f"comment on table main.{name} is '{comment}'")


def comments(path: Path, schema: str) -> dict[str, str | None]:
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute(
            "select table_name, comment from duckdb_tables() where schema_name = ?", [schema]
        ).fetchall()
    return dict(rows)


def read(path: Path, schema: str, table: str) -> pd.DataFrame:
    # Fully qualified: the file segments.duckdb is also a catalog called "segments".
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.sql(f"select * from {path.stem}.{schema}.{table}").df()


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "segments.duckdb", persona_rfm(n_per=100, seed=5))


def test_help_lists_the_options(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for option in [
        "--duckdb",
        "--rfm-table",
        "--personas",
        "--k",
        "--k-min",
        "--k-max",
        "--min-customers",
        "--random-state",
        "--schema",
        "--replace",
    ]:
        assert option in out
    assert "default: segments_cli" in " ".join(out.split())


def test_the_k_range_and_the_minimum_reach_the_library(warehouse, capsys):
    args = ["--duckdb", str(warehouse), "--personas", str(SEED_FILE)]
    assert main([*args, "--k-min", "5", "--k-max", "6"]) == 0
    assert read(warehouse, "segments_cli", "cluster_k_evaluation")["k"].tolist() == [5, 6]
    assert main([*args, "--min-customers", "1000"]) == 1
    assert "cluster_min_customers = 1000" in capsys.readouterr().err


def test_writes_the_tables_the_library_computes(warehouse, capsys):
    args = ["--duckdb", str(warehouse), "--personas", str(SEED_FILE), "--schema", "segments"]
    assert main(args) == 0
    assert "chosen by the rule" in capsys.readouterr().out
    rfm = read(warehouse, "main", "fct_customer_rfm")
    expected = run_segmentation(rfm, pd.read_csv(SEED_FILE), k="auto", random_state=42)
    for key, name in TABLE_NAMES.items():
        written = read(warehouse, "segments", name)
        pd.testing.assert_frame_equal(written, expected[key], check_dtype=False)
    labels = read(warehouse, "segments", "customer_clusters")
    assert sorted(labels["customer_id"]) == sorted(rfm["customer_id"])
    # Running again replaces the tables instead of failing or appending.
    assert main([*args, "--k", "3"]) == 0
    assert len(read(warehouse, "segments", "cluster_centroids")) == 3
    assert len(read(warehouse, "segments", "customer_clusters")) == len(rfm)


def test_writes_into_its_own_schema_by_default_and_marks_its_tables(warehouse, capsys):
    assert main(["--duckdb", str(warehouse), "--personas", str(SEED_FILE), "--k", "3"]) == 0
    out = capsys.readouterr().out
    for name in TABLE_NAMES.values():
        assert f"wrote {DEFAULT_SCHEMA}.{name} (" in out
    assert comments(warehouse, "main") == {"fct_customer_rfm": None}  # main: nothing new
    marks = comments(warehouse, DEFAULT_SCHEMA)
    assert sorted(marks) == sorted(TABLE_NAMES.values())
    expected = f"{OWNER_COMMENT} from main.fct_customer_rfm (k=3, random_state=42, n_init=10)"
    assert set(marks.values()) == {expected}


@pytest.mark.parametrize(
    "comment", ["One row per cluster of the final k-means.", None], ids=["with-docs", "no-docs"]
)
def test_refuses_to_overwrite_tables_it_did_not_write(warehouse, capsys, comment):
    dbt_built_tables(warehouse, comment)
    args = ["--duckdb", str(warehouse), "--personas", str(SEED_FILE), "--schema", "main"]
    assert main(args) == 1
    error = capsys.readouterr().err
    for name in TABLE_NAMES.values():
        assert f"table main.{name}" in error
    assert "refusing to overwrite" in error and "pass --replace" in error
    for name in TABLE_NAMES.values():  # untouched
        assert read(warehouse, "main", name)["built_by"].tolist() == ["dbt"]
        assert comments(warehouse, "main")[name] == comment


def test_refuses_when_a_single_name_is_taken_and_writes_nothing(warehouse, capsys):
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(f"create schema {DEFAULT_SCHEMA}")
        connection.execute(f"create view {DEFAULT_SCHEMA}.cluster_centroids as select 1 as x")
    assert main(["--duckdb", str(warehouse), "--personas", str(SEED_FILE)]) == 1
    error = capsys.readouterr().err
    assert f"refusing to overwrite view {DEFAULT_SCHEMA}.cluster_centroids:" in error
    assert "cluster_k_evaluation" not in error
    assert comments(warehouse, DEFAULT_SCHEMA) == {}  # no table written


def test_replace_overwrites_dbt_tables_and_a_view(warehouse, capsys):
    dbt_built_tables(warehouse, "The fitted transform, one row per feature.")
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("drop table main.cluster_centroids")
        connection.execute("create view main.cluster_centroids as select 'dbt' as built_by")
    args = [
        "--duckdb",
        str(warehouse),
        "--personas",
        str(SEED_FILE),
        "--schema",
        "main",
        "--k",
        "3",
    ]
    assert main([*args, "--replace"]) == 0
    assert len(read(warehouse, "main", "cluster_centroids")) == 3
    assert len(read(warehouse, "main", "customer_clusters")) == len(
        read(warehouse, "main", "fct_customer_rfm")
    )
    marks = comments(warehouse, "main")
    assert all(marks[name].startswith(OWNER_COMMENT) for name in TABLE_NAMES.values())
    # Now they are the command's own: the next run needs no --replace.
    assert main([*args, "--k", "2"]) == 0
    assert len(read(warehouse, "main", "cluster_centroids")) == 2


def test_steps_accept_the_tables_read_back_from_the_warehouse(warehouse):
    # What the dbt Python models do: each step reads the previous steps' tables back.
    assert main(["--duckdb", str(warehouse), "--personas", str(SEED_FILE)]) == 0
    stored = {key: read(warehouse, DEFAULT_SCHEMA, name) for key, name in TABLE_NAMES.items()}
    rfm = read(warehouse, "main", "fct_customer_rfm").sample(frac=1.0, random_state=0)
    params = stored["feature_transform"].iloc[::-1]
    centroids = build_centroids(rfm, params, stored["k_evaluation"], pd.read_csv(SEED_FILE))
    pd.testing.assert_frame_equal(centroids, stored["centroids"], check_dtype=False)
    labels = build_customer_clusters(
        rfm, params, stored["centroids"].iloc[::-1], pd.read_csv(SEED_FILE)
    )
    pd.testing.assert_frame_equal(labels, stored["customer_clusters"], check_dtype=False)


def test_personas_can_come_from_a_table(warehouse):
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema main_reference")
        connection.register("personas_frame", pd.read_csv(SEED_FILE))
        connection.execute(
            "create table main_reference.cluster_personas as select * from personas_frame"
        )
    args = ["--duckdb", str(warehouse), "--personas", "main_reference.cluster_personas", "--k", "4"]
    assert main(args) == 0
    centroids = read(warehouse, DEFAULT_SCHEMA, "cluster_centroids")
    assert set(centroids["persona_key"]) == {"high_value", "at_risk", "occasional", "new"}
    assert centroids["customer_share"].sum() == pytest.approx(1.0)


def test_missing_file_is_named_and_not_created(tmp_path, capsys):
    missing = tmp_path / "nowhere.duckdb"
    assert main(["--duckdb", str(missing), "--personas", str(SEED_FILE)]) == 1
    assert f"DuckDB file not found: {missing}" in capsys.readouterr().err
    assert not missing.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rfm-table", "main.no_such_table"], "RFM table main.no_such_table not found"),
        (["--personas", "no_such_file.csv"], "personas file not found: no_such_file.csv"),
        (
            ["--personas", "reference.no_such_personas"],
            "personas table reference.no_such_personas not found",
        ),
        (["--rfm-table", "main.fct_customer_rfm; drop table x"], "not a valid [schema.]table name"),
    ],
    ids=["rfm-table", "personas-file", "personas-table", "bad-name"],
)
def test_missing_things_are_named(warehouse, capsys, extra, message):
    assert main(["--duckdb", str(warehouse), "--personas", str(SEED_FILE), *extra]) == 1
    assert message in capsys.readouterr().err


def test_missing_columns_are_named(warehouse, capsys):
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("alter table main.fct_customer_rfm drop column tenure_days")
    assert main(["--duckdb", str(warehouse), "--personas", str(SEED_FILE)]) == 1
    assert "missing column(s) tenure_days" in capsys.readouterr().err


def test_bad_k_is_a_usage_error(warehouse, capsys):
    assert main(["--duckdb", str(warehouse), "--k", "many"]) == 2
    assert "expected 'auto' or an integer" in capsys.readouterr().err
