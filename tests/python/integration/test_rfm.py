"""Issue 3: the RFM mart equals an independent pandas computation, for any as_of_date."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .conftest import RFM_ONLY, DbtRun, run_dbt
from .independent_cleaning import classify, read_raw, rfm


@pytest.fixture(scope="module")
def default_lines(default_data: tuple[Path, Path]) -> pd.DataFrame:
    return classify(read_raw(default_data[0]))


def _compare(mart: pd.DataFrame, expected: pd.DataFrame) -> None:
    mart = mart.set_index("customer_id").sort_index()
    expected = expected.set_index("customer_id").sort_index()
    assert list(mart.index) == list(expected.index.astype("int64"))
    for column in ["recency_days", "tenure_days", "frequency"]:
        np.testing.assert_array_equal(mart[column].to_numpy(), expected[column].to_numpy())
    np.testing.assert_allclose(
        mart["monetary"].astype(float).to_numpy(), expected["monetary"].to_numpy(), atol=0.01
    )


def test_rfm_mart_matches_independent_computation(default_build: DbtRun, default_lines):
    mart = default_build.query("select * from main.fct_customer_rfm")
    _compare(mart, rfm(default_lines))
    last_kept = default_lines.loc[
        default_lines["outcome"].isin(["purchase", "return"]), "invoiced_at"
    ].max()
    expected_as_of = last_kept.normalize() + pd.Timedelta(days=1)
    assert (pd.to_datetime(mart["as_of_date"]) == expected_as_of).all()


def test_scores_give_equal_values_equal_scores(default_build: DbtRun):
    mart = default_build.query("select * from main.fct_customer_rfm")
    for value, score in [
        ("recency_days", "recency_score"),
        ("frequency", "frequency_score"),
        ("monetary", "monetary_score"),
    ]:
        assert (mart.groupby(value)[score].nunique() == 1).all(), value
        # Scores never decrease as the value improves.
        ordered = mart.sort_values(value, ascending=(value != "recency_days"))
        assert ordered[score].is_monotonic_increasing, value
        assert mart[score].between(1, 5).all()


def test_every_customer_gets_a_classic_segment(default_build: DbtRun):
    mart = default_build.query(
        "select rfm_segment, count(*) as n from main.fct_customer_rfm group by 1"
    )
    assert mart["rfm_segment"].notna().all()
    assert len(mart) >= 8, mart


def test_rfm_of_a_past_date_counts_only_earlier_lines_and_is_the_history_of_that_date(
    default_lines, default_data, default_build: DbtRun, tmp_path: Path
):
    as_of = "2011-06-01"
    run = run_dbt(
        [*RFM_ONLY, "--vars", f"{{as_of_date: '{as_of}'}}"],
        tmp_path / "build",
        default_data[0],
    )
    assert run.returncode == 0, run.output[-5000:]
    mart = run.query("select * from main.fct_customer_rfm")
    _compare(mart, rfm(default_lines, pd.Timestamp(as_of)))
    assert (pd.to_datetime(mart["last_purchase_date"]) < pd.Timestamp(as_of)).all()
    # The default build's history holds that date (a month start): the same rows, every column.
    history = default_build.query(
        f"select * exclude (snapshot_date, is_as_of_date), snapshot_date as as_of_date "
        f"from main.fct_customer_rfm_history where snapshot_date = date '{as_of}' order by customer_id"
    )
    past = run.query("select * from main.fct_customer_rfm order by customer_id")
    pd.testing.assert_frame_equal(history[past.columns], past)


def test_history_holds_the_month_starts_and_the_as_of_date(default_build: DbtRun):
    dates = default_build.query(
        "select snapshot_date, bool_or(is_as_of_date) as is_as_of_date, count(*) as customers "
        "from main.fct_customer_rfm_history group by 1 order by 1"
    )
    as_of = pd.Timestamp(
        default_build.query("select max(as_of_date) as d from main.fct_customer_rfm")["d"][0]
    )
    # The 12 most recent month starts strictly before as_of_date (all after the first line).
    last_start = (as_of - pd.Timedelta(days=1)).to_period("M").to_timestamp()
    expected = sorted({*(last_start - pd.DateOffset(months=i) for i in range(12)), as_of})
    assert list(pd.to_datetime(dates["snapshot_date"])) == expected
    assert dates["is_as_of_date"].tolist() == [False] * (len(expected) - 1) + [True]
    # Customers only accumulate: a later snapshot never has fewer customers.
    assert dates["customers"].is_monotonic_increasing


@pytest.mark.parametrize(
    "value", ["2011-13-45", "yesterday", "2011-12-10'; drop table main.fct_customer_rfm; --"]
)
def test_as_of_date_that_is_not_a_date_fails_clearly(value, default_data, tmp_path: Path):
    run = run_dbt(
        ["build", "--vars", f'{{as_of_date: "{value}"}}'], tmp_path / "build", default_data[0]
    )
    assert run.returncode != 0
    assert "as_of_date must be a calendar date written YYYY-MM-DD" in run.output
