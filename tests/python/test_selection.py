"""k-means fitting, assignment and the k rule on data whose true k is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score

from customer_segments.selection import (
    BacktestSample,
    assign_customers,
    choose_k,
    evaluate_k,
    fit_centroids,
    label_stability,
    reproducible_candidates,
    select_k,
    silhouette_scores,
)


def blobs(k: int, n_per: int = 120, n_features: int = 4, seed: int = 0) -> np.ndarray:
    """k Gaussian blobs (sd 1) whose centres are at least 8 apart."""
    rng = np.random.default_rng(seed)
    centres: list[np.ndarray] = []
    while len(centres) < k:
        candidate = rng.uniform(-8, 8, n_features)
        if all(np.linalg.norm(candidate - c) >= 8 for c in centres):
            centres.append(candidate)
    return np.vstack([c + rng.normal(0, 1, (n_per, n_features)) for c in centres])


def two_groups_of_two(n_per: int = 120, seed: int = 0) -> np.ndarray:
    """Four clusters (sd 1) in two groups 40 apart; the two clusters of a group are 6 apart."""
    rng = np.random.default_rng(seed)
    centres = [np.array([g * 40.0, s * 3.0, 0.0, 0.0]) for g in (0, 1) for s in (-1, 1)]
    return np.vstack([c + rng.normal(0, 1, (n_per, 4)) for c in centres])


@pytest.mark.parametrize("true_k", [2, 3, 4, 5])
def test_rule_finds_the_number_of_separated_blobs(true_k):
    evaluation = evaluate_k(blobs(true_k, seed=true_k), range(2, 11))
    k, reason = choose_k(evaluation)
    assert k == true_k
    assert reason.startswith(f"k={true_k}:")


def test_rule_finds_four_where_silhouette_alone_says_two():
    evaluation = evaluate_k(two_groups_of_two(), range(2, 11))
    assert evaluation.loc[evaluation["silhouette"].idxmax(), "k"] == 2
    assert evaluation.loc[evaluation["davies_bouldin"].idxmin(), "k"] == 2
    k, reason = choose_k(evaluation)
    assert k == 4
    assert "elbow" in reason


def test_evaluation_has_one_row_per_candidate_and_the_rule_columns():
    evaluation = select_k(blobs(3), k_min=2, k_max=5)
    assert evaluation["k"].tolist() == [2, 3, 4, 5]
    for column in [
        "inertia",
        "silhouette",
        "davies_bouldin",
        "calinski_harabasz",
        "stability_ari",
        "stability_ari_min",
        "backtest_auc",
        "backtest_auc_se",
        "elbow_distance",
        "elbow_rank",
        "silhouette_rank",
        "davies_bouldin_rank",
        "calinski_harabasz_rank",
        "votes",
        "voted_by",
        "mean_rank",
        "is_reproducible",
        "is_chosen",
        "reason",
    ]:
        assert column in evaluation.columns, column
    assert evaluation["inertia"].is_monotonic_decreasing
    assert evaluation["votes"].sum() == 4
    assert evaluation.loc[evaluation["is_chosen"], "k"].tolist() == [3]
    reason = evaluation.loc[evaluation["is_chosen"], "reason"].iloc[0]
    assert reason.startswith("chosen by the rule")


def test_evaluation_is_deterministic():
    X = blobs(4)
    pd.testing.assert_frame_equal(select_k(X, random_state=5), select_k(X, random_state=5))


def test_large_inputs_are_evaluated_on_a_bounded_deterministic_sample():
    X = blobs(4, n_per=500)
    sizes = {"max_samples": 600, "silhouette_sample_size": 300, "stability_sample_size": 200}
    first = evaluate_k(X, **sizes)
    assert (first["n_customers_evaluated"] == 600).all()
    assert (first["n_silhouette_samples"] == 300).all()
    assert (first["n_stability_samples"] == 200).all()
    pd.testing.assert_frame_equal(first, evaluate_k(X, **sizes))
    assert choose_k(first)[0] == 4
    everyone = evaluate_k(X, max_samples=None, stability_resamples=0)
    assert not np.isclose(first["inertia"], everyone["inertia"]).any()
    assert everyone["stability_ari"].isna().all() and (everyone["n_stability_samples"] == 0).all()


def _table(inertia, silhouette, davies_bouldin, calinski_harabasz) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "k": range(2, 2 + len(inertia)),
            "inertia": inertia,
            "silhouette": silhouette,
            "davies_bouldin": davies_bouldin,
            "calinski_harabasz": calinski_harabasz,
        }
    )


# Inertia with a sharp elbow at k=4 (candidates 2..7).
ELBOW_AT_4 = [100.0, 70.0, 20.0, 18.0, 16.0, 15.0]


def test_a_two_two_tie_goes_to_the_elbow():
    table = _table(
        ELBOW_AT_4,
        [0.9, 0.7, 0.6, 0.5, 0.4, 0.3],
        [0.2, 0.4, 0.5, 0.9, 1.0, 1.1],
        [10, 8, 12, 9, 8, 7],
    )
    assert choose_k(table)[0] == 4
    assert "tie broken by the elbow" in choose_k(table)[1]


def test_three_metrics_outvote_the_elbow():
    table = _table(
        ELBOW_AT_4,
        [0.9, 0.7, 0.6, 0.5, 0.4, 0.3],
        [0.2, 0.4, 0.5, 0.9, 1.0, 1.1],
        [13, 8, 12, 9, 8, 7],
    )
    assert choose_k(table)[0] == 2


def test_a_tie_without_the_elbow_goes_to_the_best_mean_rank():
    # Elbow votes 4; silhouette 3; Davies-Bouldin 5; Calinski-Harabasz 3 -> k=3 has two votes.
    table = _table(
        ELBOW_AT_4,
        [0.5, 0.9, 0.6, 0.5, 0.4, 0.3],
        [0.5, 0.4, 0.5, 0.3, 1.0, 1.1],
        [10, 14, 12, 9, 8, 7],
    )
    assert choose_k(table)[0] == 3
    # Silhouette votes 2, Davies-Bouldin 5, Calinski-Harabasz 7: a 1-1-1-1 tie, the elbow wins.
    table = _table(
        ELBOW_AT_4,
        [0.9, 0.7, 0.6, 0.5, 0.4, 0.3],
        [0.5, 0.4, 0.5, 0.3, 1.0, 1.1],
        [10, 8, 12, 9, 8, 17],
    )
    assert choose_k(table)[0] == 4


def test_rule_ignores_row_order():
    evaluation = evaluate_k(two_groups_of_two(), range(2, 11))
    assert choose_k(evaluation.iloc[::-1]) == choose_k(evaluation)


def test_fixed_k_bypasses_the_rule_and_is_evaluated():
    evaluation = select_k(blobs(4), k=7, k_min=2, k_max=5)
    assert evaluation["k"].tolist() == [2, 3, 4, 5, 7]
    chosen = evaluation.loc[evaluation["is_chosen"]]
    assert chosen["k"].tolist() == [7]
    assert "fixed by the caller" in chosen["reason"].iloc[0]
    assert "would choose k=4" in chosen["reason"].iloc[0]


def test_candidates_are_capped_by_the_customers():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0], [9.0, 0.0]])
    assert evaluate_k(X, range(2, 11))["k"].tolist() == [2, 3, 4]
    duplicated = np.vstack([X[:3]] * 3)  # 9 customers, 3 distinct profiles
    assert evaluate_k(duplicated, range(2, 11))["k"].tolist() == [2, 3]


@pytest.mark.parametrize(
    ("X", "k", "message"),
    [
        (np.ones((20, 4)), "auto", "all 20 customers have identical features"),
        (np.ones((1, 4)), "auto", "only one customer"),
        (np.eye(3), 5, "k=5 clusters requested but there are only 3 customers"),
        (np.eye(4), 1, "k must be at least 2"),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), "auto", "NaN"),
    ],
    ids=["identical", "single", "fewer-than-k", "k-one", "nan"],
)
def test_degenerate_inputs_fail_clearly(X, k, message):
    with pytest.raises(ValueError, match=message):
        select_k(X, k=k, k_min=2)


@pytest.mark.parametrize(
    ("k_min", "k_max", "message"),
    [
        (1, 10, "k_min must be an integer >= 2"),
        (5, 4, "k_min=5 is above k_max=4"),
        (3, 2.5, "k_max must be an integer"),
    ],
)
def test_bad_k_ranges_fail_clearly(k_min, k_max, message):
    with pytest.raises(ValueError, match=message):
        select_k(blobs(3), k_min=k_min, k_max=k_max)


def test_centroids_are_deterministic_and_canonically_ordered():
    X = blobs(5)
    first = fit_centroids(X, 5, random_state=0, n_init=4)
    np.testing.assert_array_equal(first, fit_centroids(X, 5, random_state=0, n_init=4))
    assert (np.diff(first[:, 0]) > 0).all()
    # Another seed numbers k-means' clusters differently; the canonical order does not change.
    other = fit_centroids(X[::-1], 5, random_state=123, n_init=4)
    np.testing.assert_allclose(other, first)


def test_assignment_picks_the_nearest_centroid_with_its_margin():
    X = blobs(3, n_per=50)
    centroids = fit_centroids(X, 3, random_state=0, n_init=4)
    labels, distance, margin = assign_customers(X, centroids)
    to_all = np.linalg.norm(X[:, None, :] - centroids[None], axis=2)
    np.testing.assert_allclose(distance, to_all[np.arange(len(X)), labels])
    np.testing.assert_allclose(distance, to_all.min(axis=1))
    assert (margin >= 0).all()
    to_all[np.arange(len(X)), labels] = np.inf
    np.testing.assert_allclose(distance + margin, to_all.min(axis=1))


def test_margin_is_zero_on_a_boundary():
    centroids = np.array([[-1.0, 0.0], [1.0, 0.0]])
    labels, distance, margin = assign_customers(np.array([[0.0, 0.0]]), centroids)
    assert labels.tolist() == [0] and distance.tolist() == [1.0] and margin.tolist() == [0.0]


def test_silhouette_scores_equal_scikit_learn_for_every_labeling():
    rng = np.random.default_rng(7)
    X = np.vstack([blobs(3, n_per=50, seed=1), blobs(3, n_per=50, seed=1)[:20]])  # with copies
    labelings = [
        rng.integers(0, 2, len(X)),
        np.where(np.arange(len(X)) % 3 == 0, 7, 3),  # labels need not be 0..k-1
        np.r_[[9], rng.integers(0, 4, len(X) - 1)],  # a cluster of one row scores 0
        np.repeat(np.arange(len(X) // 5 + 1), 5)[: len(X)],  # many small clusters
    ]
    expected = [silhouette_score(X, labels) for labels in labelings]
    # chunk_rows smaller than, not dividing, and larger than the rows: the same scores
    for chunk_rows in (7, 64, 1000):
        observed = silhouette_scores(X, labelings, chunk_rows=chunk_rows)
        np.testing.assert_allclose(observed, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("labels", [np.zeros(20, dtype=int), np.arange(20)])
def test_silhouette_scores_need_2_to_n_minus_1_clusters(labels):
    # scikit-learn raises for one cluster and for one cluster per row; so must this.
    with pytest.raises(ValueError):
        silhouette_score(blobs(2, n_per=10), labels)
    with pytest.raises(ValueError, match="2 to 19 clusters of the 20 rows"):
        silhouette_scores(blobs(2, n_per=10), [labels])


def planted_outcome(labels: np.ndarray, rates: list[float], seed: int = 0) -> np.ndarray:
    """Who bought in the next period: each planted group buys at its own rate."""
    rng = np.random.default_rng(seed)
    return rng.random(len(labels)) < np.asarray(rates)[labels]


def test_stability_is_one_for_separated_blobs_and_low_for_an_arbitrary_merge():
    # Four equal blobs at the corners of a square: any two neighbours can merge at k = 3.
    rng = np.random.default_rng(1)
    corners = [np.array([x, y]) for x in (-8.0, 8.0) for y in (-8.0, 8.0)]
    X = np.vstack([c + rng.normal(0, 1, (150, 2)) for c in corners])
    for k, expected in ((4, "high"), (3, "low")):
        model_labels = assign_customers(X, fit_centroids(X, k))[0]
        mean, worst = label_stability(X, model_labels, k, resamples=4)
        if expected == "high":
            assert mean > 0.99 and worst > 0.99
        else:
            # Which two of four equal blobs merge depends on the subsample.
            assert mean < 0.8 and worst <= mean


def test_stability_takes_the_largest_documented_seed():
    # cluster_random_state goes up to 2**32 - 1; the refits' seeds wrap instead of overflowing
    # numpy's range (a traceback before).
    rng = np.random.default_rng(2)
    X = np.vstack([c + rng.normal(0, 1, (60, 2)) for c in (np.zeros(2), np.full(2, 9.0))])
    labels = assign_customers(X, fit_centroids(X, 2))[0]
    mean, worst = label_stability(X, labels, 2, resamples=3, random_state=2**32 - 1)
    assert mean > 0.99 and worst > 0.99


def test_an_unstable_k_is_never_chosen_even_with_the_best_backtest():
    table = _table(
        ELBOW_AT_4,
        [0.9, 0.7, 0.6, 0.5, 0.4, 0.3],
        [0.2, 0.4, 0.5, 0.9, 1.0, 1.1],
        [10, 8, 12, 9, 8, 7],
    )
    table["stability_ari"] = [0.95, 0.9, 0.5, 0.92, 0.9, 0.6]
    table["backtest_auc"] = [0.60, 0.65, 0.80, 0.74, 0.70, 0.81]
    table["backtest_auc_se"] = 0.001
    k, reason = choose_k(table)
    assert k == 5  # k=4 and k=7 predict best but are not reproducible
    assert "k in 2, 3, 5, 6" in reason and "best reproducible 0.740 (k=5;" in reason


def test_when_no_k_is_stable_the_published_flag_marks_the_candidates_the_rule_chose_among():
    # Uniform noise in four dimensions: no k reaches a stability ARI of 0.8, so the rule keeps
    # the most stable candidates (within 0.05 of the best). The flag used to say "not
    # reproducible" for every row, the chosen one included.
    X = np.random.default_rng(3).random((600, 4))
    evaluation = select_k(X, "auto")
    assert (evaluation["stability_ari"] < 0.8).all()
    kept = evaluation["stability_ari"] >= evaluation["stability_ari"].max() - 0.05
    assert evaluation["is_reproducible"].tolist() == kept.tolist()
    chosen = evaluation.loc[evaluation["is_chosen"]].iloc[0]
    assert chosen["is_reproducible"]
    assert "no k reaches label stability ARI 0.80" in chosen["reason"]


def test_reproducible_candidates_reach_the_threshold_or_else_are_the_most_stable():
    mask, text = reproducible_candidates(pd.Series([0.95, 0.7, 0.82]))
    assert mask.tolist() == [True, False, True] and text == "label stability ARI >= 0.80"
    mask, text = reproducible_candidates(pd.Series([0.6, 0.7, 0.66]))
    assert mask.tolist() == [False, True, True] and "kept the most stable (ARI >= 0.65)" in text
    mask, text = reproducible_candidates(pd.Series([np.nan, np.nan]))
    assert mask.all() and text == "stability not measured"


def test_with_a_backtest_the_smallest_k_within_the_tolerance_wins():
    table = _table(
        ELBOW_AT_4,
        [0.9, 0.7, 0.6, 0.5, 0.4, 0.3],
        [0.2, 0.4, 0.5, 0.9, 1.0, 1.1],
        [10, 8, 12, 9, 8, 7],
    )
    table["stability_ari"] = 0.95
    table["backtest_auc"] = [0.60, 0.70, 0.745, 0.75, 0.752, 0.751]
    table["backtest_auc_se"] = 0.004
    assert choose_k(table)[0] == 4  # within 0.01 of 0.752
    assert choose_k(table, auc_tolerance=0.001)[0] == 4  # within two standard errors, 0.008
    table["backtest_auc_se"] = 0.0005
    assert choose_k(table, auc_tolerance=0.001)[0] == 6
    # On a small base twice the standard error of the best AUC is the tolerance.
    table["backtest_auc_se"] = 0.06
    k, reason = choose_k(table, auc_tolerance=0.001)
    assert k == 3 and "within 0.120" in reason


def test_without_stability_or_backtest_the_geometric_vote_decides():
    table = _table(
        ELBOW_AT_4,
        [0.9, 0.7, 0.6, 0.5, 0.4, 0.3],
        [0.2, 0.4, 0.5, 0.9, 1.0, 1.1],
        [10, 8, 12, 9, 8, 7],
    )
    k, reason = choose_k(table)
    assert k == 4 and "no backtest" in reason and "stability not measured" in reason
    # No candidate reaches the threshold: the most stable ones are kept.
    table["stability_ari"] = [0.3, 0.31, 0.5, 0.52, 0.2, 0.1]
    k, reason = choose_k(table)
    assert k == 4 and "no k reaches label stability" in reason and "k in 4, 5" in reason


def test_the_backtest_finds_four_where_silhouette_prefers_two():
    # Two far-apart groups of two clusters; next period, each cluster buys at its own rate.
    X = two_groups_of_two()
    planted = np.repeat(np.arange(4), 120)
    cutoff = two_groups_of_two(seed=1)
    outcome = planted_outcome(planted, [0.9, 0.5, 0.3, 0.05])
    evaluation = select_k(X, k_min=2, backtest=BacktestSample(cutoff, outcome))
    assert evaluation.loc[evaluation["silhouette"].idxmax(), "k"] == 2
    chosen = evaluation.loc[evaluation["is_chosen"]].iloc[0]
    assert chosen["k"] == 4, chosen["reason"]
    auc = evaluation.set_index("k")["backtest_auc"]
    assert auc[4] > auc[2] + 0.05


def test_two_obvious_groups_give_two_when_k_min_allows_it():
    X = blobs(2, seed=2)
    planted = np.repeat(np.arange(2), 120)
    outcome = planted_outcome(planted, [0.8, 0.1])
    for backtest in (None, BacktestSample(blobs(2, seed=3), outcome)):
        evaluation = select_k(X, k_min=2, backtest=backtest)
        assert evaluation.loc[evaluation["is_chosen"], "k"].tolist() == [2]
    # The product's default k_min keeps two groups out.
    assert select_k(X).loc[lambda e: e["is_chosen"], "k"].iloc[0] >= 3


def test_a_backtest_sample_checks_its_shape():
    with pytest.raises(ValueError, match="3 customers but 2 outcome values"):
        BacktestSample(np.zeros((3, 2)), np.array([True, False]))


def test_among_equally_predictive_k_the_fewest_unnamed_clusters_win():
    table = _table(
        ELBOW_AT_4,
        [0.9, 0.7, 0.6, 0.5, 0.4, 0.3],
        [0.2, 0.4, 0.5, 0.9, 1.0, 1.1],
        [10, 8, 12, 9, 8, 7],
    )
    table["stability_ari"] = 0.95
    table["backtest_auc"] = [0.60, 0.70, 0.745, 0.75, 0.752, 0.751]
    table["backtest_auc_se"] = 0.001
    table["unnamed_clusters"] = [0, 0, 2, 1, 0, 3]
    k, reason = choose_k(table)
    assert k == 6  # 4, 5 and 6 predict alike; only 6 names every cluster
    assert reason.endswith("its stability ARI 0.950")
    assert "the fewest clusters without a persona (0)" in reason
    # Prediction first: a k that names everything but predicts worse is not taken.
    table["unnamed_clusters"] = [0, 0, 2, 1, 1, 3]
    assert choose_k(table)[0] == 5


def test_a_namer_counts_each_candidates_unnamed_clusters():
    X = blobs(4, seed=2)
    calls = []

    def count_unnamed(rows, labels):
        calls.append((len(rows), len(np.unique(labels))))
        return len(np.unique(labels)) - 4 if len(np.unique(labels)) > 4 else 0

    evaluation = evaluate_k(X, range(3, 7), count_unnamed=count_unnamed, stability_resamples=0)
    assert evaluation["unnamed_clusters"].tolist() == [0, 0, 1, 2]
    assert calls == [(len(X), k) for k in range(3, 7)]
    assert evaluate_k(X, range(3, 5), stability_resamples=0)["unnamed_clusters"].isna().all()
