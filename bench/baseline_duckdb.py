"""Baseline B, the floor: the same cleaning and RFM as ONE hand-written DuckDB query, no dbt.

No audit, no tests, no intermediate tables: the least work DuckDB can do for the same RFM. The
clustering call is the product's (``customer_segments.clustering.run_segmentation``).

    python -m bench.baseline_duckdb bench/out/data/lines_500000.csv [--out-dir DIR]

Reads the Kaggle CSV layout (ISO-8859-1, ``M/D/YYYY H:MM``) with typed columns, or Parquet with the
generator's types. The rules are those of bench/baseline_notebook.py and of the dbt models; exact
copies are removed with ``select distinct`` (keeping the first copy or any copy is the same, since
copies are identical in every column).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pandas as pd

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import non_product_codes, run_side

CSV_READER = """
    select
        InvoiceNo, StockCode, Description, Quantity,
        InvoiceDate, cast(UnitPrice as decimal(18, 4)) as UnitPrice, CustomerID, Country
    from read_csv(
        $path,
        header = true,
        encoding = 'latin-1',
        timestampformat = '%m/%d/%Y %H:%M',
        columns = {
            'InvoiceNo': 'varchar', 'StockCode': 'varchar', 'Description': 'varchar',
            'Quantity': 'bigint', 'InvoiceDate': 'timestamp', 'UnitPrice': 'varchar',
            'CustomerID': 'bigint', 'Country': 'varchar'
        }
    )
"""

PARQUET_READER = """
    select
        InvoiceNo, StockCode, Description, cast(Quantity as bigint) as Quantity,
        strptime(InvoiceDate, '%m/%d/%Y %H:%M') as InvoiceDate,
        cast(UnitPrice as decimal(18, 4)) as UnitPrice,
        cast(CustomerID as bigint) as CustomerID, Country
    from read_parquet($path)
"""

RFM_QUERY = """
with

raw_lines as ({reader}),

lines as (
    select distinct
        upper(trim(InvoiceNo)) as invoice_id,
        trim(StockCode) as stock_code,
        nullif(trim(Description), '') as description,
        Quantity as quantity,
        InvoiceDate as invoiced_at,
        UnitPrice as unit_price,
        CustomerID as customer_id,
        nullif(trim(Country), '') as country
    from raw_lines
    where CustomerID is not null
),

kept as (
    select
        customer_id,
        invoice_id,
        invoiced_at,
        round(quantity * unit_price, 2) as line_amount,
        not (invoice_id like 'C%' or quantity < 0) as is_purchase
    from lines
    where not invoice_id like 'A%'
        and upper(stock_code) not in ({exact_codes})
        and not ({prefix_test})
        and unit_price > 0
        and quantity <> 0
),

invoices as (
    select
        customer_id,
        invoice_id,
        cast(min(invoiced_at) as date) as invoice_date,
        sum(line_amount) as net_amount,
        bool_or(is_purchase) as is_purchase_invoice
    from kept
    group by customer_id, invoice_id
),

as_of as (
    -- the day after the date of the last kept line (purchase or return)
    select cast(max(invoiced_at) as date) + 1 as as_of_date from kept
)

select
    invoices.customer_id,
    cast(as_of.as_of_date - max(invoice_date) filter (where is_purchase_invoice) as integer)
        as recency_days,
    cast(count(*) filter (where is_purchase_invoice) as integer) as frequency,
    cast(sum(net_amount) as decimal(18, 2)) as monetary,
    cast(as_of.as_of_date - min(invoice_date) filter (where is_purchase_invoice) as integer)
        as tenure_days
from invoices
cross join as_of
group by invoices.customer_id, as_of.as_of_date
having count(*) filter (where is_purchase_invoice) > 0
order by invoices.customer_id
"""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def rfm_query(path: Path) -> str:
    """The one query, for a CSV or a Parquet file (by extension); the file is the $path parameter."""
    exact, prefixes = non_product_codes()
    reader = PARQUET_READER if str(path).lower().endswith(".parquet") else CSV_READER
    prefix_test = " or ".join(f"starts_with(upper(stock_code), {_literal(p)})" for p in prefixes)
    return RFM_QUERY.format(
        reader=reader,
        exact_codes=", ".join(_literal(code) for code in exact),
        prefix_test=prefix_test or "false",
    )


def compute_rfm(path: Path, connection: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """The per-customer RFM of the order lines file, from one DuckDB query."""
    connection = connection or duckdb.connect()
    return connection.execute(rfm_query(path), {"path": str(path)}).df()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.baseline_duckdb", description=__doc__.split("\n")[0]
    )
    parser.add_argument("input", type=Path, help="order lines, .csv (Kaggle layout) or .parquet")
    parser.add_argument("--out-dir", type=Path, help="write rfm and cluster tables here")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN ANALYZE of the query instead of clustering",
    )
    args = parser.parse_args(argv)
    connection = duckdb.connect()
    if args.explain:
        plan = connection.execute(
            "explain analyze " + rfm_query(args.input), {"path": str(args.input)}
        ).fetchall()
        print(plan[0][1])
        return 0
    return run_side(lambda: compute_rfm(args.input, connection), args.out_dir)


if __name__ == "__main__":
    sys.exit(main())
