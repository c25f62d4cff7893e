"""The segmentation steps and their tables: determinism, invariance, consistency, bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from customer_segments.clustering import (
    CUSTOMER_CLUSTER_COLUMNS,
    build_centroids,
    build_customer_clusters,
    build_k_evaluation,
    run_segmentation,
)
from customer_segments.features import (
    fit_feature_transform,
    inverse_transform_features,
    transform_features,
)

SEED_FILE = Path(__file__).resolve().parents[2] / "seeds" / "cluster_personas.csv"
Z_COLUMNS = ["recency_z", "frequency_z", "monetary_z", "tenure_z"]
SOURCE_COLUMNS = ["recency_days", "frequency", "monetary", "tenure_days"]


def persona_rfm(n_per: int = 150, seed: int = 0) -> pd.DataFrame:
    """A synthetic RFM mart with four planted personas, skewed money, wholesalers and refunds.

    The ``planted`` column says which persona generated each customer.
    """
    rng = np.random.default_rng(seed)
    # persona: (recency range, days between first and last purchase, invoices range, log-money mean)
    spec = {
        "high_value": ((0, 25), (250, 350), (15, 60), 8.8),
        "at_risk": ((150, 300), (60, 120), (5, 15), 7.6),
        "occasional": ((40, 120), (150, 250), (2, 4), 6.0),
        "new": ((0, 30), (0, 10), (1, 2), 5.8),
    }
    frames = []
    for i, (persona, (recency, span, invoices, log_money)) in enumerate(spec.items()):
        recency_days = rng.integers(*recency, n_per)
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": 12346 + i * n_per + np.arange(n_per),
                    "recency_days": recency_days,
                    "tenure_days": recency_days + rng.integers(*span, n_per),
                    "frequency": rng.integers(*invoices, n_per),
                    "monetary": np.round(rng.lognormal(log_money, 0.5, n_per), 2),
                    "gross_revenue": 0.0,
                    "planted": persona,
                }
            )
        )
    rfm = pd.concat(frames, ignore_index=True)
    # A few extreme wholesalers (high_value) and customers who returned everything (new).
    rfm.loc[rfm.index[:3], "monetary"] = [280_000.0, 180_000.0, 120_000.0]
    rfm.loc[rfm.index[-4:], "monetary"] = [0.0, -35.5, -120.0, 0.0]
    return rfm


@pytest.fixture(scope="module")
def personas() -> pd.DataFrame:
    return pd.read_csv(SEED_FILE)


@pytest.fixture(scope="module")
def rfm() -> pd.DataFrame:
    return persona_rfm()


@pytest.fixture(scope="module")
def result(rfm: pd.DataFrame, personas: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return run_segmentation(rfm, personas, k="auto", random_state=42)


def test_two_runs_give_identical_tables(rfm, personas, result):
    again = run_segmentation(rfm, personas, k="auto", random_state=42)
    assert set(again) == {"feature_transform", "k_evaluation", "centroids", "customer_clusters"}
    for key, table in result.items():
        pd.testing.assert_frame_equal(again[key], table)


def test_shuffled_customers_get_the_same_tables(rfm, personas, result):
    shuffled = rfm.sample(frac=1.0, random_state=7)
    assert not shuffled["customer_id"].is_monotonic_increasing
    again = run_segmentation(shuffled, personas, k="auto", random_state=42)
    for key, table in result.items():
        pd.testing.assert_frame_equal(again[key], table)


def test_planted_personas_are_found_and_named(rfm, result):
    evaluation = result["k_evaluation"]
    assert evaluation.loc[evaluation["is_chosen"], "k"].tolist() == [4]
    labels = result["customer_clusters"].merge(rfm[["customer_id", "planted"]], on="customer_id")
    assert len(labels) == len(rfm)
    agreement = (labels["persona_key"] == labels["planted"]).groupby(labels["planted"]).mean()
    assert (agreement >= 0.95).all(), agreement


def test_tables_have_the_documented_columns(result, rfm):
    assert list(result["customer_clusters"].columns) == list(CUSTOMER_CLUSTER_COLUMNS)
    assert list(result["centroids"].columns) == [
        "cluster_id", "persona_key", "customer_count", "customer_share", *SOURCE_COLUMNS, *Z_COLUMNS
    ]
    labels = result["customer_clusters"]
    assert labels["customer_id"].tolist() == sorted(rfm["customer_id"])
    assert labels.notna().all().all()
    evaluation = result["k_evaluation"]
    assert evaluation["is_chosen"].sum() == 1
    assert evaluation["reason"].str.len().gt(0).all()


def test_shares_sum_to_one_and_counts_match_the_labels(result, rfm):
    centroids = result["centroids"]
    assert centroids["customer_share"].sum() == pytest.approx(1.0)
    assert centroids["customer_count"].sum() == len(rfm)
    counted = result["customer_clusters"]["cluster_id"].value_counts()
    counts = centroids.set_index("cluster_id")["customer_count"]
    assert counted.sort_index().tolist() == counts.sort_index().tolist()
    per_cluster = result["customer_clusters"].groupby("cluster_id")["persona_key"].unique()
    names = centroids.set_index("cluster_id")["persona_key"]
    assert all(list(per_cluster[c]) == [names[c]] for c in names.index)
    assert names.is_unique


def test_centroids_are_canonically_ordered_and_back_transformed(result):
    centroids = result["centroids"]
    params = result["feature_transform"]
    assert centroids["cluster_id"].tolist() == list(range(len(centroids)))
    assert centroids["recency_z"].is_monotonic_increasing
    back = inverse_transform_features(centroids[Z_COLUMNS].to_numpy(), params)
    np.testing.assert_allclose(centroids[SOURCE_COLUMNS].to_numpy(), back)
    bounds = params.set_index("source_column")
    for column in SOURCE_COLUMNS:
        low, high = bounds.loc[column, ["clip_lower", "clip_upper"]]
        assert centroids[column].between(low, high).all(), column


def test_distance_and_margin_agree_with_the_centroids(result, rfm):
    labels = result["customer_clusters"].set_index("customer_id")
    X = transform_features(rfm, result["feature_transform"])
    centroids = result["centroids"].set_index("cluster_id")
    own = centroids.loc[labels.loc[rfm["customer_id"], "cluster_id"], Z_COLUMNS].to_numpy()
    distance = labels.loc[rfm["customer_id"], "distance_to_centroid"].to_numpy()
    margin = labels.loc[rfm["customer_id"], "margin_to_next_centroid"].to_numpy()
    np.testing.assert_allclose(distance, np.linalg.norm(X - own, axis=1))
    assert (margin >= 0).all() and (margin > 0).any()
    to_all = np.linalg.norm(X[:, None, :] - centroids[Z_COLUMNS].to_numpy()[None], axis=2)
    to_all[np.arange(len(X)), labels.loc[rfm["customer_id"], "cluster_id"].to_numpy()] = np.inf
    np.testing.assert_allclose(to_all.min(axis=1), distance + margin)


def test_steps_compose_to_the_same_tables(rfm, personas, result):
    params = fit_feature_transform(rfm)
    evaluation = build_k_evaluation(rfm, params, max_k=len(personas))
    centroids = build_centroids(rfm, params, evaluation, personas)
    labels = build_customer_clusters(rfm, params, centroids)
    for key, table in zip(result, [params, evaluation, centroids, labels]):
        pd.testing.assert_frame_equal(table, result[key])


def test_centroid_row_order_changes_no_label(rfm, result):
    reversed_centroids = result["centroids"].iloc[::-1]
    labels = build_customer_clusters(rfm, result["feature_transform"], reversed_centroids)
    pd.testing.assert_frame_equal(labels, result["customer_clusters"])


def test_new_customers_are_labelled_without_refitting(rfm, result):
    known = rfm.iloc[[0, 200, 400, 599]]
    new = known.assign(customer_id=known["customer_id"] + 1_000_000)
    whale = new.iloc[:1].assign(customer_id=9_999_999, monetary=5_000_000.0)
    labels = build_customer_clusters(
        pd.concat([new, whale]), result["feature_transform"], result["centroids"]
    ).set_index("customer_id")
    before = result["customer_clusters"].set_index("customer_id")
    expected = before.loc[known["customer_id"], "persona_key"].tolist()
    assert labels.loc[new["customer_id"], "persona_key"].tolist() == expected
    assert labels.loc[9_999_999, "persona_key"] == "high_value"


def test_fixed_k_bypasses_the_rule(rfm, personas):
    tables = run_segmentation(rfm, personas, k=6, random_state=3)
    evaluation = tables["k_evaluation"]
    assert evaluation.loc[evaluation["is_chosen"], "k"].tolist() == [6]
    assert "fixed" in evaluation.loc[evaluation["is_chosen"], "reason"].iloc[0]
    assert len(tables["centroids"]) == 6
    assert tables["centroids"]["persona_key"].is_unique
    assert tables["customer_clusters"]["cluster_id"].nunique() == 6


def test_few_customers_cap_the_candidate_k(personas):
    small = persona_rfm(n_per=2, seed=1)
    evaluation = run_segmentation(small, personas, k="auto")["k_evaluation"]
    assert evaluation["k"].max() == len(small) - 1
    assert evaluation["is_chosen"].sum() == 1


def test_k_above_the_number_of_personas_fails(rfm, personas):
    with pytest.raises(ValueError, match="k=11 exceeds the maximum of 10"):
        run_segmentation(rfm, personas, k=11)


def test_fewer_customers_than_k_fails_clearly(personas):
    three = persona_rfm(n_per=1).iloc[:3]
    with pytest.raises(ValueError, match=r"k=5 clusters requested but there are only 3 customers"):
        run_segmentation(three, personas, k=5)


def test_identical_customers_fail_clearly(rfm, personas):
    same = rfm.assign(recency_days=10, tenure_days=100, frequency=3, monetary=500.0)
    with pytest.raises(ValueError, match=f"all {len(rfm)} customers have identical features"):
        run_segmentation(same, personas)


def test_a_single_customer_fails_clearly(rfm, personas):
    with pytest.raises(ValueError, match="only one customer"):
        run_segmentation(rfm.iloc[:1], personas)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.drop(columns="tenure_days"), "missing column.*tenure_days"),
        (lambda r: r.drop(columns="customer_id"), "missing column.*customer_id"),
        (lambda r: r.assign(monetary=r["monetary"].where(r.index != 5)), "monetary has 1 missing"),
        (lambda r: r.assign(customer_id=r["customer_id"].where(r.index != 1, r["customer_id"][0])),
         "customer_id must be unique"),
        (lambda r: r.iloc[:0], "no customers"),
    ],
    ids=["missing-feature", "missing-id", "nan", "duplicate-id", "empty"],
)
def test_bad_input_is_named(rfm, personas, change, message):
    with pytest.raises(ValueError, match=message):
        run_segmentation(change(rfm), personas)
