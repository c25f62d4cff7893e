"""Names earned by conditions: best fit, one key per cluster, fallbacks, reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from customer_segments.naming import NAMING_COLUMNS, fallback_description, name_clusters
from customer_segments.personas import (
    PersonaSettings,
    condition_results,
    parse_rule,
)

SEED_FILE = Path(__file__).resolve().parents[2] / "seeds" / "cluster_personas.csv"
# A population: median customer 100 days ago, 2 orders, 700 spent; top quarter 6 orders, 2,500;
# a quarter of the customers last bought more than 200 days ago.
REFERENCE = {
    "median_recency_days": 100.0,
    "p75_recency_days": 200.0,
    "median_frequency": 2.0,
    "p75_frequency": 6.0,
    "median_monetary": 700.0,
    "p75_monetary": 2500.0,
}


@pytest.fixture(scope="module")
def personas() -> pd.DataFrame:
    return pd.read_csv(SEED_FILE)


def profiles(
    *rows: tuple[float, float, float, float], ids: list[int] | None = None
) -> pd.DataFrame:
    """Median customers from (recency_days, frequency, monetary, tenure_days)."""
    frame = pd.DataFrame(rows, columns=["recency_days", "frequency", "monetary", "tenure_days"])
    repeat = frame["frequency"] >= 2
    gap = (frame["tenure_days"] - frame["recency_days"]) / (frame["frequency"] - 1)
    frame["average_purchase_gap_days"] = gap.where(repeat)
    frame["gaps_since_last_purchase"] = (frame["recency_days"] / gap.clip(lower=1)).where(repeat)
    frame["customer_count"] = 100
    frame.index = ids if ids is not None else range(len(frame))
    return frame


def named(personas, *rows, reference=REFERENCE, settings=PersonaSettings(), ids=None):
    return name_clusters(profiles(*rows, ids=ids), personas, reference, settings).set_index(
        "cluster_id"
    )


HIGH_VALUE = (6, 7, 3700, 290)  # recent, 7 orders, big, on rhythm
AT_RISK = (240, 7, 2800, 350)  # 240 days, usual gap 18 days: 13 gaps late
NEW = (20, 1, 360, 20)
OCCASIONAL = (115, 2, 440, 280)  # gap 165 days: not late


def test_each_planted_profile_earns_its_name_and_says_why(personas):
    table = named(personas, HIGH_VALUE, AT_RISK, NEW, OCCASIONAL)
    assert list(table.reset_index().columns) == list(NAMING_COLUMNS)
    assert table["persona_key"].tolist() == ["high_value", "at_risk", "new", "occasional"]
    assert not table["is_fallback"].any()
    assert table.loc[0, "naming_reason"].startswith("meets high_value: frequency 7 >= 2;")
    assert "monetary 3,700 >= 2,500 (p75_monetary)" in table.loc[0, "naming_reason"]
    assert "recency_days 240 > 100 (median_recency_days)" in table.loc[1, "naming_reason"]
    assert table.loc[0, "persona_name"] == "High-value customers"
    assert table.loc[0, "value_rank"] == 1


def test_every_name_given_is_met_by_the_median_customer(personas):
    rng = np.random.default_rng(0)
    rules = personas.set_index("persona_key")["rule"]
    for _ in range(40):
        k = int(rng.integers(3, 11))
        rows = [
            (float(r), float(f), float(m), float(r + s))
            for r, f, m, s in zip(
                rng.integers(0, 400, k),
                rng.integers(1, 30, k),
                np.round(rng.lognormal(6.5, 1.3, k), 2),
                rng.integers(0, 500, k),
                strict=True,
            )
        ]
        table = named(personas, *rows)
        assert table["persona_key"].is_unique
        frame = profiles(*rows)
        for cluster_id, row in table.iterrows():
            if row["is_fallback"]:
                assert row["persona_key"] == f"segment_{cluster_id}"
                continue
            met, _ = condition_results(
                frame.loc[[cluster_id]],
                parse_rule(rules[row["persona_key"]]),
                REFERENCE,
                PersonaSettings(),
            )
            assert met.all(), (row["persona_key"], frame.loc[cluster_id].to_dict())


def test_a_base_without_recent_sign_ups_gets_no_new_cluster(personas):
    # Everyone joined more than 15 months ago; the cluster with the shortest tenure is still old.
    rows = [(30, 1, 200, 470), (400, 1, 150, 480), (20, 8, 3000, 700), (300, 6, 2600, 800)]
    table = named(personas, *rows)
    assert "new" not in set(table["persona_key"])
    assert "promising" not in set(table["persona_key"])


def test_a_recent_frequent_cluster_is_never_at_risk(personas):
    # All four clusters bought more recently than the median customer: none is at risk, however
    # their other measures compare.
    rows = [(5, 12, 5000, 400), (40, 8, 2600, 420), (60, 4, 900, 300), (90, 3, 800, 350)]
    table = named(personas, *rows)
    assert "at_risk" not in set(table["persona_key"])
    assert "big_spender_lapsed" not in set(table["persona_key"])


def test_a_weekly_buyer_gone_for_a_month_needs_attention_not_high_value(personas):
    # 40 days is recent for the base, but 8 usual gaps for this customer.
    table = named(personas, (40, 30, 9000, 190))
    assert table.loc[0, "persona_key"] == "needs_attention"


# A base of B2B accounts that all order every few days: the median account has 100 orders.
B2B_REFERENCE = {
    "median_recency_days": 4.0,
    "p75_recency_days": 9.0,
    "median_frequency": 100.0,
    "p75_frequency": 150.0,
    "median_monetary": 5000.0,
    "p75_monetary": 12000.0,
}


def test_an_account_ordering_every_four_days_is_never_occasional(personas):
    # 90 orders in 360 days, the last 3 days ago, spending below the top quarter: fewer orders
    # than the median account, but "buy now and then" would mislead the marketer.
    table = named(personas, (3, 90, 2000, 360), reference=B2B_REFERENCE)
    row = table.loc[0]
    assert row["persona_key"] == "segment_0" and row["is_fallback"]
    assert row["persona_description"] == "90 orders, 3 days ago, 2,000 spent"
    assert row["naming_reason"] == "meets the conditions of no persona"
    # The same shape a month or more apart is occasional in that base too.
    monthly = named(personas, (20, 12, 2000, 360), reference=B2B_REFERENCE)
    assert monthly.loc[0, "persona_key"] == "occasional"


def test_the_most_specific_persona_wins_and_the_next_is_the_runner_up(personas):
    # A recent big spender who joined 60 days ago meets new and high_value: new comes first.
    table = named(personas, (3, 4, 5000, 60))
    assert table.loc[0, "persona_key"] == "new"
    assert table.loc[0, "eligible_persona_keys"] == "new, promising, high_value"
    assert table.loc[0, "runner_up_persona_key"] == "promising"
    assert table.loc[0, "runner_up_reason"] == "also meets promising"


def test_two_clusters_that_qualify_for_one_persona_share_the_names_they_can(personas):
    # Both are lapsed and valuable; only the bigger one is a lapsed big spender. Optimal: each
    # gets a name, instead of at_risk going to the bigger one and the other left unnamed.
    table = named(personas, (250, 6, 9000, 350), (230, 5, 1200, 330))
    assert table["persona_key"].tolist() == ["big_spender_lapsed", "at_risk"]
    assert table.loc[0, "runner_up_reason"] == "also meets at_risk, named after cluster 1"


def test_a_cluster_that_loses_its_only_persona_gets_a_descriptive_fallback(personas):
    # Cluster 3 lies a little deeper inside occasional's conditions (spent less, on rhythm).
    table = named(personas, (100, 2, 450, 260), (130, 2, 500, 330), ids=[3, 7])
    assert table["persona_key"].tolist() == ["occasional", "segment_7"]
    fallback = table.loc[7]
    assert fallback["is_fallback"]
    assert fallback["naming_reason"] == (
        "meets occasional (given to cluster 3), which fit other clusters better"
    )
    assert fallback["persona_name"] == "Segment 7"
    assert fallback["persona_recommended_action"] == (
        "Meets the conditions of occasional (cluster 3): its action applies."
    )
    assert fallback["persona_description"] == (
        "2 orders, 130 days ago, 500 spent; meets occasional, the name of cluster 3"
    )
    assert np.isnan(fallback["value_rank"])


def test_the_deeper_fit_wins_a_contested_persona(personas):
    # Both meet only occasional; the one further from every threshold keeps the name.
    table = named(personas, (60, 3, 300, 400), (110, 2, 2400, 300))
    assert table.loc[0, "persona_key"] == "occasional"
    assert table.loc[1, "persona_key"] == "segment_1"


def test_a_cluster_meeting_nothing_says_what_it_misses(personas):
    # Big and on rhythm (one gap of 150 days) but among the quarter who bought longest ago:
    # not high_value (recency), not occasional (too big), not at risk (not late).
    table = named(personas, (250, 2, 3000, 400))
    row = table.loc[0]
    assert row["persona_key"] == "segment_0" and row["is_fallback"]
    assert row["persona_description"] == "2 orders, 250 days ago, 3,000 spent"
    assert row["naming_reason"] == "meets the conditions of no persona"
    assert row["persona_recommended_action"].startswith("No persona's conditions fit")
    # at_risk, occasional and high_value each fail one condition; at_risk by the least
    # (1.67 usual gaps against more than 2; occasional misses 3,000 against 2,500).
    assert row["runner_up_persona_key"] == "at_risk"
    assert row["runner_up_reason"] == (
        "fails at_risk: gaps_since_last_purchase 1.67, not > 2 (late_purchase_gap_multiple)"
    )


def test_one_order_customers_are_new_one_time_or_lost_by_their_dates(personas):
    table = named(personas, (20, 1, 50, 20), (95, 1, 31, 95), (300, 1, 80, 300))
    assert table["persona_key"].tolist() == ["new", "one_time", "lost"]


def test_settings_move_the_absolute_thresholds(personas):
    assert named(personas, (95, 1, 31, 95)).loc[0, "persona_key"] == "one_time"
    wider = PersonaSettings(new_customer_max_tenure_days=120)
    assert named(personas, (95, 1, 31, 95), settings=wider).loc[0, "persona_key"] == "new"
    late = PersonaSettings(late_purchase_gap_multiple=20)
    assert named(personas, AT_RISK).loc[0, "persona_key"] == "at_risk"
    assert named(personas, AT_RISK, settings=late).loc[0, "persona_key"] != "at_risk"


def test_names_do_not_depend_on_the_order_of_clusters(personas):
    rows = [HIGH_VALUE, AT_RISK, NEW, OCCASIONAL, (150, 2, 3000, 400), (100, 2, 450, 260)]
    ids = [11, 12, 13, 14, 15, 16]
    first = named(personas, *rows, ids=ids)["persona_key"]
    order = [4, 2, 5, 0, 3, 1]
    second = named(personas, *[rows[i] for i in order], ids=[ids[i] for i in order])["persona_key"]
    pd.testing.assert_series_equal(first.sort_index(), second.sort_index())


def test_fallback_descriptions_read_like_the_issue():
    assert fallback_description({"frequency": 1, "recency_days": 230.4, "monetary": 31.2}) == (
        "1 order, 230 days ago, 31 spent"
    )
    assert fallback_description({"frequency": 2.5, "recency_days": 12, "monetary": 1234.56}) == (
        "2.50 orders, 12 days ago, 1,235 spent"
    )


def test_a_missing_population_statistic_is_named(personas):
    with pytest.raises(ValueError, match="needs the population statistic median_frequency"):
        named(personas, HIGH_VALUE, reference={"median_recency_days": 100.0})
