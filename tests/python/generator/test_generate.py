"""The synthetic Online Retail file: reproducible, in the Kaggle layout, calibrated to the
public facts of the real file (shared/ONLINE_RETAIL_FACTS.md), with customers who buy over time
as in a shop and the truth of their state written beside the file.

Facts that need the full size are checked once on a default-size file written by the CLI
code path; the rest use small files to stay fast.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from online_retail_generator import generate, timelines

# Facts of the real file, and how far the generated default-size file may stray from them.
FACT_LINES = 541_909
FACT_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
FACT_GUEST_LINE_SHARE = 0.249  # 135,080 lines without CustomerID
GUEST_SHARE_TOLERANCE = 0.03  # absolute, +-3 percentage points
FACT_CANCELLATION_LINES = 9_288  # InvoiceNo starting with C
FACT_DUPLICATE_LINES = 5_268  # exact copies of an earlier line
FACT_ZERO_PRICE_LINES = 2_515
FACT_MISSING_DESCRIPTIONS = 1_454
FACT_NON_C_LINES_AT_MOST_ZERO = 10_624 - 9_288  # quantity <= 0 outside C invoices
COUNT_TOLERANCE = 0.20  # relative, for the line counts above
FACT_CUSTOMERS = 4_372
CUSTOMER_TOLERANCE = 0.10  # relative
FACT_INVOICES = 25_900
FACT_STOCK_CODES = 4_070
DISTINCT_TOLERANCE = 0.10  # relative, for invoices and stock codes
FACT_COUNTRIES = 38
FACT_UK_LINE_SHARE = 0.914
UK_SHARE_TOLERANCE = 0.02  # absolute
# Spend per customer after cleaning: median ~GBP 670, mean ~2,050, max ~280,000.
SPEND_MEAN_TO_MEDIAN = (2.0, 5.0)
SPEND_MAX_TO_MEDIAN_AT_LEAST = 50
FACT_FIRST_INVOICE_NUMBER = 536_365
FACT_FIRST_DATE = pd.Timestamp("2010-12-01 08:26")
FACT_LAST_DATE = pd.Timestamp("2011-12-09 12:50")
FACT_BIG_ORDER = 80_995
FACT_BAD_DEBT_PRICE = -11_062.06
NON_PRODUCT_CODES = {
    "POST",
    "post",
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
NON_PRODUCT_PREFIXES = ("DCGS", "gift_0001")
# Ground truth and behaviour over time (timelines.py).
MIN_PERSONA_SHARE = 0.05  # each true state holds at least this share of the customers
MIN_RECENCY_AUC = 0.65  # recency ranks next-90-day buyers at least this well at any cutoff
MIN_MONTHLY_JOIN_SHARE = 0.03  # of all customers, first buying in each month of 2011
# Distinct customers buying in November against June: 1,711 / 1,051 in the real file.
MIN_NOVEMBER_TO_JUNE = 1.3
AS_OF_DATE = pd.Timestamp("2011-12-10")

SMALL_LINES = 50_000
# M/D/YYYY H:MM without zero padding on month, day and hour.
DATE_TEXT = re.compile(r"^(?:[1-9]|1[0-2])/(?:[1-9]|[12]\d|3[01])/\d{4} (?:\d|1\d|2[0-3]):[0-5]\d$")
PRICE_TEXT = re.compile(r"^-?(?:0|[1-9]\d*)(?:\.\d?[1-9])?$")
CUSTOMER_TEXT = re.compile(r"^(?:\d{5})?$")
INVOICE_TEXT = re.compile(r"^[CA]?\d{6}$")


def read_text(path: Path) -> pd.DataFrame:
    """The CSV as text, blanks kept as empty strings."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="latin-1")


def typed(raw: pd.DataFrame) -> pd.DataFrame:
    """Typed columns parsed from the text of the file."""
    return pd.DataFrame(
        {
            "InvoiceNo": raw["InvoiceNo"],
            "StockCode": raw["StockCode"],
            "Description": raw["Description"].replace("", None),
            "Quantity": raw["Quantity"].astype("int64"),
            "InvoiceDate": pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M"),
            "UnitPrice": raw["UnitPrice"].astype(float),
            "CustomerID": pd.to_numeric(raw["CustomerID"].replace("", None)).astype("Int64"),
            "Country": raw["Country"],
        }
    )


def is_non_product(codes: pd.Series) -> pd.Series:
    return codes.isin(NON_PRODUCT_CODES) | codes.str.startswith(NON_PRODUCT_PREFIXES)


def customer_rfm(lines: pd.DataFrame) -> pd.DataFrame:
    """Recency, frequency, monetary and tenure per customer after the usual cleaning."""
    kept = lines[
        lines["CustomerID"].notna()
        & ~lines.duplicated()
        & ~lines["InvoiceNo"].str.startswith("A")
        & ~is_non_product(lines["StockCode"])
        & (lines["UnitPrice"] > 0)
        & (lines["Quantity"] != 0)
    ].assign(
        amount=lambda d: d["Quantity"] * d["UnitPrice"],
        day=lambda d: d["InvoiceDate"].dt.normalize(),
    )
    purchases = kept[~kept["InvoiceNo"].str.startswith("C") & (kept["Quantity"] > 0)]
    by_customer = purchases.groupby("CustomerID")
    return pd.DataFrame(
        {
            "recency": (AS_OF_DATE - by_customer["day"].max()).dt.days,
            "frequency": by_customer["InvoiceNo"].nunique(),
            "monetary": kept.groupby("CustomerID")["amount"].sum(),
            "tenure": (AS_OF_DATE - by_customer["day"].min()).dt.days,
        }
    ).dropna(subset=["frequency"])


def assert_near(observed: float, expected: float, relative: float) -> None:
    assert abs(observed - expected) <= relative * expected, (observed, expected, relative)


# ------------------------------------------------------------------------------------------
# Fixtures
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def default_files(default_data: tuple[Path, Path]) -> tuple[Path, Path]:
    """The default-size file and its personas, written once per test run through the CLI entry
    point (tests/python/conftest.py)."""
    return default_data


@pytest.fixture(scope="module")
def default_raw(default_files: tuple[Path, Path]) -> pd.DataFrame:
    return read_text(default_files[0])


@pytest.fixture(scope="module")
def default_lines(default_raw: pd.DataFrame) -> pd.DataFrame:
    return typed(default_raw)


@pytest.fixture(scope="module")
def default_personas(default_files: tuple[Path, Path]) -> pd.DataFrame:
    return pd.read_csv(default_files[1])


@pytest.fixture(scope="module")
def small_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("small")
    lines, personas = folder / "lines.csv", folder / "personas.csv"
    generate.write_dataset(lines, personas, n_lines=SMALL_LINES, seed=42)
    return lines, personas


# ------------------------------------------------------------------------------------------
# Determinism and the API
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(
    tmp_path: Path, file_format: str
):
    def write(name: str, seed: int) -> tuple[bytes, bytes]:
        lines, personas = tmp_path / f"{name}.{file_format}", tmp_path / f"{name}_personas.csv"
        generate.write_dataset(lines, personas, SMALL_LINES, seed, file_format)
        return lines.read_bytes(), personas.read_bytes()

    first, again, other = write("first", 42), write("again", 42), write("other", 7)
    assert first == again
    assert first[0] != other[0]
    assert first[1] != other[1]
    assert not list(tmp_path.glob("*.partial"))


def test_in_memory_lines_are_the_written_lines(small_files: tuple[Path, Path]):
    lines, personas = generate.generate_order_lines(SMALL_LINES, seed=42)
    from_file = typed(read_text(small_files[0]))
    pd.testing.assert_frame_equal(
        lines.astype(
            {"InvoiceNo": object, "StockCode": object, "Description": object, "Country": object}
        ),
        from_file.astype(
            {"InvoiceNo": object, "StockCode": object, "Description": object, "Country": object}
        ),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(personas, pd.read_csv(small_files[1]), check_dtype=False)


def test_parquet_has_the_csv_values(tmp_path: Path, small_files: tuple[Path, Path]):
    path = tmp_path / "lines.parquet"
    generate.write_dataset(path, tmp_path / "p.csv", SMALL_LINES, 42, "parquet")
    parquet = pd.read_parquet(path)
    text = read_text(small_files[0])
    assert list(parquet.columns) == generate.COLUMNS
    assert str(parquet["Quantity"].dtype) == "int64"
    assert (parquet["InvoiceDate"].to_numpy() == text["InvoiceDate"].to_numpy()).all()
    assert (parquet["Quantity"].to_numpy() == text["Quantity"].astype("int64").to_numpy()).all()
    assert np.allclose(parquet["UnitPrice"], text["UnitPrice"].astype(float))
    assert (parquet["CustomerID"].isna().to_numpy() == (text["CustomerID"] == "").to_numpy()).all()


def test_customers_scale_with_lines_and_line_count_is_exact():
    lines, personas = generate.generate_order_lines(SMALL_LINES, seed=3)
    assert len(lines) == SMALL_LINES
    expected = SMALL_LINES * FACT_CUSTOMERS / FACT_LINES
    assert_near(lines["CustomerID"].nunique(), expected, CUSTOMER_TOLERANCE)
    assert len(personas) == lines["CustomerID"].nunique()


def test_chunked_generation_keeps_invoices_in_time_order_across_chunks():
    lines, personas = generate.generate_order_lines(60_000, seed=5, chunk_customers=150)
    assert len(lines) == 60_000
    assert personas["customer_id"].is_unique
    numbers = lines["InvoiceNo"].str.lstrip("CA").astype(int)
    by_number = lines.assign(number=numbers).sort_values("number", kind="stable")
    assert by_number["InvoiceDate"].is_monotonic_increasing
    # Every invoice number is one invoice: on one date, of one customer.
    per_invoice = lines.groupby("InvoiceNo").agg(
        dates=("InvoiceDate", "nunique"), customers=("CustomerID", "nunique")
    )
    assert (per_invoice["dates"] == 1).all() and (per_invoice["customers"] <= 1).all()
    assert numbers.min() == FACT_FIRST_INVOICE_NUMBER
    assert sorted(set(numbers)) == list(range(numbers.min(), numbers.max() + 1))


def test_cli_help_and_bad_arguments(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    with pytest.raises(SystemExit) as exit_info:
        generate.main(["--help"])
    assert exit_info.value.code == 0
    assert "--personas-out" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        generate.main(["--format", "xlsx"])
    with pytest.raises(ValueError, match="at least"):
        generate.generate_order_lines(n_lines=100)
    with pytest.raises(ValueError, match="file_format"):
        generate.write_dataset(tmp_path / "x", tmp_path / "y", SMALL_LINES, 42, "json")


def test_format_helpers_write_the_kaggle_text():
    prices = generate.format_prices(pd.Series([2.55, 2.1, 18.0, 0.0, -11062.06, 0.01]))
    assert prices.tolist() == ["2.55", "2.1", "18", "0", "-11062.06", "0.01"]
    dates = generate.format_invoice_dates(
        pd.Series(pd.to_datetime(["2010-12-01 08:26", "2011-12-31 23:59", "2011-01-05 00:05"]))
    )
    assert dates.tolist() == ["12/1/2010 8:26", "12/31/2011 23:59", "1/5/2011 0:05"]


# ------------------------------------------------------------------------------------------
# Layout of the file
# ------------------------------------------------------------------------------------------
def test_header_encoding_and_quoting(default_files: tuple[Path, Path]):
    content = default_files[0].read_bytes()
    assert content.split(b"\n", 1)[0].decode("ascii") == FACT_HEADER
    assert any(byte > 0x7F for byte in content)
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    text = content.decode("latin-1")
    assert "CAFÉ" in text and "£" in text
    rows = list(csv.reader(text.splitlines()))
    assert {len(row) for row in rows} == {8}
    assert any("," in row[2] for row in rows[1:])  # descriptions with commas are quoted


def test_every_value_has_the_kaggle_text_form(default_raw: pd.DataFrame):
    assert len(default_raw) == FACT_LINES
    assert default_raw["InvoiceDate"].str.match(DATE_TEXT).all()
    assert default_raw["UnitPrice"].str.match(PRICE_TEXT).all()
    assert default_raw["CustomerID"].str.match(CUSTOMER_TEXT).all()
    assert default_raw["InvoiceNo"].str.match(INVOICE_TEXT).all()
    assert default_raw["Quantity"].str.match(r"^-?\d+$").all()
    ids = pd.to_numeric(default_raw["CustomerID"].replace("", None)).dropna()
    assert ids.between(12_346, 18_287).all()


def test_dates_span_the_real_year_with_november_busiest(default_lines: pd.DataFrame):
    dates = default_lines["InvoiceDate"]
    assert dates.min() == FACT_FIRST_DATE
    assert dates.max() == FACT_LAST_DATE
    by_month = dates.dt.to_period("M").value_counts()
    assert by_month.idxmax() == pd.Period("2011-11", "M")


def test_invoice_numbers_start_at_536365_and_increase_with_time(default_lines: pd.DataFrame):
    numbers = default_lines["InvoiceNo"].str.lstrip("CA").astype(int)
    regular = ~default_lines["InvoiceNo"].str.match(r"^[CA]")
    assert numbers[regular].min() == FACT_FIRST_INVOICE_NUMBER
    first_time = default_lines.assign(number=numbers).groupby("number")["InvoiceDate"].min()
    assert first_time.sort_index().is_monotonic_increasing


# ------------------------------------------------------------------------------------------
# Calibration to the real file
# ------------------------------------------------------------------------------------------
def test_guest_share_and_customer_count(default_lines: pd.DataFrame):
    guest_share = default_lines["CustomerID"].isna().mean()
    assert abs(guest_share - FACT_GUEST_LINE_SHARE) <= GUEST_SHARE_TOLERANCE
    assert_near(default_lines["CustomerID"].nunique(), FACT_CUSTOMERS, CUSTOMER_TOLERANCE)
    # Guests check out in large baskets.
    guest_invoices = default_lines[default_lines["CustomerID"].isna()].groupby("InvoiceNo").size()
    assert guest_invoices.max() >= 100


def test_counts_of_awkward_lines(default_lines: pd.DataFrame):
    is_cancellation = default_lines["InvoiceNo"].str.startswith("C")
    assert_near(is_cancellation.sum(), FACT_CANCELLATION_LINES, COUNT_TOLERANCE)
    assert (default_lines.loc[is_cancellation, "Quantity"] < 0).all()
    assert_near(default_lines.duplicated().sum(), FACT_DUPLICATE_LINES, COUNT_TOLERANCE)
    zero_price = default_lines["UnitPrice"] == 0
    assert_near(zero_price.sum(), FACT_ZERO_PRICE_LINES, COUNT_TOLERANCE)
    assert default_lines.loc[zero_price, "CustomerID"].isna().mean() > 0.9
    missing_descriptions = default_lines["Description"].isna().sum()
    assert_near(missing_descriptions, FACT_MISSING_DESCRIPTIONS, COUNT_TOLERANCE)
    odd_quantity = (default_lines["Quantity"] <= 0) & ~is_cancellation
    assert_near(odd_quantity.sum(), FACT_NON_C_LINES_AT_MOST_ZERO, COUNT_TOLERANCE)
    # Those are stock adjustments, apart from a handful of zero-quantity slips.
    adjustments = default_lines[odd_quantity & (default_lines["Quantity"] < 0)]
    assert adjustments["CustomerID"].isna().all() and (adjustments["UnitPrice"] == 0).all()


def test_distinct_invoices_stock_codes_and_countries(default_lines: pd.DataFrame):
    assert_near(default_lines["InvoiceNo"].nunique(), FACT_INVOICES, DISTINCT_TOLERANCE)
    assert_near(default_lines["StockCode"].nunique(), FACT_STOCK_CODES, DISTINCT_TOLERANCE)
    assert default_lines["Country"].nunique() == FACT_COUNTRIES
    uk_share = (default_lines["Country"] == "United Kingdom").mean()
    assert abs(uk_share - FACT_UK_LINE_SHARE) <= UK_SHARE_TOLERANCE


def test_non_product_codes_and_bad_debt_adjustments(default_lines: pd.DataFrame):
    codes = set(default_lines["StockCode"])
    assert codes >= NON_PRODUCT_CODES
    for prefix in NON_PRODUCT_PREFIXES:
        assert any(code.startswith(prefix) for code in codes), prefix
    adjustments = default_lines[default_lines["InvoiceNo"].str.startswith("A")]
    assert (adjustments["StockCode"] == "B").all()
    assert (adjustments["Description"] == "Adjust bad debt").all()
    assert (adjustments["UnitPrice"] == FACT_BAD_DEBT_PRICE).sum() >= 1
    assert adjustments["CustomerID"].isna().sum() >= 3


def test_cancellations_take_back_an_earlier_purchase_of_the_same_customer(
    default_lines: pd.DataFrame,
):
    lines = default_lines.reset_index(names="line")
    is_c = lines["InvoiceNo"].str.startswith("C")
    key = ["CustomerID", "StockCode", "UnitPrice"]
    cancellations = lines[is_c & lines["CustomerID"].notna() & ~is_non_product(lines["StockCode"])]
    purchases = lines[~is_c & lines["CustomerID"].notna() & (lines["Quantity"] > 0)]
    assert len(cancellations) > 0.8 * FACT_CANCELLATION_LINES * (1 - COUNT_TOLERANCE)
    pairs = cancellations.merge(purchases, on=key, suffixes=("", "_purchase"))
    matching = pairs[
        (pairs["InvoiceDate_purchase"] < pairs["InvoiceDate"])
        & (pairs["Quantity_purchase"] >= -pairs["Quantity"])
    ]
    assert set(matching["line"]) == set(cancellations["line"])


def test_the_80995_order_and_its_same_day_cancellation(default_lines: pd.DataFrame):
    big = default_lines[default_lines["Quantity"].abs() >= FACT_BIG_ORDER]
    assert sorted(big["Quantity"]) == [-FACT_BIG_ORDER, FACT_BIG_ORDER]
    order, cancellation = big.sort_values("Quantity", ascending=False).to_dict("records")
    assert not order["InvoiceNo"].startswith("C") and cancellation["InvoiceNo"].startswith("C")
    assert order["CustomerID"] == cancellation["CustomerID"] and pd.notna(order["CustomerID"])
    assert order["StockCode"] == cancellation["StockCode"]
    assert order["UnitPrice"] == cancellation["UnitPrice"]
    assert order["InvoiceDate"].date() == cancellation["InvoiceDate"].date()
    assert order["InvoiceDate"] < cancellation["InvoiceDate"]


def test_spend_per_customer_is_heavily_right_skewed(default_lines: pd.DataFrame):
    monetary = customer_rfm(default_lines)["monetary"]
    ratio = monetary.mean() / monetary.median()
    assert SPEND_MEAN_TO_MEDIAN[0] <= ratio <= SPEND_MEAN_TO_MEDIAN[1], ratio
    assert monetary.max() > SPEND_MAX_TO_MEDIAN_AT_LEAST * monetary.median()


# ------------------------------------------------------------------------------------------
# Ground truth: the state of every customer of a shop simulated forward
# ------------------------------------------------------------------------------------------
def test_ground_truth_is_each_customers_state_on_the_last_day(
    default_lines: pd.DataFrame, default_personas: pd.DataFrame
):
    assert list(default_personas.columns) == ["customer_id", "persona_key", "kind", "has_stopped"]
    assert default_personas["customer_id"].is_unique
    assert set(default_personas["customer_id"]) == set(default_lines["CustomerID"].dropna())
    truth = default_personas.set_index("customer_id")
    assert set(truth["persona_key"]) == set(generate.PERSONA_KEYS)
    assert set(truth["kind"]) == {"light", "frequent"}
    # The persona is the kind and the state (timelines.py): a frequent customer still buying is
    # high_value, one who stopped at_risk; a light one occasional; anyone new, new.
    by_persona = truth.groupby("persona_key")
    assert set(by_persona.get_group("high_value")["kind"]) == {"frequent"}
    assert not by_persona.get_group("high_value")["has_stopped"].any()
    assert set(by_persona.get_group("at_risk")["kind"]) == {"frequent"}
    assert by_persona.get_group("at_risk")["has_stopped"].all()
    assert set(by_persona.get_group("occasional")["kind"]) == {"light"}
    for key, group in by_persona:
        assert len(group) >= MIN_PERSONA_SHARE * len(truth), key
    # New means a first order within the last NEW_CUSTOMER_DAYS days: every truly new
    # customer's first order in the file is that recent.
    rfm = customer_rfm(default_lines)
    new = truth.index[truth["persona_key"] == "new"]
    assert (rfm.loc[rfm.index.isin(new), "tenure"] <= timelines.NEW_CUSTOMER_DAYS).all()


def test_true_states_differ_as_their_names_say(
    default_lines: pd.DataFrame, default_personas: pd.DataFrame
):
    rfm = customer_rfm(default_lines)
    truth = default_personas.set_index("customer_id")["persona_key"]
    medians = rfm.groupby(truth.reindex(rfm.index.astype("int64")).to_numpy()).median()
    everyone = rfm.median()
    # Frequent customers still buying: the most orders, the most spent, the latest orders.
    assert medians["frequency"].idxmax() == "high_value"
    assert medians["monetary"].idxmax() == "high_value"
    assert medians.drop(index="new")["recency"].idxmin() == "high_value"
    # Once-frequent customers who stopped: several orders, none for a long time.
    assert medians.loc["at_risk", "frequency"] >= 2
    assert medians.loc["at_risk", "recency"] > everyone["recency"]
    assert medians.loc["at_risk", "frequency"] > medians.loc["occasional", "frequency"]


def test_customers_buy_over_time_as_in_a_shop(default_lines: pd.DataFrame):
    # What the backtest needs of the default data: at any date, when a customer last bought
    # tells whether they buy in the next 90 days, and new customers keep joining all year.
    kept = default_lines.loc[
        default_lines["CustomerID"].notna()
        & (default_lines["Quantity"] > 0)
        & ~default_lines["InvoiceNo"].str.startswith(("C", "A"))
    ]
    days = kept.assign(day=kept["InvoiceDate"].dt.normalize())[["CustomerID", "day"]]
    for cutoff in (pd.Timestamp("2011-06-12"), pd.Timestamp("2011-09-11")):
        before = days.loc[days["day"] < cutoff].groupby("CustomerID")["day"].max()
        after = days.loc[(days["day"] >= cutoff) & (days["day"] < cutoff + pd.Timedelta(90, "D"))]
        bought = before.index.isin(after["CustomerID"])
        recency = (cutoff - before).dt.days
        assert roc_auc_score(bought, -recency) >= MIN_RECENCY_AUC, cutoff
    first = days.groupby("CustomerID")["day"].min().dt.to_period("M").value_counts()
    # The base that existed before the file shows up in its first month; then newcomers.
    assert first.idxmax() == pd.Period("2010-12", "M")
    joined = first.drop(index=[pd.Period("2010-12", "M"), pd.Period("2011-12", "M")])
    assert len(joined) == 11 and (joined >= MIN_MONTHLY_JOIN_SHARE * first.sum()).all()
    # The season: more customers buy in November than in June.
    active = days.groupby(days["day"].dt.to_period("M"))["CustomerID"].nunique()
    assert (
        active[pd.Period("2011-11", "M")]
        >= MIN_NOVEMBER_TO_JUNE * active[pd.Period("2011-06", "M")]
    )
