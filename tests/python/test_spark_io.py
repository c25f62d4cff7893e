"""Spark tables read as DuckDB reads them, without Spark: a stand-in session serving Arrow.

Spark's ``DataFrame.toArrow()`` gives the table's Arrow types (text as ``large_string`` when
Spark's large variable types are on, timestamps with the session's zone); here DuckDB's own Arrow
output of the same rows stands in for it, so the frame :func:`read_frame` builds can be compared
with DuckDB's ``.df()`` of those rows.
"""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from customer_segments.spark_io import read_arrow, read_frame, write_frame

ROWS = """
    select * from (values
        (1, 10::bigint, 12.34::decimal(18, 2), 0.5::double, 'a', true, true,
         date '2011-12-09', timestamp '2011-12-09 08:26:00', 3::integer),
        (2, 20::bigint, null, null, null, false, null, null, null, null)
    ) as t(customer_id, line_count, monetary, distance, persona_key, is_kept,
           has_next_period_purchase, last_purchase_date, invoiced_at, recency_score)
"""


def _session(table: pa.Table, written: list | None = None) -> SimpleNamespace:
    def create(arrow):
        frame = SimpleNamespace(arrow=arrow)
        frame.write = SimpleNamespace(
            format=lambda _: SimpleNamespace(
                mode=lambda _: SimpleNamespace(
                    saveAsTable=lambda relation: written.append((relation, arrow))
                )
            )
        )
        return frame

    return SimpleNamespace(
        table=lambda _: SimpleNamespace(toArrow=lambda: table), createDataFrame=create
    )


def _as_spark_gives_it(table: pa.Table) -> pa.Table:
    """Text as large_string and timestamps in UTC, as Spark 4's toArrow() returns them."""
    fields = []
    for field in table.schema:
        if pa.types.is_string(field.type):
            field = field.with_type(pa.large_string())
        elif pa.types.is_timestamp(field.type):
            field = field.with_type(pa.timestamp("us", tz="UTC"))
        fields.append(field)
    return table.cast(pa.schema(fields))


# Every penny amount from -50,000.00 to 50,000.00 in steps of 0.07.
AMOUNTS = """
    select cast(-50000 + i * 0.07 as decimal(18, 2)) as monetary from range(1428572) as t(i)
"""


@pytest.mark.parametrize("spark_types", [False, True])
def test_a_table_reads_as_duckdbs_df(spark_types: bool):
    expected = duckdb.sql(ROWS).df()
    arrow = duckdb.sql(ROWS).to_arrow_table()
    if spark_types:
        arrow = _as_spark_gives_it(arrow)
    frame = read_frame(_session(arrow), "segments.t")
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    # The cases that differ from Arrow's own conversion.
    assert str(frame["recency_score"].dtype) == "Int32"
    assert str(frame["has_next_period_purchase"].dtype) == "boolean"
    assert str(frame["is_kept"].dtype) == "bool"
    assert frame["monetary"].dtype == "float64"


def test_decimals_become_the_nearest_double_as_on_duckdb():
    expected = duckdb.sql(AMOUNTS).df()
    frame = read_frame(_session(duckdb.sql(AMOUNTS).to_arrow_table()), "segments.t")
    assert (frame["monetary"].to_numpy() == expected["monetary"].to_numpy()).all()
    # Arrow's own cast is not: this is what the text route avoids.
    direct = duckdb.sql(AMOUNTS).to_arrow_table().column("monetary").cast(pa.float64())
    assert (direct.to_numpy() != expected["monetary"].to_numpy()).any()


def test_a_table_exports_with_duckdbs_parquet_types():
    arrow = _as_spark_gives_it(duckdb.sql(ROWS).to_arrow_table())
    plain = read_arrow(_session(arrow), "segments.t")
    assert plain.schema.field("persona_key").type == pa.string()
    assert plain.schema.field("invoiced_at").type == pa.timestamp("us")
    assert plain.schema.field("monetary").type == pa.decimal128(18, 2)
    assert plain.column("invoiced_at").to_pylist()[0] == pd.Timestamp("2011-12-09 08:26:00")


def test_a_frame_is_written_with_the_types_duckdb_gives_it():
    written: list = []
    frame = pd.DataFrame(
        {
            "k": pd.Series([3, 4], dtype="int64"),
            "cluster_id": pd.Series([1, None], dtype="Int64"),
            "persona_key": pd.Series(["a", "b"], dtype="string"),
            "reason": pd.Series([None, None], dtype="object"),
            "is_chosen": [True, False],
            "score": [0.5, float("nan")],
        }
    )
    write_frame(_session(pa.table({}), written), frame, "segments_intermediate.fit")
    relation, arrow = written[0]
    assert relation == "segments_intermediate.fit"
    assert dict(zip(arrow.column_names, map(str, arrow.schema.types), strict=True)) == {
        "k": "int64",
        "cluster_id": "int64",
        "persona_key": "string",
        "reason": "string",
        "is_chosen": "bool",
        "score": "double",
    }
    assert arrow.column("cluster_id").null_count == 1
    # An empty frame keeps its column types.
    write_frame(_session(pa.table({}), written), frame.iloc[0:0], "segments_intermediate.empty")
    assert written[1][1].num_rows == 0 and written[1][1].schema == arrow.schema


def test_a_mart_exported_from_spark_has_duckdbs_parquet_schema(tmp_path):
    from customer_segments.export import SparkMarts

    # As DuckDBMarts exports a mart: a copy of a table (whose statistics know its NULLs).
    with duckdb.connect() as connection:
        connection.execute(f"create table clusters as {ROWS}")
        connection.execute(
            f"copy (select * from clusters) to '{tmp_path / 'duckdb.parquet'}' (format parquet)"
        )
    session = _session(_as_spark_gives_it(duckdb.sql(ROWS).to_arrow_table()))
    session.catalog = SimpleNamespace(tableExists=lambda _: True)
    source = SparkMarts(session, {"clusters": "segments.clusters"})
    assert source.missing(["clusters", "other"]) == ["other"]
    source.write_parquet("clusters", tmp_path / "spark.parquet")
    duck, spark = (pq.read_schema(tmp_path / f"{side}.parquet") for side in ("duckdb", "spark"))
    # Same names and types, and NOT NULL exactly where DuckDB's writer puts it (no NULL held).
    assert spark.remove_metadata() == duck.remove_metadata()
    assert not spark.field("customer_id").nullable and spark.field("monetary").nullable
    pd.testing.assert_frame_equal(
        pq.read_table(tmp_path / "spark.parquet").to_pandas(),
        pq.read_table(tmp_path / "duckdb.parquet").to_pandas(),
        check_exact=True,
    )
