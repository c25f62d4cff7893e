"""Issue 7: a catalog of bad inputs, each with its expected outcome.

Every case either stops the build with a message that names the file, the column or rule and an
example value, or builds with the offending lines counted in the audit. Never a wrong mart with a
green build. The table of cases is in docs/bad_inputs.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from .conftest import DbtRun, SmallBuild, run_dbt

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


@dataclass(frozen=True)
class Case:
    name: str
    # The bad file from the good one's text lines (header first); None = use the good file.
    make: Callable[[list[str]], bytes] | None = None
    vars: str | None = None
    # "error": the build stops and the output holds every string of `says`;
    # "same_rfm": it builds and the RFM mart equals the good file's;
    # "builds": it builds and `check` holds.
    outcome: str = "error"
    says: tuple[str, ...] = ()
    check: Callable[[DbtRun, DbtRun], None] | None = field(default=None, repr=False)
    suffix: str = "csv"
    # The path given is a folder holding the bad file (None: the file itself).
    folder_file: str | None = None
    # What the build selects: None = everything (a "same_rfm" case builds up to the RFM mart,
    # which is all it compares; a case that checks personas builds them).
    select: tuple[str, ...] | None = None

    @property
    def selection(self) -> tuple[str, ...]:
        if self.select is not None:
            return self.select
        return ("+fct_customer_rfm",) if self.outcome == "same_rfm" else ()


def _latin1(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("latin-1")


def _rows(lines: list[str]) -> list[list[str]]:
    return list(
        pd.read_csv(
            pd.io.common.StringIO("\n".join(lines)), dtype=str, keep_default_na=False
        ).values.tolist()
    )


def _write(frame_lines: list[list[str]], header: str = HEADER, sep: str = ",") -> bytes:
    frame = pd.DataFrame(frame_lines, columns=header.split(","))
    return frame.to_csv(index=False, sep=sep).encode("latin-1")


def _edit_first(lines: list[str], column: int, value: str, where=lambda row: True) -> bytes:
    rows = _rows(lines)
    for row in rows:
        if where(row):
            row[column] = value
            break
    return _write(rows)


def _only(lines: list[str], keep: Callable[[list[str]], bool]) -> bytes:
    return _write([row for row in _rows(lines) if keep(row)])


def _dates(lines: list[str], layout: str) -> bytes:
    rows = _rows(lines)
    for row in rows:
        row[4] = pd.Timestamp(pd.to_datetime(row[4], format="%m/%d/%Y %H:%M")).strftime(layout)
    return _write(rows)


def _negate_kept_prices(lines: list[str], count: int) -> bytes:
    """Negate the unit price of the first `count` purchase lines that the cleaning keeps."""
    from .independent_cleaning import classify, read_raw

    raw = read_raw(pd.io.common.StringIO("\n".join(lines)))
    purchases = classify(raw).index[classify(raw)["outcome"] == "purchase"][:count]
    rows = _rows(lines)
    for position in purchases:
        rows[position][5] = f"-{rows[position][5]}"
    return _write(rows)


# Two ids that a double cannot tell apart: 2^53 + 1 and 2^53.
BIG_IDS = {"9007199254740993", "9007199254740992"}


def _two_customers_with_big_ids(lines: list[str]) -> bytes:
    """Give the first two customers of the file the ids 2^53 + 1 and 2^53."""
    rows = _rows(lines)
    customers = list(dict.fromkeys(row[6] for row in rows if row[6]))[:2]
    new_ids = dict(zip(customers, sorted(BIG_IDS, reverse=True), strict=True))
    for row in rows:
        row[6] = new_ids.get(row[6], row[6])
    return _write(rows)


def _big_ids_stay_apart(run: DbtRun, good: DbtRun) -> None:
    rfm = _rfm(run)
    big = rfm[rfm["customer_id"].astype(str).isin(BIG_IDS)]
    assert len(big) == 2, big
    assert len(rfm) == len(_rfm(good))
    # Each big id carries the figures of the customer it replaced.
    columns = ["recency_days", "tenure_days", "frequency", "monetary"]

    def figures(frame: pd.DataFrame) -> list[tuple]:
        return sorted(map(tuple, frame[columns].astype(str).values))

    assert figures(rfm) == figures(_rfm(good))


def _with_added_line(lines: list[str], column: int, value: str) -> bytes:
    """The file plus a copy of its first kept purchase line, on a new invoice, with one value changed."""
    from .independent_cleaning import classify, read_raw

    raw = read_raw(pd.io.common.StringIO("\n".join(lines)))
    first_purchase = classify(raw).index[classify(raw)["outcome"] == "purchase"][0]
    rows = _rows(lines)
    added = list(rows[first_purchase])
    added[0], added[column] = "599999", value
    return _write([*rows, added])


RETURNS_ONLY_CUSTOMER = 99999


def _customer_with_only_returns(lines: list[str]) -> bytes:
    """The file plus a customer whose one line returns an item bought before the file began."""
    from .independent_cleaning import classify, read_raw

    raw = read_raw(pd.io.common.StringIO("\n".join(lines)))
    first_purchase = classify(raw).index[classify(raw)["outcome"] == "purchase"][0]
    rows = _rows(lines)
    returned = list(rows[first_purchase])
    returned[0], returned[3], returned[6] = "C599998", "-1", str(RETURNS_ONLY_CUSTOMER)
    return _write([*rows, returned])


def _last_184_days(lines: list[str]) -> bytes:
    """The file's last 184 days: just over two 90-day horizons, so only the customers of its
    first four days have a purchase before the training cutoff."""
    rows = _rows(lines)
    dates = pd.to_datetime([row[4] for row in rows], format="%m/%d/%Y %H:%M").normalize()
    start = dates.max() + pd.Timedelta(days=1) - pd.Timedelta(days=184)
    return _write([row for row, day in zip(rows, dates, strict=True) if day >= start])


def _store_prefixed_invoices(lines: list[str]) -> bytes:
    """Every invoice number behind a store code, CHI- or ATL- in turn (C536379 -> CHI-C536379):
    only the letter then a digit marks a C (cancellation) or A (adjustment) invoice."""
    rows = _rows(lines)
    for row in rows:  # by the invoice's number, so that its lines keep one invoice
        row[0] = ("CHI-" if int(re.sub(r"\D", "", row[0]) or 0) % 2 else "ATL-") + row[0]
    return _write(rows)


def _copies_kept(run: DbtRun, good: DbtRun) -> None:
    """raw_orders_exclude_exact_duplicates: false: no line is a duplicate, none is lost, and
    the copies the default excludes count as sales (or meet the next rule)."""
    audit = run.query("select outcome, line_count, revenue, is_kept from main.fct_order_line_audit")
    base = good.query("select outcome, line_count, revenue, is_kept from main.fct_order_line_audit")
    counts, base_counts = (
        audit.set_index("outcome")["line_count"],
        base.set_index("outcome")["line_count"],
    )
    assert base_counts["duplicate"] > 0 and counts["duplicate"] == 0
    assert counts.sum() == base_counts.sum()
    kept = audit.loc[audit["is_kept"], "line_count"].sum()
    base_kept = base.loc[base["is_kept"], "line_count"].sum()
    assert base_kept < kept <= base_kept + base_counts["duplicate"]
    revenue = audit.loc[audit["is_kept"], "revenue"].astype(float).sum()
    assert revenue > base.loc[base["is_kept"], "revenue"].astype(float).sum()


def _no_moves_without_history(run: DbtRun, good: DbtRun) -> None:
    """history_months: 0: one snapshot date, so no period and no move (every customer was
    listed as a move from not_yet_customer before)."""
    dates = run.query(
        "select count(distinct snapshot_date) as n from main.fct_customer_segment_history"
    )
    assert dates["n"][0] == 1
    moves = run.query("select count(*) as n from main.fct_segment_movements_latest")
    assert moves["n"][0] == 0
    assert good.query("select count(*) as n from main.fct_segment_movements_latest")["n"][0] > 0


def _too_few_to_train_on(run: DbtRun, good: DbtRun) -> None:
    """No backtest, saying why; no probability rather than one fitted on three customers."""
    status = run.query("select is_computed, not_computed_reason from main.fct_backtest_summary")
    assert len(status) == 1 and not status["is_computed"][0]
    reason = status["not_computed_reason"][0]
    assert "customers with a purchase before the training cutoff" in reason, reason
    assert "fewer than cluster_min_customers = 20" in reason, reason
    probabilities = run.query(
        "select count(*) as customers, count(next_purchase_probability) as scored"
        " from main.dim_customer_segments"
    )
    assert probabilities["customers"][0] > 0 and probabilities["scored"][0] == 0


def _returns_only_customer_is_no_purchase(run: DbtRun, good: DbtRun) -> None:
    """Every data test passed (the build is green); the customer is listed as no_purchase, with
    no purchase to measure, and the RFM mart leaves them out."""
    customer = run.query(
        "select persona_key, matched_persona_key, frequency, monetary, meets_persona_conditions,"
        " next_purchase_probability"
        f" from main.dim_customer_segments where customer_id = {RETURNS_ONLY_CUSTOMER}"
    )
    assert len(customer) == 1
    assert customer["persona_key"].iloc[0] == "no_purchase"
    # A rule persona is also the customer's first match (no persona's conditions are judged).
    assert customer["matched_persona_key"].iloc[0] == "no_purchase"
    # Nothing to predict from: no probability, while the customers with a purchase have one.
    assert pd.isna(customer["next_purchase_probability"].iloc[0])
    scored = run.query(
        "select count(next_purchase_probability) as n from main.dim_customer_segments"
        " where frequency > 0"
    )
    assert scored["n"][0] > 0
    assert customer["frequency"].iloc[0] == 0
    assert float(customer["monetary"].iloc[0]) < 0
    assert bool(customer["meets_persona_conditions"].iloc[0])
    rfm = run.query(
        f"select count(*) as n from main.fct_customer_rfm where customer_id = {RETURNS_ONLY_CUSTOMER}"
    )
    assert rfm["n"].iloc[0] == 0
    pd.testing.assert_frame_equal(_rfm(run), _rfm(good))


# What an excluded line could change: the audit's counts and every customer's RFM and persona.
EXCLUDED_LINE_MARTS = ("+fct_order_line_audit", "+fct_customer_rfm", "+dim_customer_segments")


def _one_more_line_excluded_as(outcome: str) -> Callable[[DbtRun, DbtRun], None]:
    """The added line is counted under `outcome`; every customer's RFM and persona is unchanged."""

    def check(run: DbtRun, good: DbtRun) -> None:
        pd.testing.assert_frame_equal(_rfm(run), _rfm(good))
        personas = "select customer_id, persona_key from main.dim_customer_segments order by 1"
        pd.testing.assert_frame_equal(run.query(personas), good.query(personas))
        counts, good_counts = _audit_counts(run), _audit_counts(good)
        assert counts.get(outcome, 0) == good_counts.get(outcome, 0) + 1
        assert counts.sum() == good_counts.sum() + 1

    return check


def _kept_and_moves_as_of_date(as_of_date: str) -> Callable[[DbtRun, DbtRun], None]:
    """The added line is kept as a purchase: nothing is invalid, and as_of_date follows it."""

    def check(run: DbtRun, good: DbtRun) -> None:
        counts, good_counts = _audit_counts(run), _audit_counts(good)
        assert counts.get("invalid_date", 0) == 0
        assert counts["purchase"] == good_counts["purchase"] + 1
        as_of = run.query("select distinct as_of_date from main.fct_customer_rfm")["as_of_date"]
        assert [str(pd.Timestamp(value).date()) for value in as_of] == [as_of_date]

    return check


def _all_null_parquet(lines: list[str]) -> bytes:
    buffer = pd.io.common.BytesIO()
    pd.DataFrame(
        {column: pd.Series([None] * 3, dtype="string") for column in HEADER.split(",")}
    ).to_parquet(buffer, index=False)
    return buffer.getvalue()


def _audit_counts(run: DbtRun) -> pd.Series:
    return run.query("select outcome, line_count from main.fct_order_line_audit").set_index(
        "outcome"
    )["line_count"]


def _negative_prices_counted(run: DbtRun, good: DbtRun) -> None:
    counts, good_counts = _audit_counts(run), _audit_counts(good)
    assert counts["invalid_price"] == good_counts["invalid_price"] + 5
    assert counts.sum() == good_counts.sum()


def _future_as_of(run: DbtRun, good: DbtRun) -> None:
    later = run.query("select customer_id, recency_days from main.fct_customer_rfm order by 1")
    base = good.query(
        "select customer_id, recency_days, as_of_date from main.fct_customer_rfm order by 1"
    )
    offset = (pd.Timestamp("2012-06-30") - pd.Timestamp(base["as_of_date"][0])).days
    assert (later["recency_days"] - base["recency_days"] == offset).all()
    # The last horizon runs past the end of the data: the backtest says so instead of failing.
    _backtest_not_after_the_data(run, good)


def _backtest_not_after_the_data(run: DbtRun, good: DbtRun) -> None:
    """An as_of_date weeks after the data: no backtest, saying why, and no probability (the
    backtest counted the weeks without data as weeks without purchases before)."""
    status = run.query("select is_computed, not_computed_reason from main.fct_backtest_summary")
    assert len(status) == 1 and not status["is_computed"][0]
    assert "days after the last kept line" in status["not_computed_reason"][0]
    assert "not covered by the data" in status["not_computed_reason"][0]
    scored = run.query(
        "select count(next_purchase_probability) as n from main.dim_customer_segments"
    )
    assert scored["n"][0] == 0


def _long_description(run: DbtRun, good: DbtRun) -> None:
    length = run.query(
        "select max(length(description)) as n from main_staging.stg_online_retail__order_lines"
    )
    assert length["n"][0] == 1_000_000


CASES = [
    Case("empty_file", lambda lines: b"", says=("is empty",)),
    Case(
        "customer_with_only_returns",
        _customer_with_only_returns,
        outcome="builds",
        check=_returns_only_customer_is_no_purchase,
    ),
    Case(
        "price_finer_than_four_decimals",
        lambda lines: _edit_first(lines, 5, "0.00006353"),
        says=(
            "column UnitPrice has more decimals than the 4 kept",
            "bitcoin in satoshi",
            "found '0.00006353' on data row 1",
        ),
    ),
    Case(
        "price_with_float_noise",
        lambda lines: _edit_first(lines, 5, "2.5500000000000003", lambda row: row[5] == "2.55"),
        outcome="same_rfm",
    ),
    Case("store_prefixed_invoice_numbers", _store_prefixed_invoices, outcome="same_rfm"),
    Case(
        "no_history",
        None,
        vars="{history_months: 0}",
        outcome="builds",
        check=_no_moves_without_history,
        select=("+fct_segment_movements_latest",),
    ),
    Case(
        "exact_copies_kept_when_asked",
        None,
        vars="{raw_orders_exclude_exact_duplicates: false}",
        outcome="builds",
        check=_copies_kept,
        select=("+fct_order_line_audit",),
    ),
    Case(
        "exclude_duplicates_not_true_or_false",
        None,
        vars="{raw_orders_exclude_exact_duplicates: maybe}",
        says=("raw_orders_exclude_exact_duplicates must be true", "got: maybe"),
    ),
    Case(
        "log_just_over_two_horizons",
        _last_184_days,
        vars="{cluster_min_customers: 20}",
        outcome="builds",
        check=_too_few_to_train_on,
    ),
    Case(
        "folder_instead_of_file",
        lambda lines: _latin1(lines),
        folder_file="orders.csv",
        says=("is a folder, not a file: name the file itself", "orders.csv"),
    ),
    Case(
        "empty_folder",
        lambda lines: b"",
        folder_file="",
        says=("is a folder, not a file", "holds no file"),
    ),
    Case("header_only", lambda lines: _latin1(lines[:1]), says=("no data rows",)),
    Case(
        "missing_column",
        lambda lines: (
            pd.read_csv(pd.io.common.StringIO("\n".join(lines)), dtype=str)
            .drop(columns="Country")
            .to_csv(index=False)
            .encode("latin-1")
        ),
        says=("Country", "missing"),
    ),
    Case(
        "renamed_column",
        lambda lines: _latin1([lines[0].replace("Quantity", "Qty"), *lines[1:]]),
        says=("Quantity", "Qty"),
    ),
    Case(
        "line_with_too_few_fields",
        lambda lines: _latin1([*lines[:50], lines[50].rsplit(",", 1)[0], *lines[51:]]),
        says=(
            "line 51 does not have the header's number of fields",
            "Expected Number of Columns: 8 Found: 7",
            "The line: '",
        ),
    ),
    Case(
        "line_with_too_many_fields",
        lambda lines: _latin1([*lines[:50], lines[50] + ",extra", *lines[51:]]),
        says=(
            "line 51 does not have the header's number of fields",
            "Expected Number of Columns: 8 Found: 9",
            ",extra'",
        ),
    ),
    Case(
        "line_with_too_many_fields_and_delimiter_set",
        lambda lines: _latin1([*lines[:50], lines[50] + ",extra", *lines[51:]]),
        vars="{raw_orders_delimiter: ','}",
        says=("line 51 does not have the header's number of fields",),
    ),
    Case(
        "extra_columns",
        lambda lines: _latin1([lines[0] + ",Channel", *[line + ",web" for line in lines[1:]]]),
        outcome="same_rfm",
    ),
    Case(
        "utf8_instead_of_latin1",
        lambda lines: ("\n".join(lines) + "\n").encode("utf-8"),
        outcome="same_rfm",
    ),
    Case(
        "utf16_with_auto_encoding",
        lambda lines: ("\n".join(lines) + "\n").encode("utf-16"),
        outcome="same_rfm",
    ),
    Case(
        "utf16_named_latin1",
        lambda lines: ("\n".join(lines) + "\n").encode("utf-16"),
        vars="{raw_orders_encoding: latin-1}",
        says=("looks like UTF-16 text", "set the dbt var raw_orders_encoding to utf-16"),
    ),
    Case(
        "latin1_named_utf8",
        lambda lines: _edit_first(lines, 2, "CAF\u00c9 MUG"),
        vars="{raw_orders_encoding: utf-8}",
        says=("line 2 is not valid utf-8 text: set the dbt var raw_orders_encoding",),
    ),
    Case(
        "utf16_big_endian",
        lambda lines: b"\xfe\xff" + ("\n".join(lines) + "\n").encode("utf-16-be"),
        says=("is UTF-16 big-endian", "iconv -f UTF-16BE -t UTF-8"),
    ),
    Case(
        "windows_1252_file",
        lambda lines: _edit_first(lines, 2, "JOHN\x92S MUG"),
        says=("is not valid UTF-8, nor ISO-8859-1 (latin-1): line 2 holds the byte 0x92",),
    ),
    Case(
        "windows_1252_file_named_latin1",
        lambda lines: _edit_first(lines, 2, "JOHN\x92S MUG"),
        vars="{raw_orders_encoding: latin-1}",
        says=(
            "is not ISO-8859-1 (latin-1), the var raw_orders_encoding: line 2 holds the byte 0x92",
        ),
    ),
    Case("byte_order_mark", lambda lines: b"\xef\xbb\xbf" + _latin1(lines), outcome="same_rfm"),
    Case("semicolon_delimiter", lambda lines: _write(_rows(lines), sep=";"), outcome="same_rfm"),
    Case(
        "dates_day_first",
        lambda lines: _dates(lines, "%d-%m-%Y %H:%M"),
        says=("InvoiceDate", "raw_orders_timestamp_formats"),
    ),
    Case("dates_iso", lambda lines: _dates(lines, "%Y-%m-%d %H:%M:%S"), outcome="same_rfm"),
    Case(
        "two_digit_years",
        lambda lines: _dates(lines, "%m/%d/%y %H:%M"),
        says=("column InvoiceDate has a two-digit year", "on data row 1"),
    ),
    Case(
        "two_digit_year_among_four_digit_ones",
        lambda lines: _edit_first(lines, 4, "12/1/10 8:26"),
        says=("column InvoiceDate has a two-digit year", "found '12/1/10 8:26' on data row 1"),
    ),
    Case(
        "two_digit_years_with_a_y_layout",
        lambda lines: _dates(lines, "%m/%d/%y %H:%M"),
        vars="{raw_orders_timestamp_formats: ['%m/%d/%y %H:%M']}",
        outcome="same_rfm",
    ),
    Case(
        "unparseable_date",
        lambda lines: _edit_first(lines, 4, "next tuesday"),
        says=("InvoiceDate", "next tuesday"),
    ),
    Case(
        "text_in_quantity", lambda lines: _edit_first(lines, 3, "six"), says=("Quantity", "'six'")
    ),
    Case(
        "text_in_unit_price",
        lambda lines: _edit_first(lines, 5, "2,55"),
        says=("UnitPrice", "'2,55'"),
    ),
    Case(
        "customer_id_as_float",
        lambda lines: _write(
            [[*row[:6], f"{row[6]}.0" if row[6] else "", row[7]] for row in _rows(lines)]
        ),
        outcome="same_rfm",
    ),
    Case(
        "nan_in_quantity",
        lambda lines: _edit_first(lines, 3, "NaN"),
        says=(
            "column Quantity must be a whole number, not NaN or infinity",
            "found 'NaN' on data row 1",
        ),
    ),
    Case(
        "infinity_in_quantity",
        lambda lines: _edit_first(lines, 3, "inf"),
        says=(
            "column Quantity must be a whole number, not NaN or infinity",
            "found 'inf' on data row 1",
        ),
    ),
    Case(
        "exponent_in_quantity",
        lambda lines: _edit_first(lines, 3, "1e20"),
        says=("column Quantity must be a whole number", "found '1e20' on data row 1"),
    ),
    Case(
        "overflow_in_quantity",
        lambda lines: _edit_first(lines, 3, "99999999999999999999"),
        says=(
            "column Quantity must be a whole number from -9223372036854775808",
            "found '99999999999999999999' on data row 1",
        ),
    ),
    Case(
        "nan_in_unit_price",
        lambda lines: _edit_first(lines, 5, "nan"),
        says=(
            "column UnitPrice must be a number, not NaN or infinity",
            "found 'nan' on data row 1",
        ),
    ),
    Case(
        "overflow_in_unit_price",
        lambda lines: _edit_first(lines, 5, "1e20"),
        says=(
            "column UnitPrice must be a number below 100,000,000,000,000",
            "found '1e20' on data row 1",
        ),
    ),
    Case(
        "nan_in_customer_id",
        lambda lines: _edit_first(lines, 6, "NaN"),
        says=(
            "column CustomerID must be a whole number written in digits",
            "found 'NaN' on data row 1",
        ),
    ),
    Case(
        "fractional_customer_id",
        lambda lines: _edit_first(lines, 6, "17850.5"),
        says=("CustomerID", "17850.5"),
    ),
    Case(
        "customer_ids_beyond_float_precision",
        _two_customers_with_big_ids,
        outcome="builds",
        check=_big_ids_stay_apart,
        select=("+fct_customer_rfm",),
    ),
    Case(
        "customer_id_in_scientific_notation",
        lambda lines: _edit_first(lines, 6, "4.01283E+15", where=lambda row: row[6] != ""),
        says=("column CustomerID is in scientific notation", "found '4.01283E+15' on data row"),
    ),
    Case(
        "customer_id_with_leading_zero",
        lambda lines: _edit_first(lines, 6, "017850", where=lambda row: row[6] != ""),
        says=("column CustomerID has a leading zero", "found '017850' on data row"),
    ),
    Case(
        "customer_id_beyond_bigint",
        lambda lines: _edit_first(lines, 6, "99999999999999999999"),
        says=(
            "column CustomerID is beyond the largest customer id",
            "found '99999999999999999999' on data row 1",
        ),
    ),
    Case(
        "header_repeated_inside",
        lambda lines: _latin1([*lines[:50], HEADER, *lines[50:]]),
        says=("must be", "found 'C", "data row 50"),
    ),
    Case(
        "blank_line",
        lambda lines: _latin1([*lines[:50], ",,,,,,,", *lines[50:]]),
        says=("data row 50 is blank (every field is empty",),
    ),
    Case(
        "blank_invoice_number",
        lambda lines: _edit_first(lines, 0, ""),
        says=("column InvoiceNo is empty on data row 1",),
    ),
    Case(
        "all_null_parquet",
        _all_null_parquet,
        suffix="parquet",
        says=("data row 1 is blank (every field is empty",),
    ),
    Case(
        "negative_prices",
        lambda lines: _negate_kept_prices(lines, count=5),
        outcome="builds",
        check=_negative_prices_counted,
        select=("+fct_order_line_audit",),
    ),
    Case(
        "date_after_the_build",
        lambda lines: _with_added_line(lines, 4, "12/1/2101 8:26"),
        outcome="builds",
        check=_one_more_line_excluded_as("invalid_date"),
        select=EXCLUDED_LINE_MARTS,
    ),
    Case(
        "date_far_outside_the_data",
        lambda lines: _with_added_line(lines, 4, "12/1/2025 8:26"),
        outcome="builds",
        check=_one_more_line_excluded_as("invalid_date"),
        select=EXCLUDED_LINE_MARTS,
    ),
    Case(
        "date_shortly_after_the_data",
        lambda lines: _with_added_line(lines, 4, "3/1/2012 9:00"),
        outcome="builds",
        check=_kept_and_moves_as_of_date("2012-03-02"),
        select=("+fct_order_line_audit", "+fct_customer_rfm"),
    ),
    Case(
        "date_checks_switched_off",
        lambda lines: _with_added_line(lines, 4, "12/1/2101 8:26"),
        vars="{raw_orders_max_days_after_build: null, raw_orders_max_days_outside_date_bulk: null}",
        outcome="builds",
        check=_kept_and_moves_as_of_date("2101-12-02"),
        select=("+fct_order_line_audit", "+fct_customer_rfm"),
    ),
    Case(
        "date_bulk_tail_share_out_of_range",
        vars="{raw_orders_date_bulk_tail_share: 0.6}",
        says=("raw_orders_date_bulk_tail_share must be a number from 0 to 0.25", "got: 0.6"),
    ),
    Case(
        "implausible_quantity",
        lambda lines: _with_added_line(lines, 3, "1000000000000000"),
        outcome="builds",
        check=_one_more_line_excluded_as("implausible_value"),
        select=EXCLUDED_LINE_MARTS,
    ),
    Case(
        "implausible_unit_price",
        lambda lines: _with_added_line(lines, 5, "2500000.00"),
        outcome="builds",
        check=_one_more_line_excluded_as("implausible_value"),
        select=EXCLUDED_LINE_MARTS,
    ),
    Case(
        "plausible_bounds_too_wide",
        vars="{raw_orders_max_abs_quantity: 1000000000000, raw_orders_max_abs_unit_price: 1000000}",
        says=("allow line amounts above 10^14",),
    ),
    # The audit's figures are in the message: a stopped build publishes no audit mart.
    Case(
        "only_guests",
        lambda lines: _only(lines, lambda row: row[6] == ""),
        says=(
            "No kept purchase line",
            "lines went (lines per outcome, as fct_order_line_audit counts them): "
            "missing_customer ",
            "Only guests?",
        ),
    ),
    Case(
        "only_cancellations",
        lambda lines: _only(lines, lambda row: row[0].startswith("C")),
        says=("No kept purchase line", "lines per outcome", "return ", "Only cancellations?"),
    ),
    Case(
        "single_customer",
        lambda lines: _only(
            lines,
            lambda row, first=[]: (
                (first or first.append(row[6]) or True) and row[6] == first[0] if row[6] else False
            ),
        ),
        says=("customer",),
    ),
    # Three customers cannot be segmented into personas that mean anything: the build stops
    # (issue 14: it gave a green build with personas that contradicted the data).
    Case(
        "three_customers",
        lambda lines: _write(
            [
                [
                    f"5{n:05d}",
                    "85123A",
                    "HEART",
                    str(6 * (n + 1)),
                    f"12/{n + 1}/2010 8:26",
                    "2.55",
                    str(12346 + n),
                    "UK",
                ]
                for n in range(3)
            ]
        ),
        says=("only 3 customer(s) can be clustered", "cluster_min_customers = 50"),
    ),
    Case(
        "every_customer_identical",
        lambda lines: _write(
            [
                [
                    f"5{n:05d}",
                    "85123A",
                    "HEART",
                    "6",
                    "12/1/2010 8:26",
                    "2.55",
                    str(12346 + n),
                    "UK",
                ]
                for n in range(30)
            ]
        ),
        says=("identical",),
    ),
    Case(
        "as_of_date_before_all_data",
        vars="{as_of_date: '2001-01-01'}",
        says=("No kept purchase line before as_of_date 2001-01-01",),
    ),
    Case(
        "as_of_date_in_the_future",
        vars="{as_of_date: '2012-06-30'}",
        outcome="builds",
        check=_future_as_of,
    ),
    Case(
        "as_of_date_weeks_after_the_data",
        vars="{as_of_date: '2012-01-31'}",
        outcome="builds",
        check=_backtest_not_after_the_data,
    ),
    Case(
        "as_of_date_holding_sql",
        vars='{as_of_date: "2011-12-10\' or 1=1 --"}',
        says=("as_of_date must be a calendar date",),
    ),
    Case(
        "as_of_date_last_day_of_year_9999",
        vars="{as_of_date: '9999-12-31'}",
        says=("as_of_date must be a calendar date", "years 1000 to 9998", "got: 9999-12-31"),
    ),
    Case("cluster_k_larger_than_customers", vars="{cluster_k: 5000}", says=("k=5000",)),
    Case(
        "cluster_features_misspelled_key",
        vars=(
            "{cluster_features: [{name: recency, source_column: recency_days, transfrom: sqrt},"
            " {name: frequency, source_column: frequency, transform: log1p},"
            " {name: monetary, source_column: monetary, transform: log1p, floor_negative: true},"
            " {name: tenure, source_column: tenure_days}]}"
        ),
        says=("cluster_features: entry 1 has unknown key(s) transfrom",),
    ),
    Case(
        "cluster_features_without_tenure",
        vars=(
            "{cluster_features: [{name: recency, source_column: recency_days, transform: sqrt},"
            " {name: frequency, source_column: frequency, transform: log1p},"
            " {name: monetary, source_column: monetary, transform: log1p, floor_negative: true}]}"
        ),
        says=("must list each of recency, frequency, monetary, tenure once", "got: recency"),
    ),
    # Every var is checked before any model runs; none reaches SQL unchecked.
    Case(
        "cluster_k_below_two",
        vars="{cluster_k: 1}",
        says=("cluster_k must be 'auto' or a whole number of at least 2", "got: 1"),
    ),
    Case(
        "cluster_random_state_not_a_number",
        vars="{cluster_random_state: 'forty-two'}",
        says=("cluster_random_state must be a whole number from 0 to 4294967295", "got: forty-two"),
    ),
    Case(
        "cluster_n_init_zero",
        vars="{cluster_n_init: 0}",
        says=("cluster_n_init must be a whole number from 1 to 1000", "got: 0"),
    ),
    Case(
        "top_rfm_segments_holding_sql",
        vars="{top_rfm_segments_per_persona: '99 or true'}",
        says=(
            "top_rfm_segments_per_persona must be a whole number from 1 to 100",
            "got: 99 or true",
        ),
    ),
    Case(
        "top_rfm_segments_negative",
        vars="{top_rfm_segments_per_persona: -1}",
        says=("top_rfm_segments_per_persona must be a whole number from 1 to 100", "got: -1"),
    ),
    Case(
        "timestamp_format_holding_a_quote",
        vars='{raw_orders_timestamp_formats: ["%m/%d/%Y\' or 1=1 --"]}',
        says=("raw_orders_timestamp_formats: each layout must be", "without quotes"),
    ),
    Case(
        "timestamp_formats_as_a_string",
        vars="{raw_orders_timestamp_formats: '%m/%d/%Y %H:%M'}",
        says=("raw_orders_timestamp_formats must be a list of date layouts",),
    ),
    Case(
        "two_digit_year_layout_after_four_digit_one",
        vars="{raw_orders_timestamp_formats: ['%m/%d/%Y %H:%M', '%m/%d/%y %H:%M']}",
        says=("List the %y layouts first",),
    ),
    Case(
        "delimiter_holding_a_quote",
        vars='{raw_orders_delimiter: "\'"}',
        says=("raw_orders_delimiter must be auto or one character",),
    ),
    Case(
        "unknown_encoding",
        vars="{raw_orders_encoding: ebcdic}",
        says=("raw_orders_encoding must be auto, utf-8, latin-1 or utf-16", "got: ebcdic"),
    ),
    Case(
        "description_of_one_megabyte",
        lambda lines: _edit_first(lines, 2, "X" * 1_000_000),
        outcome="builds",
        check=_long_description,
        select=("+stg_online_retail__order_lines",),
    ),
]


@pytest.fixture(scope="module")
def good_file(small_build: SmallBuild) -> Path:
    return small_build.data


@pytest.fixture(scope="module")
def good_build(small_build: SmallBuild) -> DbtRun:
    return small_build.build


def _rfm(run: DbtRun) -> pd.DataFrame:
    return run.query(
        "select customer_id, recency_days, tenure_days, frequency, monetary "
        "from main.fct_customer_rfm order by customer_id"
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(case: Case, good_file: Path, good_build: DbtRun, tmp_path: Path):
    if case.make is None:
        path = good_file
    else:
        path = tmp_path / f"{case.name}.{case.suffix}"
        content = case.make(good_file.read_text(encoding="latin-1").splitlines())
        if case.folder_file is None:
            path.write_bytes(content)
        else:
            path.mkdir()
            if case.folder_file:
                (path / case.folder_file).write_bytes(content)
    # The dbt unit tests do not read the file: test_dbt_unit_tests runs them once.
    args = [
        "build",
        "--exclude-resource-type",
        "unit_test",
        *(
            ["--select", *case.selection, "--indirect-selection", "cautious"]
            if case.selection
            else []
        ),
        *(["--vars", case.vars] if case.vars else []),
    ]
    run = run_dbt(args, tmp_path / "build", path)
    if case.outcome == "error":
        assert run.returncode != 0, f"{case.name} built green"
        message = re.sub(r"\s+", " ", run.output)
        for expected in case.says:
            assert expected in message, (
                f"{case.name}: {expected!r} not in output:\n{run.output[-3000:]}"
            )
        if case.make is not None and "is empty" not in case.says:
            assert str(path) in message or case.vars, f"{case.name}: file not named"
    else:
        assert run.returncode == 0, run.output[-5000:]
        if case.outcome == "same_rfm":
            pd.testing.assert_frame_equal(_rfm(run), _rfm(good_build))
        else:
            case.check(run, good_build)


def test_every_case_is_in_the_docs_table():
    from .conftest import PROJECT_DIR

    table = (PROJECT_DIR / "docs" / "bad_inputs.md").read_text()
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", table, flags=re.MULTILINE))
    assert documented == {case.name for case in CASES}
