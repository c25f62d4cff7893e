"""The segmentation steps and their tables: determinism, invariance, consistency, bad inputs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from customer_segments.clustering import (
    CUSTOMER_CLUSTER_COLUMNS,
    TABLE_NAMES,
    build_backtest_segments,
    build_centroids,
    build_customer_clusters,
    build_feature_transform,
    build_k_evaluation,
    build_persona_conditions,
    run_segmentation,
)
from customer_segments.features import inverse_transform_features, transform_features
from customer_segments.naming import NAMING_COLUMNS
from customer_segments.personas import (
    PersonaSettings,
    condition_results,
    customer_measures,
    parse_rule,
    population_reference,
)

SEED_FILE = Path(__file__).resolve().parents[2] / "seeds" / "cluster_personas.csv"
Z_COLUMNS = ["recency_z", "frequency_z", "monetary_z", "tenure_z"]
SOURCE_COLUMNS = ["recency_days", "frequency", "monetary", "tenure_days"]


def persona_rfm(n_per: int = 150, seed: int = 0) -> pd.DataFrame:
    """A synthetic RFM mart with four planted personas, skewed money, wholesalers and refunds.

    The ``planted`` column says which persona generated each customer; the last four customers
    returned everything (net revenue 0 or below).
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
    assert set(again) == set(TABLE_NAMES)
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
    assert set(evaluation["k"]) == set(range(3, 11))
    labels = result["customer_clusters"].merge(rfm[["customer_id", "planted"]], on="customer_id")
    assert len(labels) == len(rfm)
    clustered = labels.loc[labels["cluster_id"].notna()]
    agreement = (
        (clustered["persona_key"] == clustered["planted"]).groupby(clustered["planted"]).mean()
    )
    assert (agreement > 0.95).all(), agreement


def test_every_customer_is_labelled_and_refunds_are_left_out(rfm, result):
    labels = result["customer_clusters"].set_index("customer_id")
    assert list(result["customer_clusters"].columns) == list(CUSTOMER_CLUSTER_COLUMNS)
    assert set(labels.index) == set(rfm["customer_id"])
    refunded = rfm.loc[rfm["monetary"] <= 0, "customer_id"]
    assert len(refunded) == 4
    assert (labels.loc[refunded, "persona_key"] == "refunded").all()
    assert labels.loc[refunded, ["cluster_id", "distance_to_centroid"]].isna().all().all()
    assert labels["cluster_id"].notna().sum() == result["centroids"]["customer_count"].sum()
    assert result["feature_transform"]["n_customers_fitted"].eq(len(rfm) - 4).all()


def test_customers_with_returns_only_get_no_purchase(rfm, personas, result):
    returns_only = pd.DataFrame(
        {
            "customer_id": [1],
            "recency_days": [np.nan],
            "tenure_days": [np.nan],
            "frequency": [0],
            "monetary": [-80.0],
        }
    )
    labels = build_customer_clusters(
        pd.concat([rfm, returns_only], ignore_index=True),
        result["feature_transform"],
        result["centroids"],
        personas,
    ).set_index("customer_id")
    assert labels.loc[1, "persona_key"] == "no_purchase"
    assert pd.isna(labels.loc[1, "cluster_id"])


def test_centroids_say_why_each_cluster_got_its_name(result, personas):
    centroids = result["centroids"]
    for column in [c for c in NAMING_COLUMNS if c not in ("cluster_id", "persona_key")]:
        assert column in centroids.columns, column
    assert centroids["persona_key"].is_unique
    rules = personas.set_index("persona_key")["rule"]
    measures = [c for c in centroids.columns if c.startswith("median_")]
    profiles = centroids[measures].rename(columns=lambda c: c[len("median_") :])
    clustered = persona_rfm().loc[lambda r: r["monetary"] > 0]
    reference = population_reference(customer_measures(clustered))
    for i, row in centroids.iterrows():
        assert row["naming_reason"].startswith(f"meets {row['persona_key']}: ")
        met, _ = condition_results(
            profiles.loc[[i]], parse_rule(rules[row["persona_key"]]), reference, PersonaSettings()
        )
        assert met.all()
        assert 0.5 < row["share_meeting_conditions"] <= 1.0


def test_shares_sum_to_one_and_counts_match_the_labels(result):
    centroids = result["centroids"]
    assert centroids["customer_share"].sum() == pytest.approx(1.0)
    labels = result["customer_clusters"].dropna(subset=["cluster_id"])
    counted = labels["cluster_id"].value_counts().sort_index()
    assert (
        counted.tolist()
        == centroids.set_index("cluster_id")["customer_count"].sort_index().tolist()
    )
    per_cluster = labels.groupby("cluster_id")["persona_key"].unique()
    names = centroids.set_index("cluster_id")["persona_key"]
    assert all(list(per_cluster[c]) == [names[c]] for c in names.index)


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
    labels = result["customer_clusters"].dropna(subset=["cluster_id"]).set_index("customer_id")
    customers = rfm.set_index("customer_id").loc[labels.index].reset_index()
    X = transform_features(customers, result["feature_transform"])
    centroids = result["centroids"].set_index("cluster_id")
    own = centroids.loc[labels["cluster_id"].astype(int), Z_COLUMNS].to_numpy()
    np.testing.assert_allclose(labels["distance_to_centroid"], np.linalg.norm(X - own, axis=1))
    to_all = np.linalg.norm(X[:, None, :] - centroids[Z_COLUMNS].to_numpy()[None], axis=2)
    to_all[np.arange(len(X)), labels["cluster_id"].astype(int).to_numpy()] = np.inf
    np.testing.assert_allclose(
        to_all.min(axis=1), labels["distance_to_centroid"] + labels["margin_to_next_centroid"]
    )


def test_plain_sql_assigns_every_customer_as_the_library_does(rfm, result, personas):
    """Rule personas, then clip, transform, scale and the nearest centroid (ties: lower id)."""
    sql = """
        with z as (
            select customer_id, p.model_column,
                (case p.transform
                    when 'sqrt' then sqrt(least(greatest(v.value, p.clip_lower), p.clip_upper))
                    when 'log1p' then ln(1 + least(greatest(v.value, p.clip_lower), p.clip_upper))
                    else least(greatest(v.value, p.clip_lower), p.clip_upper)
                end - p.center) / p.scale as z
            from (unpivot clustered on recency_days, frequency, monetary, tenure_days
                  into name source_column value value) as v
            join params as p using (source_column)
        ),
        distances as (
            select z.customer_id, c.cluster_id, c.persona_key,
                sqrt(sum(power(z.z - case z.model_column
                    when 'recency_z' then c.recency_z when 'frequency_z' then c.frequency_z
                    when 'monetary_z' then c.monetary_z else c.tenure_z end, 2))) as distance
            from z cross join centroids as c
            group by z.customer_id, c.cluster_id, c.persona_key
        )
        select customer_id, cluster_id, persona_key from distances
        qualify row_number() over (partition by customer_id order by distance, cluster_id) = 1
        union all
        select customer_id, null, case when frequency = 0 then 'no_purchase'
                                       when monetary <= 0 then 'refunded' end
        from customers where frequency = 0 or monetary <= 0
        order by customer_id
    """
    customers = rfm.drop(columns="planted").astype(dict.fromkeys(SOURCE_COLUMNS, float))
    with duckdb.connect() as connection:
        connection.register("customers", customers)
        connection.register("clustered", customers.loc[customers["monetary"] > 0])
        connection.register("params", result["feature_transform"])
        connection.register("centroids", result["centroids"])
        assigned = connection.sql(sql).df()
    expected = result["customer_clusters"]
    assert assigned["customer_id"].tolist() == expected["customer_id"].tolist()
    assert assigned["persona_key"].tolist() == expected["persona_key"].tolist()
    np.testing.assert_array_equal(
        assigned["cluster_id"].fillna(-1).astype(int), expected["cluster_id"].fillna(-1).astype(int)
    )


def test_steps_compose_to_the_same_tables(rfm, personas, result):
    params = build_feature_transform(rfm, personas)
    conditions = build_persona_conditions(rfm, personas)
    evaluation = build_k_evaluation(rfm, params, personas)
    centroids = build_centroids(rfm, params, evaluation, personas)
    labels = build_customer_clusters(rfm, params, centroids, personas)
    steps = {
        "feature_transform": params,
        "persona_conditions": conditions,
        "k_evaluation": evaluation,
        "centroids": centroids,
        "customer_clusters": labels,
    }
    for key, table in steps.items():
        pd.testing.assert_frame_equal(table, result[key])


def test_the_conditions_table_resolves_thresholds_over_the_clustered_customers(rfm, result):
    table = result["persona_conditions"].set_index(["persona_key", "measure", "operator"])
    clustered = rfm.loc[rfm["monetary"] > 0]
    assert table.loc[("new", "tenure_days", "<="), "threshold"] == 90.0
    assert table.loc[("high_value", "monetary", ">="), "threshold"] == pytest.approx(
        clustered["monetary"].quantile(0.75)
    )
    assert (
        table.loc[("at_risk", "recency_days", ">"), "threshold"]
        == clustered["recency_days"].median()
    )


def test_centroid_row_order_changes_no_label(rfm, result, personas):
    reversed_centroids = result["centroids"].iloc[::-1]
    labels = build_customer_clusters(rfm, result["feature_transform"], reversed_centroids, personas)
    pd.testing.assert_frame_equal(labels, result["customer_clusters"])


def test_new_customers_are_labelled_without_refitting(rfm, result, personas):
    known = rfm.iloc[[5, 200, 400, 590]]
    new = known.assign(customer_id=known["customer_id"] + 1_000_000)
    whale = new.iloc[:1].assign(customer_id=9_999_999, monetary=5_000_000.0)
    labels = build_customer_clusters(
        pd.concat([new, whale]), result["feature_transform"], result["centroids"], personas
    ).set_index("customer_id")
    before = result["customer_clusters"].set_index("customer_id")
    expected = before.loc[known["customer_id"], "persona_key"].tolist()
    assert labels.loc[new["customer_id"], "persona_key"].tolist() == expected
    assert labels.loc[9_999_999, "persona_key"] == "high_value"


def test_a_backtest_snapshot_adds_its_evidence(rfm, personas):
    params = build_feature_transform(rfm, personas)
    cutoff = persona_rfm(seed=11)
    rates = cutoff["planted"].map(
        {"high_value": 0.9, "new": 0.4, "occasional": 0.3, "at_risk": 0.05}
    )
    cutoff["has_next_period_purchase"] = np.random.default_rng(0).random(len(cutoff)) < rates
    evaluation = build_k_evaluation(rfm, params, personas, backtest_rfm=cutoff)
    assert evaluation["backtest_auc"].notna().all()
    # The planted four are all named at k = 4; three clusters mix two of them, and ten split
    # personas into parts that cannot all have a name.
    unnamed = evaluation.set_index("k")["unnamed_clusters"]
    assert unnamed[4] == 0 and unnamed[3] >= 1 and unnamed[10] >= 3
    assert (evaluation["n_backtest_customers"] == (cutoff["monetary"] > 0).sum()).all()
    assert (
        evaluation.loc[evaluation["is_chosen"], "reason"]
        .iloc[0]
        .startswith("chosen by the rule: k=4: the smallest reproducible k")
    )
    # Too short a history at the cutoff (fewer than cluster_min_customers): no backtest.
    short = build_k_evaluation(rfm, params, personas, backtest_rfm=cutoff.iloc[:20])
    assert short["backtest_auc"].isna().all()
    with pytest.raises(ValueError, match="has_next_period_purchase"):
        build_k_evaluation(
            rfm, params, personas, backtest_rfm=cutoff.drop(columns="has_next_period_purchase")
        )


def test_fixed_k_bypasses_the_rule(rfm, personas):
    tables = run_segmentation(rfm, personas, k=6, random_state=3)
    evaluation = tables["k_evaluation"]
    assert evaluation.loc[evaluation["is_chosen"], "k"].tolist() == [6]
    assert "fixed" in evaluation.loc[evaluation["is_chosen"], "reason"].iloc[0]
    assert len(tables["centroids"]) == 6
    assert tables["centroids"]["persona_key"].is_unique
    assert tables["customer_clusters"]["cluster_id"].nunique() == 6


def test_too_few_customers_fail_naming_the_count_and_the_setting(personas):
    small = persona_rfm(n_per=10, seed=1)  # 40 customers, 4 of them refunded
    with pytest.raises(
        ValueError,
        match=r"only 36 customer\(s\) can be clustered.*"
        r"cluster_min_customers = 50",
    ):
        run_segmentation(small, personas)
    tables = run_segmentation(small, personas, min_customers=30)
    assert tables["centroids"]["customer_count"].sum() == 36
    with pytest.raises(ValueError, match="cluster_min_customers must be an integer >= 3"):
        run_segmentation(small, personas, min_customers=2)


def test_a_handful_of_customers_caps_the_candidate_k(personas):
    small = persona_rfm(n_per=3, seed=1)  # 12 customers, 4 of them refunded: 8 clustered
    evaluation = run_segmentation(small, personas, min_customers=3, k_min=2)["k_evaluation"]
    assert evaluation["k"].tolist() == list(range(2, 8))
    assert evaluation["is_chosen"].sum() == 1


def test_fewer_customers_than_k_fails_clearly(personas):
    three = persona_rfm(n_per=2).iloc[:3]
    with pytest.raises(ValueError, match=r"k=5 clusters requested but there are only 3 customers"):
        run_segmentation(three, personas, k=5, min_customers=3)


def test_identical_customers_fail_clearly(rfm, personas):
    same = rfm.assign(recency_days=10, tenure_days=100, frequency=3, monetary=500.0)
    with pytest.raises(ValueError, match=f"all {len(rfm)} customers have identical features"):
        run_segmentation(same, personas)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.drop(columns="tenure_days"), "missing column.*tenure_days"),
        (lambda r: r.drop(columns="customer_id"), "missing column.*customer_id"),
        (lambda r: r.assign(monetary=r["monetary"].where(r.index != 5)), "monetary has missing"),
        (
            lambda r: r.assign(
                customer_id=r["customer_id"].where(r.index != 1, r["customer_id"][0])
            ),
            "customer_id must be unique",
        ),
        (lambda r: r.iloc[:0], "no customers"),
    ],
    ids=["missing-feature", "missing-id", "nan", "duplicate-id", "empty"],
)
def test_bad_input_is_named(rfm, personas, change, message):
    with pytest.raises(ValueError, match=message):
        run_segmentation(change(rfm), personas)


def test_the_previous_call_signatures_still_build(rfm, personas):
    """The dbt adapters of before (no personas for the k evaluation and the labels) still run."""
    from customer_segments.features import fit_feature_transform

    params = fit_feature_transform(rfm)
    evaluation = build_k_evaluation(
        rfm, params, k="auto", max_k=len(personas), random_state=42, n_init=10
    )
    assert evaluation["is_chosen"].sum() == 1
    with pytest.raises(ValueError, match="k=11 exceeds the maximum of 10"):
        build_k_evaluation(rfm, params, k=11, max_k=10)
    centroids = build_centroids(rfm, params, evaluation, personas, random_state=42, n_init=10)
    labels = build_customer_clusters(rfm, params, centroids)
    assert labels["cluster_id"].notna().all()  # no rule personas without the seed


def test_the_cutoff_pipeline_labels_every_cutoff_customer_for_the_backtest(personas):
    from customer_segments.backtest import evaluate_grouping

    cutoff = persona_rfm(seed=12)
    rates = cutoff["planted"].map(
        {"high_value": 0.9, "new": 0.4, "occasional": 0.3, "at_risk": 0.05}
    )
    rng = np.random.default_rng(1)
    cutoff["has_next_period_purchase"] = rng.random(len(cutoff)) < rates
    cutoff["next_period_revenue"] = np.where(cutoff["has_next_period_purchase"], 100.0, 0.0)
    labels = build_backtest_segments(cutoff, personas, k=4)
    assert labels["customer_id"].tolist() == sorted(cutoff["customer_id"])
    assert set(labels["persona_key"]) == {"high_value", "at_risk", "occasional", "new", "refunded"}
    table = evaluate_grouping(labels, "persona_key").set_index("group_value")
    assert table.loc["high_value", "repeat_rate"] > 0.8 > 0.15 > table.loc["at_risk", "repeat_rate"]
    assert table["customers"].sum() == len(cutoff)
    with pytest.raises(ValueError, match="cluster_min_customers"):
        build_backtest_segments(cutoff.iloc[:30], personas, k=4)
