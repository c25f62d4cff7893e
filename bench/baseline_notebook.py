"""Baseline A, the notebook way: the whole job in pandas, as Kaggle notebooks write it.

Read the CSV whole with ``pd.read_csv(encoding="ISO-8859-1")``, clean it with boolean masks in the
order of the product's rules, build the RFM with ``groupby``, then make the same clustering call as
the product (``customer_segments.clustering.run_segmentation``).

    python -m bench.baseline_notebook bench/out/data/lines_500000.csv [--out-dir DIR]

The rules are the product's (models/intermediate/int_order_lines_cleaned.sql,
int_customer_invoices.sql, marts/rfm/fct_customer_rfm.sql): a line is dropped, first reason
first, when it has no customer, is an exact copy of an earlier line, belongs to an A invoice, has
a non-product stock code, a price <= 0 or a zero quantity; a kept line is a return when its invoice
starts with C or its quantity is negative, else a purchase. Recency and tenure count days from the
day after the last kept line to the last and first purchase invoice; frequency counts purchase
invoices; monetary is the net of every kept line (returns included).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import non_product_codes, run_side


def compute_rfm(path: Path) -> pd.DataFrame:
    """The per-customer RFM of a Kaggle-layout CSV, the pandas way."""
    df = pd.read_csv(
        path,
        encoding="ISO-8859-1",
        # Invoice and stock numbers are codes ("C536379", "85123A"), not numbers.
        dtype={"InvoiceNo": str, "StockCode": str},
    )
    for column in ["InvoiceNo", "StockCode", "Description", "Country"]:
        df[column] = df[column].str.strip()
    df["InvoiceNo"] = df["InvoiceNo"].str.upper()
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"], format="%m/%d/%Y %H:%M")

    # Cleaning, in the order of the product's exclusion rules.
    df = df.dropna(subset=["CustomerID"])
    df = df.drop_duplicates()
    df = df[~df["InvoiceNo"].str.startswith("A")]
    exact, prefixes = non_product_codes()
    code = df["StockCode"].str.upper()
    df = df[~(code.isin(exact) | code.str.startswith(tuple(prefixes)))]
    df = df[df["UnitPrice"] > 0]
    df = df[df["Quantity"] != 0]

    df["CustomerID"] = df["CustomerID"].astype("int64")
    df["TotalPrice"] = (df["Quantity"] * df["UnitPrice"]).round(2)
    df["IsPurchase"] = ~(df["InvoiceNo"].str.startswith("C") | (df["Quantity"] < 0))

    snapshot_date = df["InvoiceDate"].max().normalize() + pd.Timedelta(days=1)

    invoices = (
        df.groupby(["CustomerID", "InvoiceNo"])
        .agg(
            InvoiceDate=("InvoiceDate", "min"),
            TotalPrice=("TotalPrice", "sum"),
            IsPurchase=("IsPurchase", "any"),
        )
        .reset_index()
    )
    invoices["InvoiceDay"] = invoices["InvoiceDate"].dt.normalize()
    purchases = invoices[invoices["IsPurchase"]]
    rfm = purchases.groupby("CustomerID").agg(
        frequency=("InvoiceNo", "nunique"),
        last_purchase=("InvoiceDay", "max"),
        first_purchase=("InvoiceDay", "min"),
    )
    rfm["monetary"] = invoices.groupby("CustomerID")["TotalPrice"].sum().reindex(rfm.index)
    rfm["recency_days"] = (snapshot_date - rfm["last_purchase"]).dt.days
    rfm["tenure_days"] = (snapshot_date - rfm["first_purchase"]).dt.days
    rfm = rfm.reset_index().rename(columns={"CustomerID": "customer_id"})
    return rfm[["customer_id", "recency_days", "frequency", "monetary", "tenure_days"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.baseline_notebook", description=__doc__.split("\n")[0]
    )
    parser.add_argument("input", type=Path, help="Kaggle-layout CSV (ISO-8859-1)")
    parser.add_argument("--out-dir", type=Path, help="write rfm and cluster tables here")
    args = parser.parse_args(argv)
    return run_side(lambda: compute_rfm(args.input), args.out_dir)


if __name__ == "__main__":
    sys.exit(main())
