"""Issues 4 and 11: the Python step inside `dbt build` names clusters by conditions their members
meet, chooses k with evidence, and agrees with the SQL assignment and the standalone command."""

from __future__ import annotations

import operator
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, roc_auc_score

from .conftest import PROJECT_DIR, DbtRun, SmallBuild, run_dbt

OPERATORS = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "=": operator.eq,
    "!=": operator.ne,
}
MIN_SHARE = 0.5  # the default of the var cluster_min_share_meeting_conditions
RULE_PERSONAS = ("refunded", "no_purchase")
LAPSED_PERSONAS = ("at_risk", "big_spender_lapsed", "hibernating", "lost")
ACTIVE_PERSONAS = ("high_value", "loyal", "promising")
# Judged on the generator's truth about the default data; measured on 2026-12-06: 78% of the
# customers matched new are truly new; the probability ranks those who stopped at AUC 0.86.
MIN_MATCHED_NEW_TRULY_NEW = 0.7
MIN_STOPPED_AUC = 0.8


def _members_with_measures(run: DbtRun) -> pd.DataFrame:
    """Every clustered customer of as_of_date with the six measures of the persona conditions,
    computed here from fct_customer_rfm (an independent reading of the seed's definitions)."""
    members = run.query(
        "select c.customer_id, c.cluster_id, c.persona_key, r.recency_days, r.frequency,"
        " r.monetary, r.tenure_days, r.average_purchase_gap_days"
        " from main.customer_clusters c join main.fct_customer_rfm r using (customer_id)"
        " where c.cluster_id is not null"
    )
    members["monetary"] = members["monetary"].astype(float)
    repeat = members["frequency"] >= 2
    members["gaps_since_last_purchase"] = np.where(
        repeat,
        members["recency_days"] / np.maximum(members["average_purchase_gap_days"], 7),
        np.nan,
    )
    return members


def _meets_own_persona(members: pd.DataFrame, conditions: pd.DataFrame) -> pd.Series:
    """Per member (index of ``members``), whether they meet every published condition of their
    own persona (cluster_persona_conditions); a fallback persona has none, so True."""
    meets = pd.Series(True, index=members.index)
    for condition in conditions.itertuples():
        own = members["persona_key"] == condition.persona_key
        met = OPERATORS[condition.operator](members[condition.measure], condition.threshold)
        meets &= ~own | met
    return meets


def test_every_named_cluster_mostly_meets_the_conditions_of_its_name(default_build: DbtRun):
    # Issue 11: "every persona's members meet its conditions". Each condition's threshold as
    # of as_of_date is published (cluster_persona_conditions); a cluster carries a persona's
    # name only when at least half its members meet every one of them, counted here anew.
    conditions = default_build.query("select * from main.cluster_persona_conditions")
    centroids = default_build.query("select * from main.cluster_centroids")
    members = _members_with_measures(default_build)
    named = centroids.loc[~centroids["is_fallback"]]
    assert len(named) >= 3
    meets = _meets_own_persona(members, conditions)
    for cluster in named.itertuples():
        own = members.loc[members["cluster_id"] == cluster.cluster_id]
        share = float(meets.loc[own.index].mean())
        assert share >= MIN_SHARE, (cluster.persona_key, share)
        assert abs(share - cluster.share_meeting_conditions) < 1e-9, cluster.persona_key
        assert len(own) == cluster.customer_count


def test_the_names_hold_on_the_simulated_truth(default_build: DbtRun, default_data):
    # The generator simulates its shop forward and writes what no backtest can see: who has
    # stopped buying for good (has_stopped) and who is truly new (persona_key new: a first
    # order ever within the last 90 days). The product's names must keep those promises.
    segments = default_build.query(
        "select customer_id, persona_key, matched_persona_key, next_purchase_probability"
        " from main.dim_customer_segments"
    )
    truth = pd.read_csv(default_data[1])
    merged = segments.merge(truth, on="customer_id", suffixes=("", "_true"), validate="one_to_one")
    assert len(merged) == len(segments) == len(truth)
    # Every truly new customer is matched new (bar those a rule persona takes: refunds).
    new = merged.loc[merged["persona_key_true"] == "new"]
    clustered_new = new.loc[~new["persona_key"].isin(RULE_PERSONAS)]
    assert len(clustered_new) >= 0.99 * len(new)
    assert (clustered_new["matched_persona_key"] == "new").all()
    # Matched new but not new: old customers back after a long gap, whose first order in the
    # file is recent; the file cannot tell them apart, and they are a minority.
    matched_new = merged.loc[merged["matched_persona_key"] == "new"]
    assert (matched_new["persona_key_true"] == "new").mean() >= MIN_MATCHED_NEW_TRULY_NEW
    # Names that say a customer has lapsed hold more customers who have stopped than the base
    # does; names that say they are active hold fewer.
    base = merged["has_stopped"].mean()
    stopped = merged.groupby("persona_key")["has_stopped"].mean()
    lapsed = stopped.loc[stopped.index.isin(LAPSED_PERSONAS)]
    active = stopped.loc[stopped.index.isin(ACTIVE_PERSONAS)]
    assert len(lapsed) >= 2 and len(active) >= 2, stopped
    assert (lapsed > base).all() and (active < base).all(), (stopped, base)
    # And the probability is low for those who have stopped.
    scored = merged.dropna(subset=["next_purchase_probability"])
    auc = roc_auc_score(scored["has_stopped"], -scored["next_purchase_probability"])
    assert auc >= MIN_STOPPED_AUC, auc


def test_k_is_chosen_with_stability_and_backtest_evidence(default_build: DbtRun):
    evaluation = default_build.query("select * from main.cluster_k_evaluation order by k")
    assert evaluation["k"].tolist() == list(range(3, 11))  # cluster_k_min..cluster_k_max
    chosen = evaluation.loc[evaluation["is_chosen"]].iloc[0]
    assert chosen["is_reproducible"] and chosen["stability_ari"] >= 0.8
    # The default data covers two horizons: the backtest separation was measured for every k.
    assert evaluation["backtest_auc"].notna().all()
    assert (evaluation["n_backtest_customers"] > 0).all()
    reproducible = evaluation.loc[evaluation["is_reproducible"]]
    best = reproducible.loc[reproducible["backtest_auc"].idxmax()]
    tolerance = max(0.01, 2 * best["backtest_auc_se"])
    assert chosen["backtest_auc"] >= best["backtest_auc"] - tolerance
    # ... and no smaller reproducible k was as good with as few unnamed clusters.
    smaller = reproducible.loc[
        (reproducible["k"] < chosen["k"])
        & (reproducible["backtest_auc"] >= best["backtest_auc"] - tolerance)
        & (reproducible["unnamed_clusters"] <= chosen["unnamed_clusters"])
    ]
    assert smaller.empty, smaller[["k", "backtest_auc", "unnamed_clusters"]]
    assert f"k={int(chosen['k'])}" in chosen["reason"]


def test_fixed_k_is_one_setting_away(small_build: SmallBuild, tmp_path: Path):
    run = run_dbt(
        [
            "build",
            "--select",
            "+cluster_centroids",
            "+cluster_k_evaluation",
            "--indirect-selection",
            "cautious",
            "--exclude-resource-type",
            "unit_test",
            "--vars",
            "{cluster_k: 6}",
        ],
        tmp_path / "build",
        small_build.data,
    )
    assert run.returncode == 0, run.output[-5000:]
    centroids = run.query("select persona_key, customer_share from main.cluster_centroids")
    assert len(centroids) == 6
    assert centroids["persona_key"].is_unique
    assert abs(centroids["customer_share"].sum() - 1) < 1e-9
    reason = run.query("select reason from main.cluster_k_evaluation where is_chosen")["reason"][0]
    assert "fixed" in reason


def test_invalid_cluster_k_fails_clearly(default_data, tmp_path: Path):
    run = run_dbt(["build", "--vars", "{cluster_k: many}"], tmp_path / "build", default_data[0])
    assert run.returncode != 0
    assert "cluster_k" in run.output and "many" in run.output


def test_standalone_command_writes_the_same_model(default_build: DbtRun, tmp_path: Path):
    # The command has no backtest snapshot, so it would choose k by the vote: given the k that
    # dbt chose, it must fit the same transform, conditions, centroids and labels.
    warehouse = default_build.copy_warehouse(tmp_path / "copy.duckdb")
    k = int(default_build.query("select k from main.cluster_k_evaluation where is_chosen")["k"][0])
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "customer_segments.cli",
            "--duckdb",
            str(warehouse),
            "--schema",
            "standalone",
            "--k",
            str(k),
            "--personas",
            str(PROJECT_DIR / "seeds" / "cluster_personas.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    copy = DbtRun(0, "", warehouse)
    for table, key in [
        ("cluster_feature_transform", "feature_position"),
        ("cluster_persona_conditions", "persona_key, condition_position"),
    ]:
        from_dbt = copy.query(f"select * from main.{table} order by {key}")
        from_command = copy.query(f"select * from standalone.{table} order by {key}")
        pd.testing.assert_frame_equal(from_dbt, from_command[from_dbt.columns], check_dtype=False)
    centroids = {
        name: copy.query(
            f"select cluster_id, persona_key, customer_count, recency_z, frequency_z, monetary_z,"
            f" tenure_z from {name}.cluster_centroids order by cluster_id"
        )
        for name in ("main", "standalone")
    }
    pd.testing.assert_frame_equal(centroids["main"], centroids["standalone"], check_dtype=False)
    # The command reads fct_customer_rfm (customers with a purchase); dbt also lists those with
    # only returns (no_purchase).
    clusters = copy.query(
        "select d.customer_id, d.cluster_id as dbt_cluster, s.cluster_id as command_cluster,"
        " d.persona_key as dbt_persona, s.persona_key as command_persona"
        " from main.customer_clusters d join standalone.customer_clusters s using (customer_id)"
    )
    assert len(clusters) == len(copy.query("select customer_id from main.fct_customer_rfm"))
    assert (clusters["dbt_persona"] == clusters["command_persona"]).all()
    assert (clusters["dbt_cluster"].fillna(-1) == clusters["command_cluster"].fillna(-1)).all()


def test_sql_assignment_equals_the_python_assignment(default_build: DbtRun):
    # customer_clusters is assigned in SQL (macros/segmentation/nearest_centroid_ctes.sql and the
    # seed's rule personas) from the stored tables; the library's assignment of the same
    # customers must agree exactly.
    from customer_segments.clustering import build_customer_clusters

    customers = default_build.query(
        "select * exclude (snapshot_role) from main_intermediate.int_customer_purchase_snapshots"
        " where snapshot_role = 'as_of_date'"
    )
    python = (
        build_customer_clusters(
            customers,
            default_build.query("select * from main.cluster_feature_transform"),
            default_build.query("select * from main.cluster_centroids"),
            default_build.query("select * from main_reference.cluster_personas"),
        )
        .set_index("customer_id")
        .sort_index()
    )
    sql = (
        default_build.query("select * from main.customer_clusters")
        .set_index("customer_id")
        .sort_index()
    )
    assert len(sql) == len(python) == len(customers)
    assert (sql.index == python.index).all()
    assert (sql["persona_key"] == python["persona_key"]).all()
    clustered = python["cluster_id"].notna()
    assert (sql["cluster_id"].isna() == ~clustered).all()
    assert (sql.loc[clustered, "cluster_id"] == python.loc[clustered, "cluster_id"]).all()
    for column in ["distance_to_centroid", "margin_to_next_centroid"]:
        gap = (sql.loc[clustered, column] - python.loc[clustered, column].astype(float)).abs()
        assert gap.max() < 1e-9, column


def test_the_sql_adjusted_rand_index_is_scikit_learns(default_build: DbtRun):
    # fct_persona_rfm_agreement computes the index in SQL from the contingency table, over the
    # customers with a classic segment.
    labels = default_build.query(
        "select persona_key, rfm_segment_key from main.dim_customer_segments"
        " where rfm_segment_key is not null"
    )
    expected = adjusted_rand_score(labels["persona_key"], labels["rfm_segment_key"])
    found = default_build.query(
        "select adjusted_rand_index, customer_count from main.fct_persona_rfm_agreement"
    )
    assert len(found) == 1 and found["customer_count"][0] == len(labels)
    assert abs(found["adjusted_rand_index"][0] - expected) < 1e-12
    assert 0 < expected < 1  # the two partitions agree in part: a value that tests something


@pytest.mark.parametrize("ranking", ["next_purchase_probability", "rfm_score", "recency_days"])
def test_the_sql_backtest_auc_is_scikit_learns(default_build: DbtRun, ranking: str):
    from sklearn.metrics import roc_auc_score

    score = {
        "next_purchase_probability": "p.next_purchase_probability",
        "rfm_score": "s.recency_score + s.frequency_score + s.monetary_score",
        "recency_days": "-s.recency_days",
    }[ranking]
    scored = default_build.query(
        f"select {score} as score, s.has_next_period_purchase as bought"
        " from main_intermediate.int_customer_purchase_snapshots s"
        " left join main_intermediate.int_purchase_probabilities p"
        "   on p.customer_id = s.customer_id and p.snapshot_role = 'backtest_cutoff'"
        "   and p.validation = 'out_of_time'"
        " where s.snapshot_role = 'backtest_cutoff' and s.has_purchase"
    )
    found = default_build.query(
        f"select auc, customers from main.fct_backtest_summary where ranking = '{ranking}'"
    )
    assert found["customers"][0] == len(scored)
    assert abs(found["auc"][0] - roc_auc_score(scored["bought"], scored["score"])) < 1e-12


def test_the_sql_calibration_deciles_are_the_librarys(default_build: DbtRun):
    # fct_backtest_calibration computes the deciles, their sampling error and the verdict in
    # SQL; customer_segments.backtest.calibration_deciles is the library's definition.
    from customer_segments.backtest import calibration_deciles

    verdicts = []
    for validation in ("out_of_time", "cross_validation"):
        scored = default_build.query(
            "select p.next_purchase_probability as p, s.has_next_period_purchase as bought"
            " from main_intermediate.int_customer_purchase_snapshots s"
            " inner join main_intermediate.int_purchase_probabilities p"
            "   on p.customer_id = s.customer_id and p.snapshot_role = 'backtest_cutoff'"
            f"   and p.validation = '{validation}'"
            " where s.snapshot_role = 'backtest_cutoff' and s.has_purchase"
        )
        expected = calibration_deciles(scored["p"], scored["bought"])
        found = default_build.query(
            f"select * from main.fct_backtest_calibration where validation = '{validation}'"
            " order by decile"
        )
        assert found["decile"].tolist() == expected["decile"].tolist()
        assert found["customers"].tolist() == expected["customers"].tolist()
        for column in (
            "mean_predicted",
            "observed_rate",
            "gap",
            "gap_standard_error",
            "gap_z_score",
        ):
            np.testing.assert_allclose(
                found[column], expected[column], rtol=1e-9, err_msg=f"{validation} {column}"
            )
        found_verdicts = found["is_gap_within_sampling_error"].astype(bool).tolist()
        assert found_verdicts == expected["is_gap_within_sampling_error"].tolist(), validation
        verdicts += found_verdicts
    # On the default data some deciles are off by more than sampling error (out of time, where
    # the season moves: README) and some are not: both verdicts occur, so both are compared.
    assert 0 < sum(verdicts) < len(verdicts)


def test_the_backtest_says_which_persona_names_it_contradicts(default_build: DbtRun):
    # fct_segment_backtest's verdict, recomputed from its counts and the seed's expectations.
    seed = pd.read_csv(PROJECT_DIR / "seeds" / "cluster_personas.csv")
    expected_repeat = seed.set_index("persona_key")["expected_repeat"].dropna()
    rows = default_build.query(
        "select * from main.fct_segment_backtest where grouping = 'persona' order by segment_key"
    )
    expectation = rows["segment_key"].map(expected_repeat)
    assert rows["expected_repeat"].fillna("").tolist() == expectation.fillna("").tolist()
    base = rows["base_rate"].astype(float)
    z = (rows["repeat_rate"] - base) / np.sqrt(base * (1 - base) / rows["customers"])
    np.testing.assert_allclose(rows["repeat_rate_z_score"].astype(float), z, rtol=1e-9)
    verdict = np.where(
        expectation == "above_base_rate", z < -1.96, np.where(expectation.notna(), z > 1.96, None)
    )
    promised = expectation.notna()
    assert rows.loc[promised, "is_name_contradicted"].astype(bool).tolist() == list(
        verdict[promised]
    )
    assert rows.loc[~promised, "is_name_contradicted"].isna().all()
    # On the default data the backtest bears out every name it judges (README); the dbt unit
    # test test_fct_segment_backtest_contradicted_names holds both verdicts.
    assert promised.sum() >= 2
    assert not rows.loc[promised, "is_name_contradicted"].astype(bool).any(), rows


def test_the_segment_summary_carries_the_backtest_of_the_same_name(default_build: DbtRun):
    summary = default_build.query(
        "select persona_key, backtest_repeat_rate, backtest_lift,"
        " is_name_contradicted_by_backtest from main.fct_segment_summary"
    ).set_index("persona_key")
    backtest = default_build.query(
        "select segment_key, repeat_rate, lift, is_name_contradicted"
        " from main.fct_segment_backtest where grouping = 'persona'"
    ).set_index("segment_key")
    seed_keys = set(pd.read_csv(PROJECT_DIR / "seeds" / "cluster_personas.csv")["persona_key"])
    shared = [k for k in summary.index if k in backtest.index and k in seed_keys]
    assert shared  # high_value, lost, new and occasional on the default data
    np.testing.assert_allclose(
        summary.loc[shared, "backtest_repeat_rate"], backtest.loc[shared, "repeat_rate"]
    )
    np.testing.assert_allclose(summary.loc[shared, "backtest_lift"], backtest.loc[shared, "lift"])

    def verdicts(column: pd.Series) -> list[object]:
        return [None if pd.isna(v) else bool(v) for v in column.astype(object)]

    assert verdicts(summary.loc[shared, "is_name_contradicted_by_backtest"]) == verdicts(
        backtest.loc[shared, "is_name_contradicted"]
    )
    # Today's personas that the cutoff's fit does not carry (on the default data at_risk and
    # promising) have no backtest; nor would a fallback, whose segment_<n> of the cutoff is
    # another cluster than today's segment_<n> of the same key.
    others = summary.drop(index=shared)
    assert len(others) > 0
    assert others[["backtest_repeat_rate", "backtest_lift"]].isna().all().all()


def test_each_customer_says_whether_they_meet_their_persona(default_build: DbtRun):
    # dim_customer_segments.meets_persona_conditions, computed in SQL, against the conditions
    # evaluated here on fct_customer_rfm with the published thresholds.
    conditions = default_build.query("select * from main.cluster_persona_conditions")
    members = _members_with_measures(default_build)
    verdicts = default_build.query(
        "select customer_id, persona_key, cluster_id, is_fallback_persona,"
        " meets_persona_conditions from main.dim_customer_segments"
    )
    expected = _meets_own_persona(members, conditions).set_axis(members["customer_id"])
    named = verdicts.loc[verdicts["cluster_id"].notna() & ~verdicts["is_fallback_persona"]]
    found = named.set_index("customer_id")["meets_persona_conditions"].astype(bool)
    pd.testing.assert_series_equal(
        found.sort_index(), expected.loc[found.index].sort_index(), check_names=False
    )
    # Most members of a named cluster meet its persona, not all: the column is worth having.
    assert 0.5 <= found.mean() < 1
    fallback = verdicts.loc[verdicts["is_fallback_persona"].astype(bool)]
    assert fallback["meets_persona_conditions"].isna().all()
    rule = verdicts.loc[verdicts["cluster_id"].isna()]
    assert len(rule) > 0 and rule["meets_persona_conditions"].astype(bool).all()


def test_each_customer_gets_the_first_persona_whose_conditions_they_meet(default_build: DbtRun):
    # dim_customer_segments.matched_persona_key, computed in SQL, against the seed's personas
    # tried here in match_priority order on each customer's own measures.
    seed = pd.read_csv(PROJECT_DIR / "seeds" / "cluster_personas.csv")
    by_conditions = seed.loc[seed["assigned_by"] == "conditions"].sort_values("match_priority")
    conditions = default_build.query("select * from main.cluster_persona_conditions")
    members = _members_with_measures(default_build)
    expected = pd.Series(None, index=members.index, dtype=object)
    fitting = {}
    for persona in by_conditions.itertuples():
        meets = pd.Series(True, index=members.index)
        for condition in conditions.loc[
            conditions["persona_key"] == persona.persona_key
        ].itertuples():
            meets &= OPERATORS[condition.operator](members[condition.measure], condition.threshold)
        expected[meets & expected.isna()] = persona.persona_key
        fitting[persona.persona_key] = int(meets.sum())
    expected = expected.set_axis(members["customer_id"]).sort_index()
    found = default_build.query(
        "select customer_id, cluster_id, persona_key, matched_persona_key, matched_persona_name"
        " from main.dim_customer_segments"
    ).set_index("customer_id")
    clustered = found.loc[found["cluster_id"].notna()]
    pd.testing.assert_series_equal(
        clustered["matched_persona_key"].astype(object).sort_index(), expected, check_names=False
    )
    names = seed.set_index("persona_key")["display_name"]
    matched = found.loc[found["matched_persona_key"].notna()]
    assert (
        matched["matched_persona_name"].tolist() == names[matched["matched_persona_key"]].tolist()
    )
    # Rule personas keep theirs.
    rule = found.loc[found["cluster_id"].isna()]
    assert len(rule) > 0 and (rule["matched_persona_key"] == rule["persona_key"]).all()
    # Worth having on the default data: new customers sit outside the cluster named `new`.
    outside = clustered.loc[
        (clustered["matched_persona_key"] == "new") & (clustered["persona_key"] != "new")
    ]
    assert len(outside) > 0
    # fct_segment_summary counts them beside each persona's members (NULL for a fallback).
    # and how many of any cluster fit each persona (a customer may fit several).
    summary = default_build.query(
        "select persona_key, customer_count, fitting_customer_count, matched_customer_count"
        " from main.fct_segment_summary"
    ).set_index("persona_key")
    in_seed = summary.index.isin(seed["persona_key"])
    counts = found["matched_persona_key"].value_counts()
    expected_counts = [int(counts.get(key, 0)) for key in summary.index[in_seed]]
    assert summary.loc[in_seed, "matched_customer_count"].astype(int).tolist() == expected_counts
    assert summary.loc[~in_seed, "matched_customer_count"].isna().all()
    # new comes first in match_priority: every customer who fits it is matched to it.
    assert (
        summary.loc["new", "matched_customer_count"] == summary.loc["new", "fitting_customer_count"]
    )
    by_conditions_here = summary.index.isin(by_conditions["persona_key"])
    expected_fitting = [fitting[key] for key in summary.index[by_conditions_here]]
    assert summary.loc[by_conditions_here, "fitting_customer_count"].astype(int).tolist() == (
        expected_fitting
    )
    assert summary.loc[~by_conditions_here, "fitting_customer_count"].isna().all()
    # Fitting counts overlap, first matches do not: on the default data some persona loses
    # customers who fit it to an earlier one.
    assert (
        summary.loc[by_conditions_here, "fitting_customer_count"]
        > summary.loc[by_conditions_here, "matched_customer_count"]
    ).any()
