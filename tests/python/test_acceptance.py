"""Acceptance tests of issue 11 on generated data; each fails under the rules before it.

(a) a customer base with no recent sign-ups gets no ``new`` cluster; (b) a recent, frequent
cluster is never ``at_risk``; (c) four well-separated planted personas with one far-out group
still give k >= 3 and the planted names; (d) a data set with two obvious groups and
``k_min = 2`` can give k = 2. Plus issue 14: one customer cannot move another customer's persona.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from customer_segments.clustering import run_segmentation
from customer_segments.personas import customer_measures
from planted import MATURE, PRODUCT, RECENT, TWO_GROUPS, planted_rfm, with_far_out_group

SEED_FILE = Path(__file__).resolve().parents[2] / "seeds" / "cluster_personas.csv"
# Share of each planted group that buys in the next period, for the backtest snapshots.
REPEAT_RATES = {
    "high_value": 0.9,
    "new": 0.4,
    "occasional": 0.3,
    "at_risk": 0.05,
    "loyal": 0.7,
    "lost": 0.02,
}


@pytest.fixture(scope="module")
def personas() -> pd.DataFrame:
    return pd.read_csv(SEED_FILE)


def backtest_snapshot(groups, seed: int, n_per: int | dict[str, int] = 150) -> pd.DataFrame:
    """The same groups as of the cutoff, with who bought in the following horizon."""
    rfm = planted_rfm(groups, n_per=n_per, seed=seed)
    rng = np.random.default_rng([seed, 1])  # not the stream that drew the features
    rates = rfm["planted"].map(REPEAT_RATES).to_numpy()
    return rfm.assign(has_next_period_purchase=rng.random(len(rfm)) < rates)


def majority_names(tables: dict, rfm: pd.DataFrame) -> dict[str, str]:
    labels = tables["customer_clusters"].merge(rfm[["customer_id", "planted"]], on="customer_id")
    return (
        labels.groupby("planted")["persona_key"].agg(lambda s: s.value_counts().idxmax()).to_dict()
    )


def chosen(tables: dict) -> int:
    evaluation = tables["k_evaluation"]
    return int(evaluation.loc[evaluation["is_chosen"], "k"].iloc[0])


def test_a_base_without_recent_sign_ups_gets_no_new_cluster(personas):
    rfm = planted_rfm(MATURE, seed=1)
    assert rfm["tenure_days"].min() > 456  # everyone joined more than 15 months ago
    for k in ("auto", 4, 6):
        keys = set(run_segmentation(rfm, personas, k=k)["centroids"]["persona_key"])
        assert "new" not in keys and "promising" not in keys, (k, keys)


def test_a_recent_frequent_cluster_is_never_at_risk(personas):
    rfm = planted_rfm(RECENT, seed=2)
    median_recency = rfm["recency_days"].median()
    for k in ("auto", 4, 5):
        centroids = run_segmentation(rfm, personas, k=k)["centroids"]
        recent_frequent = centroids.loc[
            (centroids["median_recency_days"] <= median_recency)
            & (centroids["median_frequency"] >= 5)
        ]
        assert len(recent_frequent) >= 1
        assert not recent_frequent["persona_key"].isin(["at_risk", "big_spender_lapsed"]).any()
        assert "at_risk" not in set(centroids["persona_key"]), (
            k,
            centroids["persona_key"].tolist(),
        )


@pytest.mark.parametrize("with_backtest", [False, True], ids=["vote", "backtest"])
def test_planted_personas_with_a_far_out_group_keep_their_names(personas, with_backtest):
    rfm = with_far_out_group(planted_rfm(PRODUCT, seed=3), n=10)  # 1.6 % of customers
    backtest = backtest_snapshot(PRODUCT, seed=13) if with_backtest else None
    tables = run_segmentation(rfm, personas, backtest_rfm=backtest)
    assert chosen(tables) >= 3
    assert majority_names(tables, rfm) == {p: p for p in PRODUCT}
    wholesalers = (
        tables["customer_clusters"]
        .set_index("customer_id")
        .loc[rfm["customer_id"].iloc[-10:], "persona_key"]
    )
    assert (wholesalers == "high_value").all()


def test_two_obvious_groups_can_give_two_with_k_min_two(personas):
    # 300 new one-order customers and 100 regulars (a quarter of the base).
    sizes = {"new": 300, "high_value": 100}
    rfm = planted_rfm(TWO_GROUPS, n_per=sizes, seed=4)
    backtest = backtest_snapshot(TWO_GROUPS, seed=14, n_per=sizes)
    tables = run_segmentation(rfm, personas, k_min=2, backtest_rfm=backtest)
    assert chosen(tables) == 2, tables["k_evaluation"].loc[lambda e: e["is_chosen"], "reason"]
    assert majority_names(tables, rfm) == {"new": "new", "high_value": "high_value"}
    # The product default still makes a segmentation of at least three.
    assert chosen(run_segmentation(rfm, personas, backtest_rfm=backtest)) >= 3


def test_one_customer_cannot_move_another_customers_persona(personas):
    # A small base, 60 customers, and one order line with Quantity 1e15 (a barcode).
    rfm = planted_rfm(PRODUCT, n_per=15, seed=5)
    before = run_segmentation(rfm, personas)
    absurd = pd.concat([rfm, rfm.iloc[[0]].assign(customer_id=1, monetary=1e15)], ignore_index=True)
    after = run_segmentation(absurd, personas)
    assert chosen(after) == chosen(before)
    persona = after["customer_clusters"].set_index("customer_id")["persona_key"]
    expected = before["customer_clusters"].set_index("customer_id")["persona_key"]
    pd.testing.assert_series_equal(persona.loc[expected.index], expected)
    assert persona.loc[1] == "high_value"


def test_a_fully_refunded_customer_is_never_high_value(personas):
    rfm = planted_rfm(PRODUCT, seed=6)
    # Recent and frequent like the best customers, but everything bought was returned (net 0),
    # or more (net -120: returns of goods bought before the data starts).
    refunded = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "recency_days": [2, 2],
            "tenure_days": [300, 300],
            "frequency": [40, 40],
            "monetary": [0.0, -120.0],
            "planted": "refund",
        }
    )
    tables = run_segmentation(pd.concat([rfm, refunded], ignore_index=True), personas)
    labels = tables["customer_clusters"].set_index("customer_id")
    assert labels.loc[[1, 2], "persona_key"].tolist() == ["refunded", "refunded"]
    assert labels.loc[[1, 2], "cluster_id"].isna().all()
    high_value = tables["centroids"].set_index("persona_key").loc["high_value"]
    assert customer_measures(refunded)["monetary"].max() < high_value["median_monetary"] / 100
