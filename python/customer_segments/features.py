"""Turn the RFM mart into the model space that k-means clusters in.

One feature per mart column, each treated in four steps fitted on the customers at hand:

1. **Floor at zero.** Net ``monetary`` (purchases minus returns) can be zero or negative: a customer
   who returned as much as they bought. Such customers are floored at 0 before anything else, i.e.
   treated as "no net value" rather than as a negative amount: ``log1p`` is then defined, and a
   refund does not push a customer further from the others than a customer worth nothing. The
   other three columns cannot be negative in the mart; a negative value there is a data error and
   raises ``ValueError``.
2. **Winsorise** at the ``clip_quantiles`` (default 1 % and 99 %) of the floored values, in original
   units. A handful of extreme wholesalers (net revenue ~280,000 against a median ~670) would
   otherwise get a cluster of their own or drag a centroid towards them; clipped, they join the
   top-value cluster.
3. **Transform** to tame the skew:

   =========  ==============  =========  ==================================================
   feature    source column   transform  why
   =========  ==============  =========  ==================================================
   recency    recency_days    sqrt       right-skewed but bounded by the data window; sqrt
                                         evens it out without log's blow-up of the first
                                         days (0 and 3 days mean the same to marketing)
   frequency  frequency       log1p      counts from 1 to hundreds: a multiplicative scale
   monetary   monetary        log1p      four orders of magnitude: a multiplicative scale
   tenure     tenure_days     identity   spread roughly evenly over the data window
   =========  ==============  =========  ==================================================

4. **Standardise** with the mean and standard deviation of the fitted customers
   (:class:`~sklearn.preprocessing.StandardScaler`; a constant feature keeps scale 1).
   Model space is therefore in z-units: 0 is the average customer, +1 one standard deviation above.

Why tenure: ``new`` customers and ``occasional`` buyers both have few, small orders, and an
occasional buyer who came back last week has the recency of a new one. Only tenure (days since the
first purchase) tells a first-timer from a customer who has been buying now and then for a year.

The fitted parameters are a table (:func:`fit_feature_transform`), one row per feature, so that a
dbt model can store them and :func:`transform_features` can apply them to any customers later,
new ones included, without refitting: new values outside the fitted bounds are clipped to them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

__all__ = [
    "DEFAULT_FEATURES",
    "FeatureSpec",
    "PARAM_COLUMNS",
    "feature_specs",
    "fit_feature_transform",
    "inverse_transform_features",
    "model_columns",
    "ordered_params",
    "source_columns",
    "transform_features",
    "validate_rfm",
]


@dataclass(frozen=True)
class FeatureSpec:
    """How one mart column becomes one model feature.

    Attributes
    ----------
    name : str
        Feature name; the model-space column is ``<name>_z``.
    source_column : str
        Column of the RFM mart, in original units.
    transform : {"identity", "sqrt", "log1p"}
        Variance-stabilising transform applied after clipping.
    floor_negative : bool
        True: negative values are floored at 0 (documented for net monetary). False: a negative
        value is a data error and raises ``ValueError``.
    """

    name: str
    source_column: str
    transform: str
    floor_negative: bool = False


DEFAULT_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("recency", "recency_days", "sqrt"),
    FeatureSpec("frequency", "frequency", "log1p"),
    FeatureSpec("monetary", "monetary", "log1p", floor_negative=True),
    FeatureSpec("tenure", "tenure_days", "identity"),
)

# Forward and inverse of each transform. Read-only so no caller can change them under another.
_Pair = tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]
_TRANSFORMS: MappingProxyType[str, _Pair] = MappingProxyType(
    {
        "identity": (lambda v: v, lambda v: v),
        "sqrt": (np.sqrt, np.square),
        "log1p": (np.log1p, np.expm1),
    }
)

PARAM_COLUMNS: tuple[str, ...] = (
    "feature_position",
    "feature",
    "source_column",
    "model_column",
    "transform",
    "floor_negative",
    "clip_lower_quantile",
    "clip_upper_quantile",
    "clip_lower",
    "clip_upper",
    "center",
    "scale",
    "n_customers_fitted",
)


def feature_specs(table: pd.DataFrame) -> tuple[FeatureSpec, ...]:
    """The features listed in a table (the dbt model ``int_cluster_features``), in position order.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``feature_position``, ``feature``, ``source_column``, ``transform`` and
        ``floor_negative``, one row per feature.
    """
    required = ["feature_position", "feature", "source_column", "transform", "floor_negative"]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValueError(f"the feature list is missing column(s) {', '.join(missing)}")
    if table.empty:
        raise ValueError("the feature list has no features")
    ordered = table.sort_values("feature_position", kind="stable")
    return tuple(
        FeatureSpec(str(row.feature), str(row.source_column), str(row.transform),
                    bool(row.floor_negative))
        for row in ordered.itertuples()
    )


def validate_rfm(
    rfm: pd.DataFrame,
    columns: Sequence[str],
    non_negative: Sequence[str] = (),
) -> None:
    """Check that the RFM frame has usable values in ``columns``; raise ``ValueError`` if not.

    Parameters
    ----------
    rfm : pandas.DataFrame
        One row per customer.
    columns : sequence of str
        Columns that must exist, be numeric and hold no NaN or infinite value.
    non_negative : sequence of str, optional
        Subset of ``columns`` that must be >= 0.

    Raises
    ------
    ValueError
        Naming the missing column(s), or the column and count of bad values.
    """
    if not isinstance(rfm, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame of customers, got {type(rfm).__name__}")
    missing = [c for c in columns if c not in rfm.columns]
    if missing:
        raise ValueError(
            f"the RFM table is missing column(s) {', '.join(missing)}; "
            f"required: {', '.join(columns)}"
        )
    if rfm.empty:
        raise ValueError("the RFM table has no customers (0 rows)")
    for column in columns:
        dtype = rfm[column].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise ValueError(f"column {column} must be numeric, got dtype {dtype}")
        values = rfm[column].to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            raise ValueError(
                f"column {column} has {int(bad.sum())} missing (NaN/NULL) or infinite value(s); "
                "fix the mart or drop those customers before clustering"
            )
        if column in non_negative and (values < 0).any():
            raise ValueError(
                f"column {column} has {int((values < 0).sum())} negative value(s); "
                "it cannot be negative in the RFM mart"
            )


def _clip_and_transform(
    values: np.ndarray, lower: np.ndarray, upper: np.ndarray, transforms: Sequence[str]
) -> np.ndarray:
    """Clip each column to [lower, upper] (original units), then apply its transform."""
    clipped = np.clip(np.asarray(values, dtype=float), lower, upper)
    return np.column_stack(
        [_TRANSFORMS[name][0](clipped[:, j]) for j, name in enumerate(transforms)]
    )


def fit_feature_transform(
    rfm: pd.DataFrame,
    features: Sequence[FeatureSpec] = DEFAULT_FEATURES,
    clip_quantiles: tuple[float, float] = (0.01, 0.99),
) -> pd.DataFrame:
    """Fit the clip-transform-standardise steps and return their parameters as a table.

    Parameters
    ----------
    rfm : pandas.DataFrame, shape (n_customers, ...)
        The RFM mart; needs each feature's ``source_column``.
    features : sequence of FeatureSpec, optional
        The features, in model-space column order. Default :data:`DEFAULT_FEATURES`.
    clip_quantiles : (float, float), optional
        Lower and upper winsorising quantiles, ``0 <= lower < upper <= 1``. Default (0.01, 0.99).

    Returns
    -------
    pandas.DataFrame, shape (n_features, 13)
        Columns :data:`PARAM_COLUMNS`: ``feature_position`` (0-based column of model space),
        ``feature``, ``source_column``, ``model_column`` (``<feature>_z``), ``transform``,
        ``floor_negative`` (negative values floored at 0 rather than rejected), the quantiles,
        ``clip_lower`` / ``clip_upper`` (original units, after the zero floor), ``center`` /
        ``scale`` (mean and standard deviation of the transformed, clipped values) and
        ``n_customers_fitted``.

    Raises
    ------
    ValueError
        Missing columns, NaN, negative values where not allowed, bad quantiles or transforms.
    """
    low_q, high_q = (float(q) for q in clip_quantiles)
    if not 0.0 <= low_q < high_q <= 1.0:
        raise ValueError(
            f"clip_quantiles must satisfy 0 <= lower < upper <= 1, got {clip_quantiles}"
        )
    unknown = sorted({f.transform for f in features} - set(_TRANSFORMS))
    if unknown:
        raise ValueError(f"unknown transform(s) {unknown}; known: {sorted(_TRANSFORMS)}")
    sources = [f.source_column for f in features]
    validate_rfm(rfm, sources, [f.source_column for f in features if not f.floor_negative])
    if "customer_id" in rfm.columns:
        # Fitting on a fixed row order makes the floating-point sums, hence the table, exact.
        rfm = rfm.sort_values("customer_id", kind="stable")
    raw = np.maximum(rfm[sources].to_numpy(dtype=float), 0.0)
    lower = np.quantile(raw, low_q, axis=0)
    upper = np.quantile(raw, high_q, axis=0)
    transforms = [f.transform for f in features]
    pipeline = make_pipeline(
        FunctionTransformer(
            _clip_and_transform,
            kw_args={"lower": lower, "upper": upper, "transforms": transforms},
        ),
        StandardScaler(),
    ).fit(raw)
    scaler = pipeline[-1]
    return pd.DataFrame(
        {
            "feature_position": np.arange(len(features), dtype="int64"),
            "feature": [f.name for f in features],
            "source_column": sources,
            "model_column": [f"{f.name}_z" for f in features],
            "transform": transforms,
            "floor_negative": [bool(f.floor_negative) for f in features],
            "clip_lower_quantile": low_q,
            "clip_upper_quantile": high_q,
            "clip_lower": lower,
            "clip_upper": upper,
            "center": scaler.mean_,
            "scale": scaler.scale_,
            "n_customers_fitted": np.int64(len(raw)),
        },
        columns=list(PARAM_COLUMNS),
    )


def ordered_params(params: pd.DataFrame) -> pd.DataFrame:
    """Validate a parameter table and return it sorted by ``feature_position``.

    A table read back from the warehouse has no guaranteed row order; the position column fixes it.
    """
    if not isinstance(params, pd.DataFrame):
        raise ValueError(
            f"expected the feature transform table as a DataFrame, got {type(params).__name__}"
        )
    missing = [c for c in PARAM_COLUMNS if c not in params.columns]
    if missing:
        raise ValueError(f"the feature transform table is missing column(s) {', '.join(missing)}")
    if params.empty:
        raise ValueError("the feature transform table has no rows")
    if params["feature_position"].duplicated().any() or params["feature"].duplicated().any():
        raise ValueError("the feature transform table repeats a feature or a feature_position")
    unknown = sorted(set(params["transform"]) - set(_TRANSFORMS))
    if unknown:
        raise ValueError(f"the feature transform table has unknown transform(s) {unknown}")
    numeric = params[["clip_lower", "clip_upper", "center", "scale"]].to_numpy(dtype=float)
    if not np.isfinite(numeric).all() or (params["scale"].to_numpy(dtype=float) <= 0).any():
        raise ValueError("the feature transform table has missing bounds or a non-positive scale")
    return params.sort_values("feature_position", kind="stable").reset_index(drop=True)


def source_columns(params: pd.DataFrame) -> list[str]:
    """Mart columns the transform reads, in model-space order."""
    return ordered_params(params)["source_column"].tolist()


def model_columns(params: pd.DataFrame) -> list[str]:
    """Model-space column names (``<feature>_z``), in model-space order."""
    return ordered_params(params)["model_column"].tolist()


def transform_features(rfm: pd.DataFrame, params: pd.DataFrame) -> np.ndarray:
    """Map customers to model space with fitted parameters (no refitting).

    Parameters
    ----------
    rfm : pandas.DataFrame, shape (n_customers, ...)
        Any customers with the parameters' source columns, fitted ones or new ones.
    params : pandas.DataFrame
        Output of :func:`fit_feature_transform` (any row order).

    Returns
    -------
    numpy.ndarray, shape (n_customers, n_features)
        Standardised features in z-units, rows in the order of ``rfm``, columns in
        ``feature_position`` order. Values beyond the fitted clip bounds map to the bounds.
    """
    params = ordered_params(params)
    sources = params["source_column"].tolist()
    strict = params.loc[~params["floor_negative"].astype(bool), "source_column"].tolist()
    validate_rfm(rfm, sources, strict)
    transformed = _clip_and_transform(
        rfm[sources].to_numpy(dtype=float),
        params["clip_lower"].to_numpy(dtype=float),
        params["clip_upper"].to_numpy(dtype=float),
        params["transform"].tolist(),
    )
    center = params["center"].to_numpy(dtype=float)
    return (transformed - center) / params["scale"].to_numpy(dtype=float)


def inverse_transform_features(Z: np.ndarray, params: pd.DataFrame) -> np.ndarray:
    """Map model-space points (e.g. centroids) back to original units.

    Parameters
    ----------
    Z : array-like, shape (n_points, n_features)
        Points in z-units, columns in ``feature_position`` order.
    params : pandas.DataFrame
        Output of :func:`fit_feature_transform`.

    Returns
    -------
    numpy.ndarray, shape (n_points, n_features)
        Original units (days, invoices, currency). For a log1p feature this is a geometric-mean-like
        typical value, not the arithmetic mean; results lie within the clip bounds for points inside
        the data.
    """
    params = ordered_params(params)
    Z = np.atleast_2d(np.asarray(Z, dtype=float))
    if Z.shape[1] != len(params):
        raise ValueError(f"expected {len(params)} model-space columns, got {Z.shape[1]}")
    transformed = Z * params["scale"].to_numpy(dtype=float) + params["center"].to_numpy(dtype=float)
    return np.column_stack(
        [_TRANSFORMS[name][1](transformed[:, j]) for j, name in enumerate(params["transform"])]
    )
