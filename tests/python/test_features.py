"""The feature transform: clipping, the zero floor of net revenue, standardising, reuse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_clustering import persona_rfm

from customer_segments.features import (
    DEFAULT_FEATURES,
    PARAM_COLUMNS,
    FeatureSpec,
    fit_feature_transform,
    inverse_transform_features,
    transform_features,
)

SOURCES = ["recency_days", "frequency", "monetary", "tenure_days"]


@pytest.fixture(scope="module")
def rfm() -> pd.DataFrame:
    return persona_rfm(n_per=200, seed=3)


@pytest.fixture(scope="module")
def params(rfm: pd.DataFrame) -> pd.DataFrame:
    return fit_feature_transform(rfm)


def z_of(value: float, row: pd.Series) -> float:
    """Model-space value of one original value, written out from the table's documented meaning."""
    forward = {"identity": lambda v: v, "sqrt": np.sqrt, "log1p": np.log1p}[row["transform"]]
    clipped = min(max(value, row["clip_lower"]), row["clip_upper"])
    return (forward(clipped) - row["center"]) / row["scale"]


def test_one_row_per_feature_in_model_order(params):
    assert list(params.columns) == list(PARAM_COLUMNS)
    assert params["feature"].tolist() == ["recency", "frequency", "monetary", "tenure"]
    assert params["source_column"].tolist() == SOURCES
    assert params["model_column"].tolist() == [f"{f}_z" for f in params["feature"]]
    assert params["feature_position"].tolist() == [0, 1, 2, 3]
    assert params.set_index("feature").loc["monetary", "transform"] == "log1p"


def test_clip_bounds_are_quantiles_in_original_units(rfm):
    params = fit_feature_transform(rfm, clip_quantiles=(0.05, 0.95)).set_index("source_column")
    floored = rfm[SOURCES].clip(lower=0)
    for column in SOURCES:
        assert params.loc[column, "clip_lower"] == pytest.approx(floored[column].quantile(0.05))
        assert params.loc[column, "clip_upper"] == pytest.approx(floored[column].quantile(0.95))
    assert params.loc["monetary", "clip_upper"] < rfm["monetary"].max() / 10


def test_model_space_is_standardised(rfm, params):
    X = transform_features(rfm, params)
    assert X.shape == (len(rfm), 4)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0)


def test_extreme_wholesalers_sit_at_the_upper_bound(rfm, params):
    X = transform_features(rfm, params)
    monetary = params.set_index("source_column").loc["monetary"]
    wholesalers = rfm["monetary"].to_numpy() > monetary["clip_upper"]
    assert wholesalers.sum() >= 3
    np.testing.assert_allclose(X[wholesalers, 2], z_of(monetary["clip_upper"], monetary))
    assert X[:, 2].max() == pytest.approx(z_of(monetary["clip_upper"], monetary))


def test_zero_and_negative_net_revenue_are_floored_at_zero(rfm):
    refunds = rfm.copy()
    refunds.loc[refunds.index[:40], "monetary"] = -np.linspace(1, 5_000, 40)  # 5 % of customers
    refunds.loc[refunds.index[40:60], "monetary"] = 0.0
    params = fit_feature_transform(refunds)
    monetary = params.set_index("source_column").loc["monetary"]
    assert monetary["clip_lower"] == 0.0
    X = transform_features(refunds, params)
    assert np.isfinite(X).all()
    np.testing.assert_allclose(X[:60, 2], z_of(0.0, monetary))
    assert (X[60:, 2] >= X[0, 2]).all()


def test_a_few_refunds_are_clipped_to_the_lower_quantile(rfm, params):
    monetary = params.set_index("source_column").loc["monetary"]
    assert monetary["clip_lower"] > 0  # only 4 of 800 customers are at or below zero
    X = transform_features(rfm, params)
    non_positive = rfm["monetary"].to_numpy() <= 0
    np.testing.assert_allclose(X[non_positive, 2], z_of(monetary["clip_lower"], monetary))


def test_new_customers_get_the_fitted_transform(rfm, params):
    X = transform_features(rfm, params)
    picked = [5, 250, 777]
    new = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "recency_days": [*rfm["recency_days"].iloc[picked], 10_000],
            "frequency": [*rfm["frequency"].iloc[picked], 1],
            "monetary": [*rfm["monetary"].iloc[picked], -50.0],
            "tenure_days": [*rfm["tenure_days"].iloc[picked], 10_000],
        }
    )
    X_new = transform_features(new, params)
    np.testing.assert_array_equal(X_new[:3], X[picked])
    rows = params.set_index("source_column")
    expected = [z_of(v, rows.loc[c]) for c, v in zip(SOURCES, new[SOURCES].iloc[3])]
    np.testing.assert_allclose(X_new[3], expected)
    # Applying the table never refits: the same customer maps the same way whatever it comes with.
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


def test_a_constant_feature_keeps_unit_scale(rfm):
    constant = rfm.assign(frequency=1)
    params = fit_feature_transform(constant).set_index("source_column")
    assert params.loc["frequency", "scale"] == 1.0
    X = transform_features(constant, params.reset_index())
    np.testing.assert_allclose(X[:, 1], 0.0, atol=1e-12)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.drop(columns=["monetary", "frequency"]),
         "missing column.*frequency, monetary"),
        (lambda r: r.assign(recency_days=r["recency_days"].astype(float).where(r.index > 1)),
         "recency_days has 2 missing"),
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


def test_bad_quantiles_are_rejected(rfm):
    with pytest.raises(ValueError, match="clip_quantiles"):
        fit_feature_transform(rfm, clip_quantiles=(0.9, 0.1))


def test_feature_specs_read_a_feature_table_in_position_order():
    from customer_segments.features import feature_specs

    table = pd.DataFrame({
        "feature_position": [1, 0],
        "feature": ["monetary", "recency"],
        "source_column": ["monetary", "recency_days"],
        "transform": ["log1p", "sqrt"],
        "floor_negative": [True, False],
    })
    specs = feature_specs(table)
    assert [s.name for s in specs] == ["recency", "monetary"]
    assert specs[1] == FeatureSpec("monetary", "monetary", "log1p", floor_negative=True)
    with pytest.raises(ValueError, match="transform"):
        feature_specs(table.drop(columns="transform"))


def test_the_projects_default_features_are_the_librarys():
    # dbt_project.yml's var cluster_features (what dbt fits and the SQL assignment applies) and
    # DEFAULT_FEATURES (what the standalone command fits) must describe the same model.
    import yaml
    from pathlib import Path

    project = yaml.safe_load((Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text())
    listed = project["vars"]["cluster_features"]
    assert [FeatureSpec(f["name"], f["source_column"], f.get("transform", "identity"),
                        bool(f.get("floor_negative", False))) for f in listed] == list(DEFAULT_FEATURES)
