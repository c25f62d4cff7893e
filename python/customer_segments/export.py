"""Parquet copies of the published marts, for BI tools that cannot open a DuckDB file, and the
audiences a CRM loads (``<out>/audiences/``, see :mod:`customer_segments.audiences`).

Each file is written next to its target under a temporary name and renamed over it
(``os.replace`` is atomic on one file system), so a reader sees either the previous copy or the
new one, never half a file. The warehouse is opened read-only.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import duckdb

from customer_segments.audiences import export_audiences

__all__ = ["BI_MARTS", "export_marts", "main"]

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
    if not warehouse.exists():
        raise FileNotFoundError(f"warehouse {warehouse} not found: run `make build` first")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        present = {
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [schema],
            ).fetchall()
        }
        missing = [mart for mart in marts if mart not in present]
        if missing:
            raise ValueError(
                f"warehouse {warehouse} has no table {schema}.{missing[0]}: run `make build` first"
            )
        for mart in marts:
            target = out_dir / f"{mart}.parquet"
            partial = out_dir / f".{mart}.parquet.partial"
            connection.execute(
                f'copy (select * from "{schema}"."{mart}") '
                f"to {_quote_literal(str(partial))} (format parquet)"
            )
            os.replace(partial, target)
            written.append(target)
    return written


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
        paths = export_marts(args.duckdb, args.out, schema=args.schema)
        audiences = export_audiences(args.duckdb, args.out, schema=args.schema)
    except (FileNotFoundError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    print(f"wrote {len(paths)} Parquet files to {args.out}")
    print(f"wrote {len(audiences)} audiences (CSV and Parquet) to {args.out / 'audiences'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
