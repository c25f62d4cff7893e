"""Parquet copies of the published marts, for BI tools that cannot open a DuckDB file, and the
audiences a CRM loads (``<out>/audiences/``, see :mod:`customer_segments.audiences`).

Each file is written next to its target under a temporary name and renamed over it
(``os.replace`` is atomic on one file system), so a reader sees either the previous copy or the
new one, never half a file. The warehouse is opened read-only.

The marts are read from a :class:`MartSource`: a DuckDB warehouse (:class:`DuckDBMarts`, what
``make build`` exports) or the tables of a Spark session (:class:`SparkMarts`, what ``make
build-spark`` exports through :mod:`customer_segments.spark_runner`), with the same files and the
same column types either way.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from customer_segments.audiences import write_audiences

__all__ = [
    "BI_MARTS",
    "DuckDBMarts",
    "MartSource",
    "SparkMarts",
    "export_build",
    "export_marts",
    "main",
    "write_marts",
]

# The marts BI tools read, in schema main.
BI_MARTS: tuple[str, ...] = (
    "dim_customer_segments",
    "fct_segment_summary",
    "fct_persona_rfm_contingency",
    "fct_persona_rfm_agreement",
    "fct_customer_rfm",
    "fct_customer_rfm_history",
    "fct_order_line_audit",
    "cluster_centroids",
    "cluster_k_evaluation",
    "cluster_persona_conditions",
    "fct_customer_segment_history",
    "fct_segment_transitions",
    "fct_segment_movements_latest",
    "fct_segment_drift",
    "fct_segment_backtest",
    "fct_backtest_summary",
    "fct_backtest_calibration",
    "fct_backtest_gains",
    "fct_purchase_model_comparison",
)


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class MartSource(Protocol):
    """Where the marts are read from."""

    def missing(self, marts: Sequence[str]) -> list[str]:
        """The names among ``marts`` that the source has no table for."""
        ...

    def write_parquet(self, mart: str, path: Path) -> None:
        """Write the table ``mart`` to the Parquet file ``path``."""
        ...

    def frame(self, mart: str) -> pd.DataFrame:
        """The table ``mart`` as a pandas frame (decimals as floats, as DuckDB's ``.df()``)."""
        ...

    def missing_message(self, mart: str) -> str:
        """Why ``mart`` is missing and what to run."""
        ...


class DuckDBMarts:
    """The marts of a DuckDB warehouse, read through one read-only connection.

    Use as a context manager: every table is read from the same snapshot of the file.

    Parameters
    ----------
    warehouse : Path
        The DuckDB file built by ``dbt build``.
    schema : str
        Schema of the marts.

    Raises
    ------
    FileNotFoundError
        On entry, if the warehouse file does not exist.
    """

    def __init__(self, warehouse: Path, schema: str = "main") -> None:
        self.warehouse, self.schema = warehouse, schema
        self._connection: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> DuckDBMarts:
        """Open the warehouse read-only."""
        if not self.warehouse.exists():
            raise FileNotFoundError(f"warehouse {self.warehouse} not found: run `make build` first")
        self._connection = duckdb.connect(str(self.warehouse), read_only=True)
        return self

    def __exit__(self, *_: Any) -> None:
        """Close the connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The open read-only connection."""
        if self._connection is None:
            raise RuntimeError("DuckDBMarts is read inside a `with` block")
        return self._connection

    def missing(self, marts: Sequence[str]) -> list[str]:
        """The names among ``marts`` that have no table."""
        present = {
            row[0]
            for row in self.connection.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [self.schema],
            ).fetchall()
        }
        return [mart for mart in marts if mart not in present]

    def write_parquet(self, mart: str, path: Path) -> None:
        """Write the table ``mart`` to the Parquet file ``path``."""
        self.connection.execute(
            f'copy (select * from "{self.schema}"."{mart}") '
            f"to {_quote_literal(str(path))} (format parquet)"
        )

    def frame(self, mart: str) -> pd.DataFrame:
        """The table ``mart`` as DuckDB's ``.df()`` gives it."""
        return self.connection.sql(f'select * from "{self.schema}"."{mart}"').df()

    def missing_message(self, mart: str) -> str:
        """Why ``mart`` is missing and what to run."""
        return (
            f"warehouse {self.warehouse} has no table {self.schema}.{mart}: run `make build` first"
        )


class SparkMarts:
    """The marts of a Spark session, typed as :class:`DuckDBMarts` writes and reads them.

    Parameters
    ----------
    session : pyspark.sql.SparkSession
        The session that built them (``make build-spark``).
    relations : mapping of str to str
        Mart name -> ``schema.table`` on Spark (from the dbt manifest of the ``spark`` target).
    """

    def __init__(self, session: Any, relations: Mapping[str, str]) -> None:
        self.session, self.relations = session, dict(relations)

    def missing(self, marts: Sequence[str]) -> list[str]:
        """The names among ``marts`` that have no table."""
        return [
            mart
            for mart in marts
            if mart not in self.relations
            or not self.session.catalog.tableExists(self.relations[mart])
        ]

    def write_parquet(self, mart: str, path: Path) -> None:
        """Write the table ``mart`` to the Parquet file ``path``."""
        from customer_segments.spark_io import read_arrow

        table = read_arrow(self.session, self.relations[mart])
        # DuckDB's Parquet writer marks a column required when it holds no NULL (optional
        # otherwise); so here, for files with the same schema from either engine.
        table = table.cast(
            pa.schema(
                field.with_nullable(column.null_count > 0)
                for field, column in zip(table.schema, table.columns, strict=True)
            )
        )
        pq.write_table(table, path)

    def frame(self, mart: str) -> pd.DataFrame:
        """The table ``mart`` as DuckDB's ``.df()`` gives it."""
        from customer_segments.spark_io import read_frame

        return read_frame(self.session, self.relations[mart])

    def missing_message(self, mart: str) -> str:
        """Why ``mart`` is missing and what to run."""
        return f"Spark has no table {self.relations.get(mart, mart)}: run `make build-spark` first"


def write_marts(source: MartSource, out_dir: Path, marts: Sequence[str] = BI_MARTS) -> list[Path]:
    """Write ``<out_dir>/<mart>.parquet`` for each mart of ``source``; return the paths written.

    Raises
    ------
    ValueError
        If a mart is missing from the source (nothing is written).
    """
    missing = source.missing(marts)
    if missing:
        raise ValueError(source.missing_message(missing[0]))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for mart in marts:
        target = out_dir / f"{mart}.parquet"
        partial = out_dir / f".{mart}.parquet.partial"
        source.write_parquet(mart, partial)
        os.replace(partial, target)
        written.append(target)
    return written


def export_marts(
    warehouse: Path, out_dir: Path, marts: Sequence[str] = BI_MARTS, schema: str = "main"
) -> list[Path]:
    """Write ``<out_dir>/<mart>.parquet`` for each mart and return the paths written.

    Parameters
    ----------
    warehouse : Path
        The DuckDB file built by ``dbt build``.
    out_dir : Path
        Folder for the Parquet files (created if missing).
    marts : sequence of str
        Table names in ``schema``.
    schema : str
        Schema of the marts.

    Raises
    ------
    FileNotFoundError
        If the warehouse file does not exist.
    ValueError
        If a mart is missing from the warehouse.
    """
    with DuckDBMarts(warehouse, schema) as source:
        return write_marts(source, out_dir, marts)


def export_build(source: MartSource, out_dir: Path) -> tuple[list[Path], list[Path]]:
    """Every export of a build: the marts' Parquet copies and the audiences.

    Returns
    -------
    marts : list of Path
        The Parquet copies of :data:`BI_MARTS`.
    audiences : list of Path
        The audiences' CSV files (each with a Parquet twin), in ``out_dir/audiences``.
    """
    marts = write_marts(source, out_dir)
    audiences = write_audiences(
        source.frame("dim_customer_segments"),
        source.frame("fct_segment_movements_latest"),
        out_dir,
    )
    return marts, audiences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m customer_segments.export",
        description=(
            "Write Parquet copies of the segment marts for BI tools, and the "
            "audiences (one CSV and Parquet file per persona and per downgrade move) "
            "into <out>/audiences."
        ),
    )
    parser.add_argument(
        "--duckdb",
        type=Path,
        default=Path("segments.duckdb"),
        metavar="PATH",
        help="warehouse file (default: segments.duckdb)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("exports"),
        metavar="DIR",
        help="folder for the Parquet files (default: exports)",
    )
    parser.add_argument("--schema", default="main", help="schema of the marts (default: main)")
    args = parser.parse_args(argv)
    try:
        with DuckDBMarts(args.duckdb, args.schema) as source:
            paths, audiences = export_build(source, args.out)
    except (FileNotFoundError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    print(f"wrote {len(paths)} Parquet files to {args.out}")
    print(f"wrote {len(audiences)} audiences (CSV and Parquet) to {args.out / 'audiences'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
