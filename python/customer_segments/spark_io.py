"""Tables between a Spark session and pandas / Parquet, typed as the DuckDB path types them.

The dbt Python models and the exports were written against DuckDB: ``ref(...).df()`` gives
dbt-duckdb's pandas frame, the exports are DuckDB's ``COPY ... (format parquet)``. On Spark the
same code must see the same types, so that a fit or an export does not depend on the engine:

* :func:`read_frame` is DuckDB's ``.df()``: decimals as float64, dates and timestamps as
  ``datetime64[us]``, integer and boolean columns with NULLs as pandas' nullable dtypes
  (``Int32``, ``boolean``...), text as pandas' string dtype;
* :func:`read_arrow` is what DuckDB's ``COPY`` writes: Spark's types, but text as ``string``
  (not ``large_string``) and timestamps without a time zone (the session's UTC wall time);
* :func:`write_frame` writes a pandas frame as a Parquet table, each column typed as DuckDB types
  a pandas column (int64 -> bigint, float64 -> double, text -> string...).

Everything goes through Arrow (``DataFrame.toArrow`` and ``createDataFrame`` of an Arrow table,
both Spark 4), without pyspark's pandas conversion. Only small tables belong here: each is
collected on the driver.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

__all__ = ["read_arrow", "read_frame", "write_frame"]

# DuckDB's .df() gives pandas' nullable dtypes to integer and boolean columns holding NULLs
# (numpy's, without NULLs); Arrow would give float64 and object.
_NULLABLE = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def _plain_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text as ``string`` and timestamps as zone-less microseconds, as DuckDB writes them."""
    kind = column.type
    if pa.types.is_large_string(kind):
        return column.cast(pa.string())
    if pa.types.is_large_binary(kind):
        return column.cast(pa.binary())
    if pa.types.is_timestamp(kind) and (kind.tz is not None or kind.unit != "us"):
        return column.cast(pa.timestamp("us"))
    return column


def read_arrow(session: Any, relation: str) -> pa.Table:
    """A Spark table as an Arrow table with the column types DuckDB's Parquet export has.

    Parameters
    ----------
    session : pyspark.sql.SparkSession
        The session that knows the table (its time zone should be UTC, as the profile sets).
    relation : str
        ``schema.table``.

    Returns
    -------
    pyarrow.Table
    """
    table = session.table(relation).toArrow()
    return pa.table([_plain_column(column) for column in table.columns], names=table.column_names)


def read_frame(session: Any, relation: str) -> pd.DataFrame:
    """A Spark table as the pandas frame dbt-duckdb's ``ref(...).df()`` gives for it.

    Parameters
    ----------
    session : pyspark.sql.SparkSession
    relation : str
        ``schema.table``.

    Returns
    -------
    pandas.DataFrame
        Decimals as float64, dates and timestamps as ``datetime64[us]``, integers and booleans
        as numpy's (pandas' nullable ``Int32``, ``boolean``... when the column has NULLs), text
        as strings.
    """
    table = read_arrow(session, relation)
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_decimal(kind):
            # Through the decimal text: Arrow's direct cast multiplies by a power of ten and is
            # off by a bit for 1 value in 8 (12.34 -> 12.340000000000002); parsing the text
            # gives the nearest double, as DuckDB's and Spark's own casts do.
            column = column.cast(pa.string()).cast(pa.float64())
        elif pa.types.is_date(kind):
            column = column.cast(pa.timestamp("us"))
        nullable = _NULLABLE.get(column.type) if column.null_count else None
        columns[name] = column.to_pandas(
            types_mapper={column.type: nullable}.get if nullable else None
        )
    return pd.DataFrame(columns, columns=table.column_names)


def _arrow_of(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as Arrow, each column typed as DuckDB types that pandas column."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    columns = []
    for column in table.columns:
        if pa.types.is_null(column.type):
            # An all-NULL object column has no type of its own: text, as for any object column.
            column = column.cast(pa.string())
        columns.append(_plain_column(column))
    return pa.table(columns, names=table.column_names)


def write_frame(session: Any, frame: pd.DataFrame, relation: str) -> None:
    """Write ``frame`` as the Parquet table ``relation``, replacing it.

    Parameters
    ----------
    session : pyspark.sql.SparkSession
    frame : pandas.DataFrame
        What a dbt Python model returned (an empty frame keeps its column types).
    relation : str
        ``schema.table``; the schema must exist.
    """
    session.createDataFrame(_arrow_of(frame)).write.format("parquet").mode("overwrite").saveAsTable(
        relation
    )
