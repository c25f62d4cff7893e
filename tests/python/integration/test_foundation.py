"""Issue 2: the default data builds green and every raw line is accounted for, for any layout."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from .conftest import PROJECT_DIR, RFM_ONLY, DbtRun, generate, run_dbt
from .independent_cleaning import RAW_COLUMNS, classify, read_raw

KEY_COLUMNS = ["customer_id", "recency_days", "tenure_days", "frequency", "monetary"]
# The layouts only matter up to the RFM mart: the clustering downstream is tested elsewhere.


@pytest.fixture(scope="module")
def default_lines(default_data: tuple[Path, Path]) -> pd.DataFrame:
    return classify(read_raw(default_data[0]))


def test_audit_counts_every_raw_line_by_outcome(default_build: DbtRun, default_lines: pd.DataFrame):
    audit = default_build.query(
        "select outcome, line_count, revenue from main.fct_order_line_audit"
    ).set_index("outcome")
    expected = default_lines.groupby("outcome").agg(
        line_count=("outcome", "size"), revenue=("line_amount", "sum")
    )
    assert audit["line_count"].sum() == len(default_lines)
    observed = audit.loc[audit["line_count"] > 0]
    pd.testing.assert_series_equal(
        observed["line_count"].sort_index(),
        expected["line_count"].sort_index(),
        check_names=False,
        check_dtype=False,
    )
    assert (
        observed["revenue"].astype(float).sort_index() - expected["revenue"].sort_index()
    ).abs().max() < 0.005
    # The generated file exercises every rule but the two for impossible values, which it has
    # none of (the catalogue of bad inputs exercises them): no line of it changes outcome.
    impossible = ["implausible_value", "invalid_date"]
    assert (audit.loc[impossible, "line_count"] == 0).all(), audit
    assert (audit.drop(index=impossible)["line_count"] > 0).all(), audit


def test_every_raw_line_keeps_its_file_position_and_its_outcome(
    default_build: DbtRun, default_lines: pd.DataFrame
):
    # raw_row_number is the line's place in the file (the hook loads the file in parallel and
    # numbers lines by insertion order): line by line, the invoice and the outcome must be those
    # the independent pandas rules give to the line at that position.
    lines = default_build.query(
        "select raw_row_number, invoice_id, outcome"
        " from main_intermediate.int_order_lines_cleaned order by raw_row_number"
    )
    assert len(default_lines) > 4 * 122_880  # several row groups, so the load ran in parallel
    assert lines["raw_row_number"].tolist() == list(range(1, len(default_lines) + 1))
    mismatched = (lines["invoice_id"].to_numpy() != default_lines["invoice_id"].to_numpy()) | (
        lines["outcome"].to_numpy() != default_lines["outcome"].to_numpy()
    )
    assert not mismatched.any(), lines[mismatched].head()


def test_lines_keep_their_file_position_when_the_profile_lets_duckdb_reorder(
    default_data: tuple[Path, Path], default_lines: pd.DataFrame, tmp_path: Path
):
    # A user may set preserve_insertion_order: false in profiles.yml (DuckDB's advice for
    # memory); the load that numbers the lines must keep the file's order all the same.
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    for output in profile["customer_segments"]["outputs"].values():
        output.setdefault("settings", {})["preserve_insertion_order"] = False
    (tmp_path / "profiles.yml").write_text(yaml.safe_dump(profile))
    run = run_dbt(
        ["run", "--select", "stg_online_retail__order_lines"],
        tmp_path / "build",
        default_data[0],
        profiles_dir=tmp_path,
    )
    assert run.returncode == 0, run.output[-5000:]
    lines = run.query(
        "select raw_row_number, invoice_id, stock_code"
        " from main_staging.stg_online_retail__order_lines order by raw_row_number"
    )
    assert lines["raw_row_number"].tolist() == list(range(1, len(default_lines) + 1))
    assert lines["invoice_id"].tolist() == default_lines["invoice_id"].tolist()
    assert lines["stock_code"].tolist() == default_lines["stock_code"].tolist()


def test_every_model_is_built_and_every_test_passes(default_build: DbtRun):
    # Every test passes but the one that only warns when the backtest contradicts a persona's
    # name: on the default data it does (README), and the build stays green.
    assert default_build.returncode == 0
    done = re.search(r"Done\. PASS=\d+ WARN=(\d+) ERROR=(\d+)", default_build.output)
    assert done is not None and done.group(2) == "0"
    warned = re.findall(r"WARN \d+ (\S+) \.", default_build.output)
    assert int(done.group(1)) == len(warned)
    assert set(warned) <= {"assert_backtest_supports_persona_names"}
    tables = set(
        default_build.query(
            "select table_schema || '.' || table_name as name from information_schema.tables"
        )["name"]
    )
    assert {"main.fct_order_line_audit", "main.fct_customer_rfm"} <= tables


def test_another_seed_builds_with_only_raw_orders_path_changed(tmp_path: Path):
    # Every model and data test (the dbt unit tests do not read the file; they run once elsewhere).
    lines, _ = generate(tmp_path / "data", seed=7, lines=50_000)
    run = run_dbt(
        ["build", "--exclude-resource-type", "unit_test"], tmp_path / "build", raw_orders_path=lines
    )
    assert run.returncode == 0, run.output[-5000:]
    raw_line_count = len(read_raw(lines))
    audit_total = run.query("select sum(line_count) as n from main.fct_order_line_audit")["n"][0]
    assert audit_total == raw_line_count


def _rfm(run: DbtRun) -> pd.DataFrame:
    return run.query(
        f"select {', '.join(KEY_COLUMNS)} from main.fct_customer_rfm order by customer_id"
    )


def test_online_retail_ii_layout_gives_the_same_marts(
    default_build: DbtRun, default_data: tuple[Path, Path], tmp_path: Path
):
    raw = read_raw(default_data[0])
    renamed = raw.rename(
        columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}
    )
    # Columns in another order must not matter: the header is matched by name.
    renamed = renamed[["Customer ID", *[c for c in renamed.columns if c != "Customer ID"]]]
    path = tmp_path / "online_retail_II.csv"
    renamed.to_csv(path, index=False, encoding="latin-1")
    run = run_dbt(RFM_ONLY, tmp_path / "build", raw_orders_path=path)
    assert run.returncode == 0, run.output[-5000:]
    pd.testing.assert_frame_equal(_rfm(run), _rfm(default_build))


def test_parquet_input_gives_the_same_marts(
    default_build: DbtRun, default_data: tuple[Path, Path], tmp_path: Path
):
    raw = read_raw(default_data[0])
    typed = raw.assign(
        Quantity=pd.to_numeric(raw["Quantity"]),
        UnitPrice=pd.to_numeric(raw["UnitPrice"]),
        # Parquet exports often carry CustomerID as a float (17850.0) and dates as timestamps.
        CustomerID=pd.to_numeric(raw["CustomerID"]).astype("float64"),
        InvoiceDate=pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M"),
    )
    path = tmp_path / "online_retail.parquet"
    # Several row groups, so DuckDB reads them in parallel; rows are numbered by the file.
    typed[RAW_COLUMNS].to_parquet(path, index=False, row_group_size=100_000)
    run = run_dbt(RFM_ONLY, tmp_path / "build", raw_orders_path=path)
    assert run.returncode == 0, run.output[-5000:]
    pd.testing.assert_frame_equal(_rfm(run), _rfm(default_build))
    outcomes = run.query(
        "select outcome from main_intermediate.int_order_lines_cleaned order by raw_row_number"
    )["outcome"]
    assert outcomes.tolist() == classify(raw)["outcome"].tolist()
    # Parquet is read in place: no copy of the file is kept in the warehouse.
    assert (
        run.query(
            "select count(*) as n from information_schema.tables"
            " where table_name = 'online_retail_order_lines_loaded'"
        )["n"].item()
        == 0
    )


def test_missing_file_names_the_path_and_the_setting(tmp_path: Path):
    missing = tmp_path / "no_such_file.csv"
    run = run_dbt(["build"], tmp_path / "build", raw_orders_path=missing)
    assert run.returncode != 0
    assert str(missing) in run.output
    assert "raw_orders_path" in run.output and "RAW_ORDERS_PATH" in run.output


def test_missing_column_names_the_file_and_the_column(tmp_path: Path, default_data):
    raw = read_raw(default_data[0]).head(50).drop(columns="UnitPrice")
    path = tmp_path / "no_price.csv"
    raw.to_csv(path, index=False, encoding="latin-1")
    run = run_dbt(["build"], tmp_path / "build", raw_orders_path=path)
    assert run.returncode != 0
    assert str(path) in run.output and "UnitPrice" in run.output
