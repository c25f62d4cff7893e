"""The parity check finds every kind of difference between two builds, and only those.

Both builds are made here without dbt or Spark: a DuckDB file, and a folder laid out as Spark's
warehouse (``<schema>.db/<table>/part-*.parquet``) written by DuckDB.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from customer_segments.parity import (
    FLOAT_TOLERANCES,
    FloatTolerance,
    TableSpec,
    compare_builds,
    format_report,
    main,
    tables_from_manifest,
)

TOLERANCE = FloatTolerance(("clusters",), ("distance",), 1e-12, "test")

CLUSTERS = """
    select * from (values
        (1, 'a', 12.34::decimal(18, 2), 0.5::double, date '2011-12-09'),
        (2, 'b', -0.01::decimal(18, 2), 1.25::double, date '2011-12-10'),
        (3, null, 0.00::decimal(18, 2), 2.0::double, null)
    ) as t(customer_id, persona_key, monetary, distance, last_purchase_date)
"""


def _duckdb_build(path: Path, clusters_sql: str = CLUSTERS) -> str:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema main_marts")
        connection.execute(f"create table main_marts.clusters as {clusters_sql}")
        connection.execute("create table main.settings as select 42 as seed")
    return f"duckdb:{path}"


def _spark_build(folder: Path, clusters_sql: str = CLUSTERS) -> str:
    for schema, table, sql in (
        ("segments", "clusters", clusters_sql),
        ("segments_reference", "settings", "select 42 as seed"),
    ):
        target = folder / f"{schema}.db" / table
        target.mkdir(parents=True)
        duckdb.sql(f"copy ({sql}) to '{target / 'part-00000.parquet'}' (format parquet)")
    return f"spark:{folder}"


TABLES = (TableSpec("clusters", ("customer_id",)), TableSpec("settings"))


def test_equal_builds_are_equal_to_the_bit(tmp_path: Path):
    diffs = compare_builds(
        _duckdb_build(tmp_path / "a.duckdb"), _spark_build(tmp_path / "wh"), TABLES, [TOLERANCE]
    )
    assert [d.table for d in diffs] == ["clusters", "settings"]
    assert all(d.equal and d.exact for d in diffs), format_report(diffs)
    assert diffs[0].rows_left == diffs[0].rows_right == 3
    assert format_report(diffs).endswith(
        "2 tables: 2 equal (2 to the bit, 0 within the float tolerance), 0 different"
    )


@pytest.mark.parametrize(
    "change",
    [
        "12.35::decimal(18, 2)",  # a penny
        "12.34::decimal(18, 2) * -1",  # a sign
    ],
)
def test_a_penny_is_a_difference(tmp_path: Path, change: str):
    changed = CLUSTERS.replace("12.34::decimal(18, 2)", change, 1)
    diffs = compare_builds(
        _duckdb_build(tmp_path / "a.duckdb"), _spark_build(tmp_path / "wh", changed), TABLES
    )
    assert not diffs[0].equal
    assert (diffs[0].only_left, diffs[0].only_right) == (1, 1)
    report = format_report(diffs)
    assert "clusters                             DIFFERENT" in report
    assert "1 equal" in report and "1 different" in report
    # The differing row is shown by its key, with the column that differs.
    assert "clusters customer_id = 1: monetary Decimal('12.34') (left) vs Decimal(" in report


def test_labels_nulls_dates_and_duplicates_count(tmp_path: Path):
    left = _duckdb_build(tmp_path / "a.duckdb")
    for number, changed in enumerate(
        [
            CLUSTERS.replace("'b'", "'B'"),
            CLUSTERS.replace("(3, null,", "(3, '',"),
            CLUSTERS.replace("date '2011-12-10'", "date '2011-12-11'"),
            CLUSTERS.replace(
                "(3, null, 0.00::decimal(18, 2), 2.0::double, null)",
                "(2, 'b', -0.01::decimal(18, 2), 1.25::double, date '2011-12-10')",
            ),
        ]
    ):
        diffs = compare_builds(left, _spark_build(tmp_path / f"wh{number}", changed), TABLES)
        assert not diffs[0].equal, changed


def test_floats_are_exact_unless_tolerated(tmp_path: Path):
    left = _duckdb_build(tmp_path / "a.duckdb")
    last_bit = CLUSTERS.replace("1.25::double", "(1.25 + 2.220446049250313e-16)::double")
    exact = compare_builds(left, _spark_build(tmp_path / "wh1", last_bit), TABLES, [])
    assert not exact[0].equal
    tolerated = compare_builds(left, _spark_build(tmp_path / "wh2", last_bit), TABLES, [TOLERANCE])
    assert tolerated[0].equal and not tolerated[0].exact
    assert tolerated[0].tolerated_columns == ("distance",)
    assert 0 < tolerated[0].largest_difference < 1e-15
    assert "equal~" in format_report(tolerated)
    beyond = CLUSTERS.replace("1.25::double", "1.2500001::double")
    far = compare_builds(left, _spark_build(tmp_path / "wh3", beyond), TABLES, [TOLERANCE])
    assert not far[0].equal and far[0].beyond_tolerance == 1
    null = CLUSTERS.replace("1.25::double", "null::double")
    nulled = compare_builds(left, _spark_build(tmp_path / "wh4", null), TABLES, [TOLERANCE])
    assert not nulled[0].equal and nulled[0].beyond_tolerance == 1


def test_rows_missing_on_one_side_are_named_by_key(tmp_path: Path):
    fewer = CLUSTERS.replace(",\n        (3, null, 0.00::decimal(18, 2), 2.0::double, null)", "")
    diffs = compare_builds(
        _duckdb_build(tmp_path / "a.duckdb"), _spark_build(tmp_path / "wh", fewer), TABLES
    )
    assert (diffs[0].rows_left, diffs[0].rows_right, diffs[0].only_left) == (3, 2, 1)
    assert "clusters customer_id = 3: only on the left" in format_report(diffs)
    # Without a key, whole rows are shown.
    unkeyed = compare_builds(
        _duckdb_build(tmp_path / "b.duckdb"), _spark_build(tmp_path / "wh2", fewer), ["clusters"]
    )
    assert "clusters only left: (3, None" in format_report(unkeyed)


def test_a_tolerance_needs_a_key(tmp_path: Path):
    left = _duckdb_build(tmp_path / "a.duckdb")
    diffs = compare_builds(left, _spark_build(tmp_path / "wh"), ["clusters"], [TOLERANCE])
    assert not diffs[0].equal
    assert "no unique key" in diffs[0].column_problems[0]


def test_missing_tables_columns_and_types_are_named(tmp_path: Path):
    left = _duckdb_build(tmp_path / "a.duckdb")
    retyped = (
        CLUSTERS.replace("12.34::decimal(18, 2)", "12.34::decimal(18, 3)")
        .replace("-0.01::decimal(18, 2)", "-0.01::decimal(18, 3)")
        .replace("0.00::decimal(18, 2)", "0.00::decimal(18, 3)")
    )
    diffs = compare_builds(
        left, _spark_build(tmp_path / "wh", retyped), [*TABLES, TableSpec("nowhere")]
    )
    assert diffs[0].column_problems == ("monetary: DECIMAL(18,2) vs DECIMAL(18,3)",)
    assert not diffs[0].equal
    assert diffs[2].column_problems == ("missing on the left and right",)


def test_the_tables_come_from_the_manifest(tmp_path: Path):
    def node(kind: str, name: str, **more) -> dict:
        return {
            "unique_id": f"{kind}.p.{name}",
            "resource_type": kind,
            "name": name,
            "alias": name,
            "config": {"enabled": True, "materialized": more.pop("materialized", "table")},
            **more,
        }

    def test(name: str, parent: str, test_name: str, **kwargs) -> dict:
        return node(
            "test",
            name,
            attached_node=parent,
            test_metadata={"name": test_name, "kwargs": kwargs},
        )

    nodes = [
        node("model", "fct_orders"),
        node("model", "int_lines", materialized="view"),
        node("seed", "codes"),
        node("model", "settings"),
        test(
            "t1",
            "model.p.fct_orders",
            "unique_combination_of_columns",
            combination_of_columns=["day", "order_id"],
        ),
        test("t2", "seed.p.codes", "unique", column_name="code"),
        test("t3", "seed.p.codes", "not_null", column_name="code"),
    ]
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"nodes": {n["unique_id"]: n for n in nodes}}))
    assert tables_from_manifest(manifest) == (
        TableSpec("codes", ("code",)),
        TableSpec("fct_orders", ("day", "order_id")),
        TableSpec("settings", ()),
    )


def test_every_tolerance_names_its_reason():
    for rule in FLOAT_TOLERANCES:
        assert rule.tolerance <= 1e-12
        assert "ln()" in rule.reason or "avg()" in rule.reason


def test_the_command_exits_1_on_a_difference(tmp_path: Path, capsys):
    left = _duckdb_build(tmp_path / "a.duckdb")
    same = _spark_build(tmp_path / "wh1")
    other = _spark_build(tmp_path / "wh2", CLUSTERS.replace("'a'", "'z'"))
    missing_manifest = str(tmp_path / "none.json")
    assert main([left, same, "--manifest", missing_manifest, "--tables", "clusters,settings"]) == 0
    assert main([left, other, "--manifest", missing_manifest, "--tables", "clusters"]) == 1
    assert "0 equal" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:
        main([left, same, "--manifest", missing_manifest])
    assert stopped.value.code == 2
