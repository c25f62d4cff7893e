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

from .conftest import DbtRun, generate, run_dbt

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


def _latin1(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("latin-1")


def _rows(lines: list[str]) -> list[list[str]]:
    return [row for row in pd.read_csv(pd.io.common.StringIO("\n".join(lines)), dtype=str,
                                       keep_default_na=False).values.tolist()]


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


def _audit_counts(run: DbtRun) -> pd.Series:
    return run.query("select outcome, line_count from main.fct_order_line_audit").set_index(
        "outcome")["line_count"]


def _negative_prices_counted(run: DbtRun, good: DbtRun) -> None:
    counts, good_counts = _audit_counts(run), _audit_counts(good)
    assert counts["invalid_price"] == good_counts["invalid_price"] + 5
    assert counts.sum() == good_counts.sum()


def _future_as_of(run: DbtRun, good: DbtRun) -> None:
    later = run.query("select customer_id, recency_days from main.fct_customer_rfm order by 1")
    base = good.query(
        "select customer_id, recency_days, as_of_date from main.fct_customer_rfm order by 1")
    offset = (pd.Timestamp("2012-06-30") - pd.Timestamp(base["as_of_date"][0])).days
    assert (later["recency_days"] - base["recency_days"] == offset).all()


def _long_description(run: DbtRun, good: DbtRun) -> None:
    length = run.query(
        "select max(length(description)) as n from main_staging.stg_online_retail__order_lines")
    assert length["n"][0] == 1_000_000


CASES = [
    Case("empty_file", lambda lines: b"", says=("is empty",)),
    Case("header_only", lambda lines: _latin1(lines[:1]), says=("no data rows",)),
    Case("missing_column",
         lambda lines: pd.read_csv(pd.io.common.StringIO("\n".join(lines)), dtype=str)
         .drop(columns="Country").to_csv(index=False).encode("latin-1"),
         says=("Country", "missing")),
    Case("renamed_column", lambda lines: _latin1([lines[0].replace("Quantity", "Qty"), *lines[1:]]),
         says=("Quantity", "Qty")),
    Case("extra_columns",
         lambda lines: _latin1([lines[0] + ",Channel", *[line + ",web" for line in lines[1:]]]),
         outcome="same_rfm"),
    Case("utf8_instead_of_latin1",
         lambda lines: ("\n".join(lines) + "\n").encode("utf-8"), outcome="same_rfm"),
    Case("byte_order_mark", lambda lines: b"\xef\xbb\xbf" + _latin1(lines), outcome="same_rfm"),
    Case("semicolon_delimiter", lambda lines: _write(_rows(lines), sep=";"), outcome="same_rfm"),
    Case("dates_day_first", lambda lines: _dates(lines, "%d-%m-%Y %H:%M"),
         says=("InvoiceDate", "raw_orders_timestamp_formats")),
    Case("dates_iso", lambda lines: _dates(lines, "%Y-%m-%d %H:%M:%S"), outcome="same_rfm"),
    Case("unparseable_date", lambda lines: _edit_first(lines, 4, "next tuesday"),
         says=("InvoiceDate", "next tuesday")),
    Case("text_in_quantity", lambda lines: _edit_first(lines, 3, "six"),
         says=("Quantity", "'six'")),
    Case("text_in_unit_price", lambda lines: _edit_first(lines, 5, "2,55"),
         says=("UnitPrice", "'2,55'")),
    Case("customer_id_as_float",
         lambda lines: _write([[*row[:6], f"{row[6]}.0" if row[6] else "", row[7]]
                               for row in _rows(lines)]),
         outcome="same_rfm"),
    Case("fractional_customer_id", lambda lines: _edit_first(lines, 6, "17850.5"),
         says=("CustomerID", "17850.5")),
    Case("header_repeated_inside", lambda lines: _latin1([*lines[:50], HEADER, *lines[50:]]),
         says=("must be", "found 'C", "data row 50")),
    Case("negative_prices", lambda lines: _negate_kept_prices(lines, count=5),
         outcome="builds", check=_negative_prices_counted),
    Case("only_guests", lambda lines: _only(lines, lambda row: row[6] == ""),
         says=("No kept purchase line", "only guests")),
    Case("only_cancellations", lambda lines: _only(lines, lambda row: row[0].startswith("C")),
         says=("No kept purchase line", "only cancellations")),
    Case("single_customer",
         lambda lines: _only(lines, lambda row, first=[]: (first or first.append(row[6]) or True)
                             and row[6] == first[0] if row[6] else False),
         says=("customer",)),
    Case("every_customer_identical",
         lambda lines: _write([
             [f"5{n:05d}", "85123A", "HEART", "6", "12/1/2010 8:26", "2.55", str(12346 + n), "UK"]
             for n in range(30)]),
         says=("identical",)),
    Case("as_of_date_before_all_data", vars="{as_of_date: '2001-01-01'}",
         says=("No kept purchase line before as_of_date 2001-01-01",)),
    Case("as_of_date_in_the_future", vars="{as_of_date: '2012-06-30'}",
         outcome="builds", check=_future_as_of),
    Case("as_of_date_holding_sql", vars="{as_of_date: \"2011-12-10' or 1=1 --\"}",
         says=("as_of_date must be a calendar date",)),
    Case("cluster_k_larger_than_customers", vars="{cluster_k: 5000}",
         says=("k=5000",)),
    Case("description_of_one_megabyte", lambda lines: _edit_first(lines, 2, "X" * 1_000_000),
         outcome="builds", check=_long_description),
]


@pytest.fixture(scope="module")
def good_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines, _ = generate(tmp_path_factory.mktemp("good"), seed=11, lines=10_000)
    return lines


@pytest.fixture(scope="module")
def good_build(good_file: Path, tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    run = run_dbt(["build"], tmp_path_factory.mktemp("good_build"), good_file)
    assert run.returncode == 0, run.output[-5000:]
    return run


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
        path = tmp_path / f"{case.name}.csv"
        path.write_bytes(case.make(good_file.read_text(encoding="latin-1").splitlines()))
    args = ["build", *(["--vars", case.vars] if case.vars else [])]
    run = run_dbt(args, tmp_path / "build", path)
    if case.outcome == "error":
        assert run.returncode != 0, f"{case.name} built green"
        message = re.sub(r"\s+", " ", run.output)
        for expected in case.says:
            assert expected in message, f"{case.name}: {expected!r} not in output:\n{run.output[-3000:]}"
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
