"""The cleaning and RFM rules written again, independently, in pandas.

The dbt models are checked against this second implementation on whole generated files, so a
rule that drifts in SQL shows up as a count that differs here. Kept deliberately plain.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

RAW_COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
NON_PRODUCT_EXACT = {
    "POST",
    "D",
    "C2",
    "DOT",
    "M",
    "BANK CHARGES",
    "S",
    "AMAZONFEE",
    "PADS",
    "B",
    "CRUK",
}
NON_PRODUCT_PREFIXES = ("DCGS", "GIFT_0001")
# The defaults of the vars raw_orders_max_abs_quantity and raw_orders_max_abs_unit_price.
MAX_ABS_QUANTITY = 1_000_000
MAX_ABS_UNIT_PRICE = 1_000_000
# The defaults of raw_orders_max_days_after_build, raw_orders_max_days_outside_date_bulk and
# raw_orders_date_bulk_tail_share.
MAX_DAYS_AFTER_BUILD = 1
MAX_DAYS_OUTSIDE_DATE_BULK = 365
DATE_BULK_TAIL_SHARE = 0.01


def read_raw(path: Path) -> pd.DataFrame:
    """Read a Kaggle-layout CSV as text, as the project does."""
    frame = pd.read_csv(path, dtype=str, encoding="latin-1", keep_default_na=False)
    return frame.replace({"": None})


def invalid_dates(invoiced_at: pd.Series) -> pd.Series:
    """True for lines dated after the build's day (+ slack) or far outside the bulk of the dates."""
    dates = invoiced_at.dt.normalize()
    cumulative = dates.value_counts().sort_index().cumsum()
    total = cumulative.iloc[-1]
    first = cumulative.index[cumulative >= DATE_BULK_TAIL_SHARE * total][0]
    last = cumulative.index[cumulative >= (1 - DATE_BULK_TAIL_SHARE) * total][0]
    margin = pd.Timedelta(days=MAX_DAYS_OUTSIDE_DATE_BULK)
    today = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()
    return (
        (dates < first - margin)
        | (dates > last + margin)
        | (dates > today + pd.Timedelta(days=MAX_DAYS_AFTER_BUILD))
    )


def classify(raw: pd.DataFrame) -> pd.DataFrame:
    """One outcome per raw line: the first exclusion reason that matches, else purchase/return."""
    lines = pd.DataFrame(
        {
            "invoice_id": raw["InvoiceNo"].str.strip().str.upper(),
            "stock_code": raw["StockCode"].str.strip(),
            "description": raw["Description"].str.strip().replace({"": None}),
            "quantity": pd.to_numeric(raw["Quantity"]).astype("int64"),
            "invoiced_at": pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M"),
            "unit_price": pd.to_numeric(raw["UnitPrice"]).round(4),
            "customer_id": pd.to_numeric(raw["CustomerID"]).astype("Int64"),
            "country": raw["Country"].str.strip(),
        }
    )
    amounts = (lines["quantity"] * lines["unit_price"]).to_numpy()
    # Round half away from zero to pennies, as SQL's round on decimals does.
    lines["line_amount"] = np.sign(amounts) * np.floor(np.abs(amounts) * 100 + 0.5 + 1e-9) / 100
    is_duplicate = lines.drop(columns="line_amount").duplicated(keep="first")
    code = lines["stock_code"].str.upper()
    is_non_product = code.isin(NON_PRODUCT_EXACT) | code.str.startswith(NON_PRODUCT_PREFIXES)
    # A C or A invoice is the letter then its number (C536379), not a store code (CHI-536365).
    is_cancellation = lines["invoice_id"].str.match(r"C\d") | (lines["quantity"] < 0)
    conditions = [
        (lines["quantity"].abs() > MAX_ABS_QUANTITY)
        | (lines["unit_price"].abs() > MAX_ABS_UNIT_PRICE),
        invalid_dates(lines["invoiced_at"]),
        lines["customer_id"].isna(),
        is_duplicate,
        lines["invoice_id"].str.match(r"A\d"),
        is_non_product,
        lines["unit_price"] <= 0,
        lines["quantity"] == 0,
        is_cancellation,
    ]
    choices = [
        "implausible_value",
        "invalid_date",
        "missing_customer",
        "duplicate",
        "adjustment",
        "non_product",
        "invalid_price",
        "zero_quantity",
        "return",
    ]
    lines["outcome"] = np.select(conditions, choices, default="purchase")
    return lines


def rfm(lines: pd.DataFrame, as_of_date: pd.Timestamp | None = None) -> pd.DataFrame:
    """Recency, frequency, monetary and tenure per customer, as the issue defines them."""
    kept = lines[lines["outcome"].isin(["purchase", "return"])]
    if as_of_date is None:
        as_of_date = kept["invoiced_at"].max().normalize() + pd.Timedelta(days=1)
    kept = kept[kept["invoiced_at"] < as_of_date]
    # An invoice is dated by its first line; a purchase invoice has at least one purchase line.
    invoices = kept.groupby(["customer_id", "invoice_id"]).agg(
        invoiced_at=("invoiced_at", "min"),
        is_purchase=("outcome", lambda outcomes: (outcomes == "purchase").any()),
    )
    purchases = invoices[invoices["is_purchase"]].reset_index()
    by_customer = purchases.groupby("customer_id")
    result = pd.DataFrame(
        {
            "frequency": by_customer["invoice_id"].nunique(),
            "first_purchase": by_customer["invoiced_at"].min().dt.normalize(),
            "last_purchase": by_customer["invoiced_at"].max().dt.normalize(),
        }
    )
    result["monetary"] = kept.groupby("customer_id")["line_amount"].sum().reindex(result.index)
    result["recency_days"] = (as_of_date - result["last_purchase"]).dt.days
    result["tenure_days"] = (as_of_date - result["first_purchase"]).dt.days
    return result.reset_index()
