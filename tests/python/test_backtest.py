"""Backtest functions: grouping evaluation, tie-aware AUC, calibration deciles, scores."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from customer_segments.backtest import (
    GROUPING_COLUMNS,
    auc_standard_error,
    calibration_deciles,
    cross_fitted_group_rates,
    evaluate_grouping,
    evaluate_rankings,
    group_rate_scores,
    grouping_auc,
    quantile_scores,
    ranking_auc,
    rfm_score,
)


def pairwise_auc(score, outcome) -> float:
    """Every (buyer, non-buyer) pair: 1 if the buyer scores higher, 0.5 on a tie."""
    buyers = [s for s, y in zip(score, outcome, strict=True) if y]
    others = [s for s, y in zip(score, outcome, strict=True) if not y]
    wins = sum(
        1.0 if b > o else 0.5 if b == o else 0.0 for b, o in itertools.product(buyers, others)
    )
    return wins / (len(buyers) * len(others))


def test_auc_counts_ties_as_half():
    score = [3, 3, 2, 2, 2, 1, 1, 0]
    outcome = [1, 0, 1, 1, 0, 0, 1, 0]
    assert ranking_auc(score, outcome) == pytest.approx(pairwise_auc(score, outcome))
    assert ranking_auc([1, 1, 1, 1], [1, 0, 1, 0]) == 0.5


def test_auc_agrees_with_the_pairwise_definition_and_scikit_learn():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(5, 60))
        score = rng.integers(0, 5, n).astype(float)  # many ties
        outcome = rng.random(n) < 0.4
        if outcome.all() or not outcome.any():
            continue
        expected = pairwise_auc(score, outcome)
        assert ranking_auc(score, outcome) == pytest.approx(expected)
        assert roc_auc_score(outcome, score) == pytest.approx(expected)


def test_auc_is_undefined_with_one_class_and_checks_its_input():
    assert np.isnan(ranking_auc([0.1, 0.9], [True, True]))
    with pytest.raises(ValueError, match="score has 2 values but outcome has 3"):
        ranking_auc([0.1, 0.2], [True, False, True])
    with pytest.raises(ValueError, match="missing"):
        ranking_auc([0.1, np.nan], [True, False])
    with pytest.raises(ValueError, match="boolean"):
        ranking_auc([0.1, 0.2], ["yes", "no"])


def test_auc_standard_error_matches_hanley_mcneil_and_shrinks_with_data():
    # Hanley & McNeil (1982), table 2 style example: A = 0.8, 50 + 50 cases.
    a, n1, n0 = 0.8, 50, 50
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    expected = np.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / 2500)
    assert auc_standard_error(a, n1, n0) == pytest.approx(expected)
    assert auc_standard_error(0.8, 500, 500) < auc_standard_error(0.8, 50, 50) / 3
    assert np.isnan(auc_standard_error(0.8, 0, 10))


@pytest.fixture()
def backtest() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "persona_key": ["a", "a", "a", "a", "b", "b", "c", "c", "c", "c"],
            "has_next_period_purchase": [1, 1, 1, 0, 1, 0, 0, 0, 0, 0],
            "next_period_revenue": [100.0, 50.0, 30.0, 0.0, 20.0, -5.0, 0.0, 0.0, 0.0, 0.0],
        }
    )


def test_grouping_reports_repeat_rate_revenue_and_lift(backtest):
    table = evaluate_grouping(backtest, "persona_key").set_index("group_value")
    assert list(table.reset_index().columns) == list(GROUPING_COLUMNS)
    assert table.index.tolist() == ["a", "b", "c"]  # by repeat rate, highest first
    assert table["customers"].tolist() == [4, 2, 4]
    assert table["repeat_customers"].tolist() == [3, 1, 0]
    assert table["repeat_rate"].tolist() == [0.75, 0.5, 0.0]
    assert table["next_period_revenue"].tolist() == [180.0, 15.0, 0.0]
    assert table["revenue_per_customer"].tolist() == [45.0, 7.5, 0.0]
    # Base rate 4 / 10.
    assert table["lift"].tolist() == pytest.approx([1.875, 1.25, 0.0])


def test_grouping_without_any_buyer_has_no_lift(backtest):
    table = evaluate_grouping(backtest.assign(has_next_period_purchase=False), "persona_key")
    assert table["lift"].isna().all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="next_period_revenue"), "missing column.*next_period_revenue"),
        (lambda f: f.iloc[:0], "no customers"),
        (lambda f: f.assign(persona_key=None), "persona_key has missing"),
        (lambda f: f.assign(next_period_revenue="x"), "next_period_revenue has missing"),
        (lambda f: f.assign(has_next_period_purchase=np.nan), "has 10 missing"),
    ],
)
def test_bad_backtest_frames_are_named(backtest, change, message):
    with pytest.raises(ValueError, match=message):
        evaluate_grouping(change(backtest), "persona_key")


def test_group_rates_score_each_customer_with_their_group(backtest):
    scores = group_rate_scores(backtest["persona_key"], backtest["has_next_period_purchase"])
    assert scores.tolist() == [0.75] * 4 + [0.5] * 2 + [0.0] * 4
    assert grouping_auc(
        backtest["persona_key"], backtest["has_next_period_purchase"], cross_fit=False
    ) == pytest.approx(pairwise_auc(scores, backtest["has_next_period_purchase"]))


def test_cross_fitted_rates_take_away_the_optimism_of_many_small_groups():
    rng = np.random.default_rng(3)
    outcome = rng.random(2000) < 0.3  # nobody's group tells anything
    groups = rng.integers(0, 400, 2000)  # 400 groups of ~5
    in_sample = grouping_auc(groups, outcome, cross_fit=False)
    out_of_fold = grouping_auc(groups, outcome)
    assert in_sample > 0.65  # noise fitted
    assert abs(out_of_fold - 0.5) < 0.05


def test_cross_fitted_rates_come_from_the_other_fold():
    groups = np.array(["x"] * 4 + ["y"] * 4)
    outcome = np.array([1, 1, 0, 0, 0, 0, 0, 1], dtype=bool)
    scores = cross_fitted_group_rates(groups, outcome, n_folds=2, random_state=0)
    fold = np.random.RandomState(0).permutation(8) % 2
    for i in range(8):
        others = (fold != fold[i]) & (groups == groups[i])
        expected = outcome[others].mean() if others.any() else outcome[fold != fold[i]].mean()
        assert scores[i] == pytest.approx(expected)


def test_rankings_are_reported_side_by_side():
    frame = pd.DataFrame(
        {
            "has_next_period_purchase": [True, False, True, False],
            "p": [0.9, 0.1, 0.8, 0.2],
            "minus_recency": [-5, -1, -300, -200],
        }
    )
    table = evaluate_rankings(frame, {"probability": "p", "recency_days": "minus_recency"})
    assert table["ranking"].tolist() == ["probability", "recency_days"]
    # Recency: of the four (buyer, non-buyer) pairs only (-5, -200) is ranked right.
    assert table["auc"].tolist() == [1.0, 0.25]
    assert table["base_rate"].tolist() == [0.5, 0.5]
    assert table["customers"].tolist() == [4, 4]


def test_quantile_scores_follow_the_sql_macro():
    values = np.array([5.0, 1.0, 1.0, 3.0, 9.0, 9.0, 9.0, 2.0, 4.0, 0.0])
    scores = quantile_scores(values)
    # rank = values strictly below + 1; score = 1 + floor(5 (rank - 1) / 10)
    rank = np.array([(values < v).sum() + 1 for v in values])
    np.testing.assert_array_equal(scores, 1 + (5 * (rank - 1)) // 10)
    assert scores[values == 9.0].tolist() == [4, 4, 4]  # ties share a score
    assert scores[values.argmin()] == 1
    assert quantile_scores([10, 20, 30, 40, 50], descending=True).tolist() == [5, 4, 3, 2, 1]


def test_rfm_score_uses_the_mart_scores_when_given():
    rfm = pd.DataFrame(
        {
            "recency_score": [5, 1],
            "frequency_score": [4, 1],
            "monetary_score": [3, 2],
            "recency_days": [1, 2],
            "frequency": [1, 2],
            "monetary": [1.0, 2.0],
        }
    )
    assert rfm_score(rfm).tolist() == [12.0, 4.0]
    computed = rfm_score(rfm.drop(columns=["recency_score", "frequency_score", "monetary_score"]))
    # Two customers: the better of each scores 1 + floor(5 * 1 / 2) = 3, the worse 1.
    assert computed.tolist() == [3 + 1 + 1, 1 + 3 + 3]


def test_calibration_deciles_compare_prediction_and_outcome():
    rng = np.random.default_rng(4)
    p = rng.uniform(0, 1, 20_000)
    y = rng.random(20_000) < p  # calibrated by construction
    table = calibration_deciles(p, y)
    assert table["decile"].tolist() == list(range(1, 11))
    assert table["customers"].tolist() == [2000] * 10
    assert table["gap"].abs().max() < 0.04
    lows, highs = table["min_predicted"].to_numpy(), table["max_predicted"].to_numpy()
    assert (lows[1:] >= highs[:-1]).all()
    biased = calibration_deciles(np.clip(p + 0.2, 0, 1), y)
    assert (biased["gap"] < -0.05).sum() >= 7


def test_calibration_deciles_tell_sampling_error_from_a_wrong_prediction():
    rng = np.random.default_rng(11)
    p = rng.uniform(0.05, 0.95, 4_000)
    y = rng.random(4_000) < p  # calibrated by construction
    table = calibration_deciles(p, y)
    # The standard error of each bin's observed rate if the predictions are right.
    bins = quantile_scores(p, 10)
    for row in table.itertuples():
        own = p[bins == row.decile]
        assert row.gap_standard_error == pytest.approx(np.sqrt(np.sum(own * (1 - own))) / own.size)
        assert row.gap_z_score == pytest.approx(row.gap / row.gap_standard_error)
    # About 1 bin in 20 is outside by chance; promising 10 points too much is seen in most bins
    # of 400 customers (standard error about 2.4 points).
    assert table["is_gap_within_sampling_error"].sum() >= 8
    promised_too_much = calibration_deciles(np.clip(p + 0.10, 0, 1), y)
    assert (~promised_too_much["is_gap_within_sampling_error"]).sum() >= 8
    # The same 10-point error in bins of 40 customers (standard error about 7.5 points) is
    # mostly sampling error.
    small = calibration_deciles(np.clip(p[:400] + 0.10, 0, 1), y[:400])
    assert small["gap_standard_error"].median() > 0.06
    assert small["is_gap_within_sampling_error"].sum() >= 5


def test_a_bin_of_certain_predictions_has_no_sampling_error():
    table = calibration_deciles([0.0] * 5 + [1.0] * 5, [0] * 5 + [1] * 4 + [0])
    certain_and_right, certain_and_wrong = table.iloc[0], table.iloc[1]
    assert certain_and_right["gap_standard_error"] == 0
    assert np.isnan(certain_and_right["gap_z_score"])
    assert certain_and_right["is_gap_within_sampling_error"]
    assert certain_and_wrong["gap"] == pytest.approx(-0.2)
    assert not certain_and_wrong["is_gap_within_sampling_error"]


def test_equal_predictions_share_a_decile():
    table = calibration_deciles([0.2] * 6 + [0.7] * 4, [0, 0, 1, 0, 0, 0, 1, 1, 0, 1])
    assert table["decile"].tolist() == [1, 7]
    assert table["customers"].tolist() == [6, 4]
    assert table["observed_rate"].tolist() == pytest.approx([1 / 6, 0.75])
    with pytest.raises(ValueError, match="between 0 and 1"):
        calibration_deciles([1.2, 0.1], [1, 0])
