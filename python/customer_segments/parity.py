"""Compare two builds of the project table by table: every row, every column, to the penny.

A build is a DuckDB warehouse (``duckdb:segments.duckdb``) or a Spark warehouse folder
(``spark:target/spark-warehouse``, its tables' Parquet files read directly, no Spark needed).
Tables are matched by name whatever their schema (``main_staging`` on DuckDB is
``segments_staging`` on Spark). Two tables are equal when they have the same columns, the same
column types once written (Spark's string is DuckDB's varchar) and the same multiset of rows.
Floating-point columns compare exactly too: the models divide the same way on both engines.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import duckdb

__all__ = ["TableDiff", "compare_builds", "main"]

# What the audit asks for: seeds, staging, intermediate, the audit and RFM marts.
DEFAULT_TABLES: tuple[str, ...] = (
    "non_product_stock_codes",
    "order_line_outcomes",
    "rfm_segment_grid",
    "rfm_segments",
    "stg_online_retail__order_lines",
    "int_order_lines_cleaned",
    "int_customer_invoices",
    "fct_order_line_audit",
    "fct_customer_rfm",
)


@dataclass(frozen=True)
class TableDiff:
    """How one table differs between the two builds (all zero/empty when equal)."""

    table: str
    rows_left: int
    rows_right: int
    only_left: int
    only_right: int
    column_problems: tuple[str, ...]

    @property
    def equal(self) -> bool:
        return not self.column_problems and self.only_left == 0 and self.only_right == 0


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _attach(connection: duckdb.DuckDBPyConnection, side: str, alias: str) -> dict[str, str]:
    """Make the tables of one build readable; return table name -> SQL relation."""
    kind, _, location = side.partition(":")
    if kind == "duckdb":
        connection.execute(f"attach {_quote(location)} as {alias} (read_only)")
        rows = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = ? and table_type = 'BASE TABLE'",
            [alias],
        ).fetchall()
        return {name: f'{alias}."{schema}"."{name}"' for schema, name in rows}
    if kind == "spark":
        tables = {}
        for folder in sorted(Path(location).glob("*.db/*")):
            if folder.is_dir() and any(folder.glob("*.parquet")):
                pattern = _quote(str(folder / "*.parquet"))
                tables[folder.name] = f"read_parquet({pattern})"
        return tables
    raise ValueError(f"a build is duckdb:PATH or spark:WAREHOUSE_DIR, not {side!r}")


def _columns(connection: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    described = connection.execute(f"describe select * from {relation}").fetchall()
    # Spark writes timestamps as instants (UTC); compare them as the UTC wall time they show.
    return {
        row[0].lower(): "TIMESTAMP" if row[1] == "TIMESTAMP WITH TIME ZONE" else row[1]
        for row in described
    }


def compare_builds(
    left: str, right: str, tables: tuple[str, ...] = DEFAULT_TABLES
) -> list[TableDiff]:
    """Compare ``tables`` of two builds; see the module docstring."""
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    left_tables = _attach(connection, left, "left_build")
    right_tables = _attach(connection, right, "right_build")
    diffs = []
    for table in tables:
        if table not in left_tables or table not in right_tables:
            side = "left" if table not in left_tables else "right"
            diffs.append(TableDiff(table, 0, 0, 0, 0, (f"missing on the {side}",)))
            continue
        left_columns = _columns(connection, left_tables[table])
        right_columns = _columns(connection, right_tables[table])
        problems = tuple(
            f"{name}: {left_columns.get(name, '-')} vs {right_columns.get(name, '-')}"
            for name in sorted(set(left_columns) | set(right_columns))
            if left_columns.get(name) != right_columns.get(name)
        )
        shared = [name for name in left_columns if name in right_columns]
        select_list = ", ".join(
            f'cast("{name}" as timestamp) as "{name}"'
            if left_columns[name] == "TIMESTAMP"
            else f'"{name}"'
            for name in shared
        )
        left_rows = f"select {select_list} from {left_tables[table]}"
        right_rows = f"select {select_list} from {right_tables[table]}"
        counts = connection.execute(
            f"select (select count(*) from {left_tables[table]}), "
            f"(select count(*) from {right_tables[table]}), "
            f"(select count(*) from ({left_rows} except all {right_rows})), "
            f"(select count(*) from ({right_rows} except all {left_rows}))"
        ).fetchone()
        diffs.append(TableDiff(table, *counts, problems))
        if counts[2] or counts[3]:
            for label, first, second in (
                ("left", left_rows, right_rows),
                ("right", right_rows, left_rows),
            ):
                sample = connection.execute(
                    f"select * from ({first} except all {second}) limit 3"
                ).fetchall()
                for row in sample:
                    print(f"  {table} only {label}: {row}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m customer_segments.parity",
        description="Compare two builds table by table (rows, columns, types, every value).",
    )
    parser.add_argument("left", help="duckdb:PATH or spark:WAREHOUSE_DIR")
    parser.add_argument("right", help="duckdb:PATH or spark:WAREHOUSE_DIR")
    parser.add_argument(
        "--tables",
        default=",".join(DEFAULT_TABLES),
        help="comma-separated table names (default: seeds to fct_customer_rfm)",
    )
    args = parser.parse_args(argv)
    diffs = compare_builds(args.left, args.right, tuple(args.tables.split(",")))
    for diff in diffs:
        status = "equal" if diff.equal else "DIFFERENT"
        print(
            f"{diff.table:36} {status:9} rows {diff.rows_left:>9,} / {diff.rows_right:>9,}"
            f"  only left {diff.only_left:,}  only right {diff.only_right:,}"
            + "".join(f"\n  column {problem}" for problem in diff.column_problems)
        )
    different = sum(not diff.equal for diff in diffs)
    print(f"{len(diffs) - different} equal, {different} different")
    return 1 if different else 0


if __name__ == "__main__":
    raise SystemExit(main())
