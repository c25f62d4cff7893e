"""Settings and snapshots as the dbt Python models receive them from the warehouse."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from customer_segments.probability import purchase_probabilities
from customer_segments.settings import SegmentationSettings, snapshot_customers


def _snapshots(seed: int = 0, customers: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for role, shift in (("as_of_date", 0), ("backtest_cutoff", 90), ("training_cutoff", 180)):
        frequency = rng.integers(1, 12, customers)
        tenure = rng.integers(30, 700, customers)
        recency = np.minimum(rng.integers(0, 400, customers), tenure)
        frames.append(
            pd.DataFrame(
                {
                    "snapshot_role": role,
                    "snapshot_date": pd.Timestamp("2011-12-10") - pd.Timedelta(days=shift),
                    "customer_id": np.arange(12346, 12346 + customers),
                    "recency_days": recency,
                    "tenure_days": tenure,
                    "frequency": frequency,
                    "monetary": [
                        Decimal(f"{value:.2f}") for value in rng.lognormal(6, 1, customers)
                    ],
                    "rfm_score": rng.integers(3, 16, customers),
                    "has_next_period_purchase": None
                    if role == "as_of_date"
                    else rng.random(customers) < 1 / (1 + np.exp((recency - 120) / 60)),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_snapshot_customers_are_one_role_sorted_by_customer_with_floats():
    snapshots = _snapshots()
    shuffled = snapshots.sample(frac=1, random_state=3).reset_index(drop=True)
    customers = snapshot_customers(shuffled, "backtest_cutoff")
    assert customers["customer_id"].is_monotonic_increasing
    assert len(customers) == 400 and "snapshot_role" not in customers.columns
    assert customers["monetary"].dtype == float
    expected = snapshot_customers(snapshots, "backtest_cutoff")
    pd.testing.assert_frame_equal(customers, expected)


def test_the_purchase_probabilities_do_not_depend_on_the_order_of_the_rows():
    # Cross-validation folds follow row order: an engine that returns the rows in another
    # order must still give every customer the same probability.
    def probabilities(frame: pd.DataFrame) -> pd.DataFrame:
        result = purchase_probabilities(
            snapshot_customers(frame, "as_of_date"),
            snapshot_customers(frame, "backtest_cutoff"),
            snapshot_customers(frame, "training_cutoff"),
            "logistic_interactions",
            random_state=42,
        )
        return result.sort_values(list(result.columns[:3])).reset_index(drop=True)

    snapshots = _snapshots(seed=5)
    shuffled = snapshots.sample(frac=1, random_state=11).reset_index(drop=True)
    pd.testing.assert_frame_equal(probabilities(snapshots), probabilities(shuffled))


def test_unknown_role_and_missing_role_column_are_refused():
    with pytest.raises(ValueError, match="unknown snapshot_role"):
        snapshot_customers(_snapshots(), "yesterday")
    with pytest.raises(ValueError, match="needs the column snapshot_role"):
        snapshot_customers(_snapshots().drop(columns="snapshot_role"), "as_of_date")


def test_settings_come_from_the_one_row_table():
    row = {
        "cluster_k": "auto",
        "cluster_k_min": 3,
        "cluster_k_max": 10,
        "cluster_min_customers": 50,
        "cluster_random_state": 42,
        "cluster_n_init": 10,
        "new_customer_max_tenure_days": 90,
        "late_purchase_gap_multiple": 2.0,
        "cluster_min_share_meeting_conditions": 0.5,
        "prediction_horizon_days": 90,
    }
    settings = SegmentationSettings.from_table(pd.DataFrame([{**row, "cluster_k": "4"}]))
    assert settings.k == 4 and settings.persona.new_customer_max_tenure_days == 90
    assert SegmentationSettings.from_table(pd.DataFrame([row])).k == "auto"
    with pytest.raises(ValueError, match="exactly one row"):
        SegmentationSettings.from_table(pd.DataFrame([row, row]))
