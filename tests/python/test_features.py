"""The robust feature transform: fences, robust scale, the zero floor, reuse in SQL."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from customer_segments.features import (
    DEFAULT_FEATURES,
    PARAM_COLUMNS,
    FeatureSpec,
    fit_feature_transform,
    inverse_transform_features,
    robust_spread,
    transform_features,
)
from test_clustering import persona_rfm

SOURCES = ["recency_days", "frequency", "monetary", "tenure_days"]
FORWARD = {"identity": lambda v: v, "sqrt": np.sqrt, "log1p": np.log1p}
INVERSE = {"identity": lambda v: v, "sqrt": np.square, "log1p": np.expm1}


@pytest.fixture(scope="module")
def rfm() -> pd.DataFrame:
    return persona_rfm(n_per=200, seed=3)


@pytest.fixture(scope="module")
def params(rfm: pd.DataFrame) -> pd.DataFrame:
    return fit_feature_transform(rfm)


def z_of(value: float, row: pd.Series) -> float:
    """Model-space value of one original value, written out from the table's documented meaning."""
    clipped = min(max(value, row["clip_lower"]), row["clip_upper"])
    return (FORWARD[row["transform"]](clipped) - row["center"]) / row["scale"]


def test_one_row_per_feature_in_model_order(params):
    assert list(params.columns) == list(PARAM_COLUMNS)
    assert params["feature"].tolist() == ["recency", "frequency", "monetary", "tenure"]
    assert params["source_column"].tolist() == SOURCES
    assert params["model_column"].tolist() == [f"{f}_z" for f in params["feature"]]
    assert params["feature_position"].tolist() == [0, 1, 2, 3]
    assert params["transform"].tolist() == ["sqrt", "log1p", "log1p", "identity"]
    assert (params["scale_basis"] == "p10_p90").all()


def test_fences_center_and_scale_are_robust_statistics_of_the_transformed_values(rfm, params):
    for row in params.itertuples():
        y = FORWARD[row.transform](rfm[row.source_column].clip(lower=0).to_numpy(dtype=float))
        q10, median, q90 = np.quantile(y, [0.1, 0.5, 0.9])
        assert row.center == pytest.approx(median)
        assert row.scale == pytest.approx((q90 - q10) / 2.5631)
        assert row.clip_upper == pytest.approx(INVERSE[row.transform](q90 + 0.5 * (q90 - q10)))
        lower = max(q10 - 0.5 * (q90 - q10), 0.0)
        assert row.clip_lower == pytest.approx(INVERSE[row.transform](lower), abs=1e-9)


def test_model_space_centers_the_median_customer(rfm, params):
    X = transform_features(rfm, params)
    np.testing.assert_allclose(np.median(X, axis=0), 0.0, atol=1e-12)
    q10, q90 = np.quantile(X, [0.1, 0.9], axis=0)
    np.testing.assert_allclose(q90 - q10, 2.5631, rtol=1e-6)


def test_a_minority_group_is_not_clipped_to_the_majority():
    # 320 one-order customers of the last month and 80 regulars of a year: a fifth of the base.
    rng = np.random.default_rng(2)
    rfm = pd.DataFrame(
        {
            "customer_id": np.arange(400),
            "recency_days": np.r_[rng.integers(0, 30, 320), rng.integers(0, 12, 80)],
            "frequency": np.r_[np.ones(320, int), rng.integers(30, 60, 80)],
            "monetary": np.r_[rng.lognormal(5, 0.3, 320), rng.lognormal(9.5, 0.3, 80)],
            "tenure_days": np.r_[np.zeros(320, int), rng.integers(300, 360, 80)],
        }
    )
    rfm["tenure_days"] = np.maximum(rfm["tenure_days"], rfm["recency_days"])
    bounds = fit_feature_transform(rfm).set_index("source_column")
    regulars = rfm.iloc[320:]
    for column in ["monetary", "tenure_days"]:
        assert bounds.loc[column, "clip_upper"] > regulars[column].max(), column
    # Quartile fences would have clipped every regular to the one-order customers' fence.
    y = np.log1p(rfm["monetary"])
    q1, q3 = np.quantile(y, [0.25, 0.75])
    assert np.expm1(q3 + 1.5 * (q3 - q1)) < regulars["monetary"].min()


def test_one_absurd_customer_moves_nothing_in_a_small_base():
    # 60 customers and one line with Quantity 1e15: a barcode scanned into the quantity field.
    base = persona_rfm(n_per=15, seed=5)
    absurd = pd.concat(
        [base, base.iloc[[0]].assign(customer_id=1, monetary=1e15, frequency=3)],
        ignore_index=True,
    )
    before, after = fit_feature_transform(base), fit_feature_transform(absurd)
    money_before = before.set_index("feature").loc["monetary"]
    money_after = after.set_index("feature").loc["monetary"]
    # One more customer shifts each quartile by a fraction of one rank step: a few percent.
    for column in ["center", "scale"]:
        assert money_after[column] == pytest.approx(money_before[column], rel=0.05), column
    assert np.log1p(money_after["clip_upper"]) == pytest.approx(
        np.log1p(money_before["clip_upper"]), rel=0.05
    )
    assert money_after["clip_upper"] < 1e7
    # The absurd customer sits at the fence, a bounded distance from everyone else.
    X = transform_features(absurd, after)
    assert X[-1, 2] == pytest.approx(z_of(money_after["clip_upper"], money_after))
    assert X[-1, 2] < 7
    # Winsorising at the 99th percentile, as before, would have moved the bound by 10 orders.
    assert np.quantile(absurd["monetary"], 0.99) > 1e13


def test_many_one_time_buyers_fall_back_to_a_wider_spread():
    rng = np.random.default_rng(1)
    n = 400
    frequency = np.where(rng.random(n) < 0.8, 1, rng.integers(2, 30, n))
    rfm = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "recency_days": rng.integers(0, 300, n),
            "frequency": frequency,
            "monetary": rng.lognormal(5, 1, n),
            "tenure_days": rng.integers(300, 700, n),
        }
    )
    row = fit_feature_transform(rfm).set_index("feature").loc["frequency"]
    assert np.quantile(frequency, 0.1) == 1 and np.quantile(frequency, 0.9) > 1
    assert row["scale_basis"] == "p10_p90"
    y = np.log1p(frequency)
    q10, q90 = np.quantile(y, [0.1, 0.9])
    assert row["scale"] == pytest.approx((q90 - q10) / 2.5631)
    assert row["clip_upper"] == pytest.approx(np.expm1(q90 + 0.5 * (q90 - q10)))
    # 92 % one-order customers: the 10th and 90th percentiles are both 1, the 5-95 % range
    # takes over.
    mostly = rfm.assign(frequency=np.r_[np.ones(368, int), np.arange(2, 34)])
    assert fit_feature_transform(mostly).set_index("feature").loc["frequency", "scale_basis"] == (
        "p05_p95"
    )


def test_a_constant_feature_keeps_unit_scale(rfm):
    constant = rfm.assign(frequency=1)
    row = fit_feature_transform(constant).set_index("source_column").loc["frequency"]
    assert row["scale"] == 1.0 and row["scale_basis"] == "unit"
    X = transform_features(constant, fit_feature_transform(constant))
    np.testing.assert_allclose(X[:, 1], 0.0, atol=1e-12)


def test_robust_spread_tries_wider_ranges_in_turn():
    assert robust_spread(np.arange(101.0)) == (pytest.approx(80 / 2.5631), "p10_p90", 10.0, 90.0)
    assert robust_spread(np.r_[np.zeros(85), np.arange(1.0, 16.0)])[1] == "p10_p90"
    assert robust_spread(np.r_[np.zeros(93), np.ones(7)])[1:3] == ("p05_p95", 0.0)
    assert robust_spread(np.r_[np.zeros(97), np.ones(3)]) == (1.0, "unit", 0.0, 0.0)


def test_zero_and_negative_net_revenue_map_to_the_lower_bound(rfm):
    refunds = rfm.copy()
    refunds.loc[refunds.index[:40], "monetary"] = -np.linspace(1, 5_000, 40)
    params = fit_feature_transform(refunds)
    monetary = params.set_index("source_column").loc["monetary"]
    assert monetary["clip_lower"] >= 0.0
    X = transform_features(refunds, params)
    assert np.isfinite(X).all()
    np.testing.assert_allclose(X[:40, 2], z_of(0.0, monetary))


def test_the_sql_of_the_docstring_gives_the_same_model_space(rfm, params):
    sql = """
        select customer_id, p.feature_position,
            (case p.transform
                when 'sqrt' then sqrt(least(greatest(v.value, p.clip_lower), p.clip_upper))
                when 'log1p' then ln(1 + least(greatest(v.value, p.clip_lower), p.clip_upper))
                else least(greatest(v.value, p.clip_lower), p.clip_upper)
            end - p.center) / p.scale as z
        from (unpivot customers on recency_days, frequency, monetary, tenure_days
              into name source_column value value) as v
        join params as p using (source_column)
        order by customer_id, p.feature_position
    """
    customers = rfm[["customer_id", *SOURCES]].astype(dict.fromkeys(SOURCES, float))
    with duckdb.connect() as connection:
        connection.register("customers", customers)
        connection.register("params", params)
        z = connection.sql(sql).df()
    expected = transform_features(rfm.sort_values("customer_id"), params)
    np.testing.assert_allclose(z["z"].to_numpy().reshape(-1, 4), expected, rtol=1e-12, atol=1e-12)


def test_new_customers_get_the_fitted_transform(rfm, params):
    X = transform_features(rfm, params)
    picked = [5, 250, 777]
    new = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "recency_days": [*rfm["recency_days"].iloc[picked], 10_000],
            "frequency": [*rfm["frequency"].iloc[picked], 1],
            "monetary": [*rfm["monetary"].iloc[picked], 1e12],
            "tenure_days": [*rfm["tenure_days"].iloc[picked], 10_000],
        }
    )
    X_new = transform_features(new, params)
    np.testing.assert_array_equal(X_new[:3], X[picked])
    rows = params.set_index("source_column")
    expected = [z_of(v, rows.loc[c]) for c, v in zip(SOURCES, new[SOURCES].iloc[3], strict=True)]
    np.testing.assert_allclose(X_new[3], expected)
    np.testing.assert_array_equal(transform_features(new.iloc[[3]], params)[0], X_new[3])


def test_param_row_order_and_input_row_order_do_not_matter(rfm, params):
    shuffled = rfm.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(fit_feature_transform(shuffled), params)
    np.testing.assert_array_equal(
        transform_features(rfm, params.iloc[::-1]), transform_features(rfm, params)
    )


def test_inverse_transform_returns_original_units_inside_the_bounds(rfm, params):
    inside = rfm[SOURCES].clip(
        lower=params["clip_lower"].to_numpy(), upper=params["clip_upper"].to_numpy(), axis=1
    )
    back = inverse_transform_features(transform_features(rfm, params), params)
    np.testing.assert_allclose(back, inside.to_numpy(dtype=float), rtol=1e-9, atol=1e-8)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r.drop(columns=["monetary", "frequency"]),
            "missing column.*frequency, monetary",
        ),
        (
            lambda r: r.assign(recency_days=r["recency_days"].astype(float).where(r.index > 1)),
            "recency_days has 2 missing",
        ),
        (lambda r: r.assign(tenure_days=-r["tenure_days"]), "tenure_days has .* negative"),
        (lambda r: r.assign(frequency=np.inf), "frequency has .* infinite"),
        (lambda r: r.assign(monetary="a lot"), "monetary must be numeric"),
    ],
    ids=["missing", "nan", "negative", "infinite", "text"],
)
def test_bad_values_are_named(rfm, params, change, message):
    with pytest.raises(ValueError, match=message):
        fit_feature_transform(change(rfm))
    with pytest.raises(ValueError, match=message):
        transform_features(change(rfm), params)


@pytest.mark.parametrize("multiplier", [0, -1, np.nan, True])
def test_bad_fence_multipliers_are_rejected(rfm, multiplier):
    with pytest.raises(ValueError, match="fence_multiplier"):
        fit_feature_transform(rfm, fence_multiplier=multiplier)


def test_a_tampered_table_is_rejected(params):
    swapped = params.assign(clip_lower=params["clip_upper"] + 1)
    with pytest.raises(ValueError, match="clip_lower above its clip_upper"):
        transform_features(pd.DataFrame({c: [1.0] for c in SOURCES}), swapped)


def test_feature_specs_read_a_feature_table_in_position_order():
    from customer_segments.features import feature_specs

    table = pd.DataFrame(
        {
            "feature_position": [1, 0],
            "feature": ["monetary", "recency"],
            "source_column": ["monetary", "recency_days"],
            "transform": ["log1p", "sqrt"],
            "floor_negative": [True, False],
        }
    )
    specs = feature_specs(table)
    assert [s.name for s in specs] == ["recency", "monetary"]
    assert specs[1] == FeatureSpec("monetary", "monetary", "log1p", floor_negative=True)
    with pytest.raises(ValueError, match="transform"):
        feature_specs(table.drop(columns="transform"))


def test_the_projects_default_features_are_the_librarys():
    # dbt_project.yml's var cluster_features (what dbt fits and the SQL assignment applies) and
    # DEFAULT_FEATURES (what the standalone command fits) must describe the same model.
    from pathlib import Path

    import yaml

    project = yaml.safe_load((Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text())
    listed = project["vars"]["cluster_features"]
    assert [
        FeatureSpec(
            f["name"],
            f["source_column"],
            f.get("transform", "identity"),
            bool(f.get("floor_negative", False)),
        )
        for f in listed
    ] == list(DEFAULT_FEATURES)
