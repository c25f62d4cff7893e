"""The purchase probability: features, candidates, out-of-time choice, calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shapes
from customer_segments.backtest import calibration_deciles, ranking_auc, rfm_score
from customer_segments.probability import (
    CANDIDATES,
    COMPARISON_COLUMNS,
    FEATURE_COLUMNS,
    build_purchase_probability,
    choose_purchase_model,
    compare_purchase_models,
    fit_purchase_model,
    make_purchase_model,
    model_comparison_table,
    predict_purchase_probability,
    purchase_features,
    purchase_probabilities,
    ranks_better_than_chance,
)


@pytest.fixture(scope="module")
def snaps() -> dict[str, pd.DataFrame]:
    """A steady retailer (no trend, no season): the next horizon behaves like the last."""
    return shapes.snapshots(shapes.invoices(shapes.shape("steady", customers=2500, seed=21)))


@pytest.fixture(scope="module")
def built(snaps) -> dict[str, pd.DataFrame]:
    return build_purchase_probability(snaps["current"], snaps["recent"], snaps["earlier"])


def test_features_are_logs_of_the_measures_and_the_score():
    rfm = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "recency_days": [9.0, 99.0, np.nan],
            "frequency": [4, 1, 0],
            "monetary": [500.0, -20.0, -5.0],
            "tenure_days": [309.0, 99.0, np.nan],
            "recency_score": [5, 2, np.nan],
            "frequency_score": [4, 1, np.nan],
            "monetary_score": [3, 1, np.nan],
        }
    )
    features = purchase_features(rfm)
    assert list(features.columns) == [*FEATURE_COLUMNS, "rfm_score"]
    np.testing.assert_allclose(features["log_recency_days"][:2], np.log1p([9, 99]))
    np.testing.assert_allclose(features["log_monetary"], np.log1p([500, 0, 0]))
    # Gap (309 - 9) / 3 = 100 days; 9 days since the last order is 0.09 of it.
    assert features["log_gaps_since_last_purchase"][0] == pytest.approx(np.log1p(0.09))
    assert np.isnan(features["log_gaps_since_last_purchase"][1])
    assert features["rfm_score"].tolist() == [12.0, 4.0, 0.0]  # no purchase: score 0
    assert features.iloc[2, :4].isna().sum() == 2  # no dates without a purchase


def test_unknown_methods_are_named():
    with pytest.raises(ValueError, match="unknown purchase model 'magic'"):
        make_purchase_model("magic")


def test_every_candidate_is_compared_out_of_time(snaps):
    comparison, predictions = compare_purchase_models(snaps["earlier"], snaps["recent"])
    assert list(comparison.columns) == list(COMPARISON_COLUMNS)
    assert comparison["method"].tolist() == list(CANDIDATES)
    assert (comparison["validation"] == "out_of_time").all()
    assert (comparison["train_customers"] == len(snaps["earlier"])).all()
    y = snaps["recent"]["has_next_period_purchase"].to_numpy()
    for method, p in predictions.items():
        assert p.shape == (len(snaps["recent"]),) and ((p >= 0) & (p <= 1)).all()
        assert comparison.set_index("method").loc[method, "auc"] == pytest.approx(ranking_auc(p, y))
        deciles = calibration_deciles(p, y)
        outside = comparison.set_index("method").loc[method, "deciles_outside_sampling_error"]
        assert outside == (~deciles["is_gap_within_sampling_error"]).sum()


def test_the_rfm_score_candidate_ranks_exactly_like_the_score(snaps):
    comparison, _ = compare_purchase_models(
        snaps["earlier"], snaps["recent"], methods=["rfm_score"]
    )
    recent = snaps["recent"]
    bought = recent["frequency"] >= 1
    score = np.where(bought, 0.0, 0.0)
    score[bought.to_numpy()] = rfm_score(recent.loc[bought])
    expected = ranking_auc(score, recent["has_next_period_purchase"])
    assert comparison["auc"].iloc[0] == pytest.approx(expected)


def test_the_chosen_model_beats_the_rfm_score_and_is_calibrated(built):
    comparison = built["model_comparison"].set_index("method")
    chosen = comparison.loc[comparison["is_chosen"]].iloc[0]
    assert chosen["auc"] == comparison["auc"].max()
    assert chosen["auc"] >= comparison.loc["rfm_score", "auc"] + 0.03
    # The base rate itself moves a little between horizons as the base ages (0.31 -> 0.34 here).
    assert abs(chosen["mean_predicted"] - chosen["observed_rate"]) < 0.04
    backtest = built["backtest_predictions"]
    deciles = calibration_deciles(
        backtest["next_purchase_probability"], backtest["has_next_period_purchase"]
    )
    # Beyond that shift of level, every decile but one within 2 binomial standard errors
    # (about 6 points for 217 customers at 40 %) or 3 points.
    shift = chosen["observed_rate"] - chosen["mean_predicted"]
    rate = deciles["observed_rate"]
    error = 2 * np.sqrt(rate * (1 - rate) / deciles["customers"])
    assert ((deciles["gap"] - shift).abs() <= np.maximum(error, 0.03)).sum() >= 9, deciles


def test_production_predictions_come_from_the_model_refitted_on_the_recent_snapshot(snaps, built):
    method = built["model_comparison"].loc[lambda c: c["is_chosen"], "method"].iloc[0]
    model = fit_purchase_model(snaps["recent"], method)
    expected = predict_purchase_probability(model, snaps["current"])
    predictions = built["predictions"]
    assert predictions["customer_id"].tolist() == snaps["current"]["customer_id"].tolist()
    np.testing.assert_allclose(predictions["next_purchase_probability"], expected)
    assert len(built["backtest_predictions"]) == len(snaps["recent"])


def test_backtest_predictions_never_see_the_outcomes_they_are_judged_on(snaps):
    flipped = snaps["recent"].assign(
        has_next_period_purchase=~snaps["recent"]["has_next_period_purchase"]
    )
    _, first = compare_purchase_models(snaps["earlier"], snaps["recent"])
    _, second = compare_purchase_models(snaps["earlier"], flipped)
    for method in CANDIDATES:
        np.testing.assert_array_equal(first[method], second[method])


def test_without_an_earlier_snapshot_the_candidates_are_cross_validated(snaps):
    result = build_purchase_probability(
        snaps["current"], snaps["recent"], methods=["logistic_splines", "rfm_score"]
    )
    comparison = result["model_comparison"]
    assert (comparison["validation"] == "cross_validation").all()
    assert comparison["is_chosen"].sum() == 1
    assert "cross-validation AUC" in comparison.loc[comparison["is_chosen"], "reason"].iloc[0]


def test_the_choice_says_why():
    comparison = pd.DataFrame(
        {
            "method": ["logistic_splines", "gradient_boosting", "rfm_score"],
            "validation": "out_of_time",
            "auc": [0.81, 0.83, 0.74],
            "max_abs_decile_gap": 0.04,
            "deciles_outside_sampling_error": [0, 2, 5],
            "mean_predicted": 0.3,
            "observed_rate": 0.31,
        }
    )
    method, reason = choose_purchase_model(comparison)
    assert method == "gradient_boosting"
    assert reason.startswith("gradient_boosting: highest out-of-time AUC 0.830 of 3 candidates")
    assert "the logistic fit on the R+F+M score (rfm_score) has 0.740" in reason
    assert "2 decile(s) off by more than sampling error" in reason


def test_a_method_no_better_than_chance_is_not_published(snaps):
    # The steady shop's backtest ranks buyers well: published.
    comparison = model_comparison_table(snaps["earlier"], snaps["recent"])
    assert ranks_better_than_chance(comparison)
    # Trained on outcomes turned upside down, every candidate ranks buyers backwards.
    flipped = snaps["earlier"].assign(
        has_next_period_purchase=~snaps["earlier"]["has_next_period_purchase"]
    )
    backwards = model_comparison_table(flipped, snaps["recent"])
    chosen = backwards.loc[backwards["is_chosen"]].iloc[0]
    assert chosen["auc"] < 0.5
    assert not ranks_better_than_chance(backwards)
    assert "not published as next_purchase_probability" in chosen["reason"]
    assert "no better than chance" in chosen["reason"]
    # ... so the probabilities keep the backtest's evidence and leave out production.
    table = purchase_probabilities(
        snaps["current"], snaps["recent"], flipped, chosen["method"], production=False
    )
    assert set(table["validation"]) == {"out_of_time", "cross_validation"}
    assert not (table["snapshot_role"] == "as_of_date").any()
    published = purchase_probabilities(snaps["current"], snaps["recent"], flipped, chosen["method"])
    assert (published["snapshot_role"] == "as_of_date").sum() == len(snaps["current"])


def test_a_snapshot_without_both_outcomes_is_refused(snaps):
    nobody = snaps["earlier"].assign(has_next_period_purchase=False)
    with pytest.raises(ValueError, match="training snapshot has no buyer"):
        compare_purchase_models(nobody, snaps["recent"])
    with pytest.raises(ValueError, match="test snapshot needs the column"):
        compare_purchase_models(
            snaps["earlier"], snaps["recent"].drop(columns="has_next_period_purchase")
        )


def test_training_uses_a_bounded_deterministic_sample(snaps):
    small, first = compare_purchase_models(
        snaps["earlier"], snaps["recent"], methods=["logistic_splines"], max_train_customers=600
    )
    _, again = compare_purchase_models(
        snaps["earlier"], snaps["recent"], methods=["logistic_splines"], max_train_customers=600
    )
    _, everyone = compare_purchase_models(
        snaps["earlier"], snaps["recent"], methods=["logistic_splines"], max_train_customers=None
    )
    assert small["train_customers"].tolist() == [600]
    np.testing.assert_array_equal(first["logistic_splines"], again["logistic_splines"])
    assert not np.allclose(first["logistic_splines"], everyone["logistic_splines"])
