"""Turn the RFM mart into the model space that k-means clusters in, robustly for any base size.

One feature per mart column, each fitted on the customers being clustered in four steps:

1. **Floor at zero.** Net ``monetary`` (purchases minus returns) is floored at 0 (the clustered
   customers all have positive net revenue: customers without, persona ``refunded``, are left
   out before, see :mod:`customer_segments.personas`; the floor only keeps ``log1p`` defined for
   anyone assigned later). The other columns cannot be negative; a negative value is a data
   error and raises ``ValueError``.
2. **Transform** to tame the skew:

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

3. **Clip at robust fences in transformed space**: ``[q10 - c * R, q90 + c * R]`` where q10 and
   q90 are the 10th and 90th percentiles of the transformed values, ``R = q90 - q10`` and
   ``c = fence_multiplier`` (default 0.5), never below the transform of 0, stored back in
   original units (``clip_lower``, ``clip_upper``). For normal data the fences lie 2.56
   standard deviations from the median (0.5 % of customers beyond each); for log-normal
   revenue, extreme wholesalers sit at the edge of the high-value customers instead of drawing
   a cluster (or a centroid) of their own. Why these statistics:

   * *one customer moves nothing*: adding a customer, whatever its value, moves a percentile by
     at most one rank step, so one absurd order (a barcode typed into the quantity field)
     cannot move the fences, the center or the scale, and is itself clipped to the fence.
     Winsorising at the 1st/99th percentile does not have this property below a few hundred
     customers: the 99th percentile of 60 customers is interpolated from the largest two;
   * *a group is not an outlier*: the 10-90 % range breaks down only when more than 10 % of
     the customers are on one side, so a minority group (a quarter of regulars among one-time
     buyers) keeps its values. Quartile fences (Tukey's, ``Q3 + 1.5 IQR``) clipped such a group
     to the fence of the majority in a test: the quartiles were both inside the majority.
4. **Robust standardisation**: ``(t(x) - center) / scale`` with ``center`` the median and
   ``scale`` a robust standard deviation of the transformed values: ``R / 2.563`` (the
   standard deviation for normal data). When more than 80 % of the customers share one value
   (frequency 1 in a base of one-time buyers) the 5-95 % range / 3.290 is used instead, for the
   fences too, then 1 (``scale_basis`` says which). Model space is in robust z-units: 0 is the
   median customer.

Why tenure: ``new`` customers and ``occasional`` buyers both have few, small orders, and an
occasional buyer who came back last week has the recency of a new one. Only tenure (days since the
first purchase) tells a first-timer from a customer who has been buying now and then for a year.
Its robust scale is the spread of sign-up dates of the base, so 40 days of difference in a base
where everyone joined over two years is a small distance; names never depend on it
(:mod:`customer_segments.naming` reads conditions in days).

The fitted parameters are a table (:func:`fit_feature_transform`), one row per feature, that SQL
can apply to any customer without Python::

    (  case transform
           when 'sqrt'  then sqrt(least(greatest(x, clip_lower), clip_upper))
           when 'log1p' then ln(1 + least(greatest(x, clip_lower), clip_upper))
           else least(greatest(x, clip_lower), clip_upper)
       end - center) / scale

``clip_lower >= 0`` makes the zero floor part of the clip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_FEATURES",
    "DEFAULT_FENCE_MULTIPLIER",
    "PARAM_COLUMNS",
    "FeatureSpec",
    "feature_specs",
    "fit_feature_transform",
    "inverse_transform_features",
    "ordered_params",
    "robust_spread",
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
    "fence_multiplier",
    "clip_lower",
    "clip_upper",
    "center",
    "scale",
    "scale_basis",
    "n_customers_fitted",
)

# Fences half the 10-90 % range beyond the 10th and 90th percentiles: for normal data 2.56
# standard deviations from the median (0.5 % of customers beyond each, who stay at the edge).
DEFAULT_FENCE_MULTIPLIER = 0.5
# (lower quantile, upper quantile, width of that range in standard deviations of a normal law):
# tried in order until the range is not zero.
_SPREAD_RANGES: tuple[tuple[float, float, float, str], ...] = (
    (0.10, 0.90, 2.5631, "p10_p90"),
    (0.05, 0.95, 3.2897, "p05_p95"),
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
        FeatureSpec(
            str(row.feature), str(row.source_column), str(row.transform), bool(row.floor_negative)
        )
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


def robust_spread(values: np.ndarray) -> tuple[float, str, float, float]:
    """A robust standard deviation of ``values``, the quantile range it came from and its ends.

    The 10-90 % range / 2.563; when that is 0, the 5-95 % range / 3.290; then 1.0
    (``"unit"``: the values are constant for 90 % of the customers). Each is the standard
    deviation for normal data.

    Parameters
    ----------
    values : numpy.ndarray, shape (n,)
        Finite values, n >= 1.

    Returns
    -------
    scale : float
        > 0.
    basis : {"p10_p90", "p05_p95", "unit"}
    low, high : float
        The quantiles of the range (for ``"unit"``: the median, twice).
    """
    tolerance = 1e-12 * max(1.0, float(np.abs(values).max()))
    for low_q, high_q, width, basis in _SPREAD_RANGES:
        low, high = (float(v) for v in np.quantile(values, [low_q, high_q]))
        if (high - low) / width > tolerance:
            return (high - low) / width, basis, low, high
    median = float(np.median(values))
    return 1.0, "unit", median, median


def fit_feature_transform(
    rfm: pd.DataFrame,
    features: Sequence[FeatureSpec] = DEFAULT_FEATURES,
    fence_multiplier: float = DEFAULT_FENCE_MULTIPLIER,
) -> pd.DataFrame:
    """Fit the floor-transform-clip-standardise steps and return their parameters as a table.

    Parameters
    ----------
    rfm : pandas.DataFrame, shape (n_customers, ...)
        The customers to cluster; needs each feature's ``source_column``.
    features : sequence of FeatureSpec, optional
        The features, in model-space column order. Default :data:`DEFAULT_FEATURES`.
    fence_multiplier : float, optional
        ``c`` of the fences ``[q10 - c * R, q90 + c * R]`` in transformed space, with
        ``R = q90 - q10``; > 0. Default 0.5.

    Returns
    -------
    pandas.DataFrame, shape (n_features, len(PARAM_COLUMNS))
        Columns :data:`PARAM_COLUMNS`: ``feature_position`` (0-based column of model space),
        ``feature``, ``source_column``, ``model_column`` (``<feature>_z``), ``transform``,
        ``floor_negative`` (negative values floored at 0 rather than rejected),
        ``fence_multiplier``, ``clip_lower`` / ``clip_upper`` (the fences in original units),
        ``center`` (median of the transformed values), ``scale`` (robust standard deviation,
        > 0), ``scale_basis`` (see :func:`robust_spread`) and ``n_customers_fitted``.

    Raises
    ------
    ValueError
        Missing columns, NaN, negative values where not allowed, a bad multiplier or transform.
    """
    if (
        isinstance(fence_multiplier, bool)
        or not np.isfinite(float(fence_multiplier))
        or float(fence_multiplier) <= 0
    ):
        raise ValueError(f"fence_multiplier must be a number > 0, got {fence_multiplier!r}")
    unknown = sorted({f.transform for f in features} - set(_TRANSFORMS))
    if unknown:
        raise ValueError(f"unknown transform(s) {unknown}; known: {sorted(_TRANSFORMS)}")
    sources = [f.source_column for f in features]
    validate_rfm(rfm, sources, [f.source_column for f in features if not f.floor_negative])
    raw = np.maximum(rfm[sources].to_numpy(dtype=float), 0.0)
    c = float(fence_multiplier)
    rows = []
    for j, spec in enumerate(features):
        forward, inverse = _TRANSFORMS[spec.transform]
        y = forward(raw[:, j])
        scale, basis, q_low, q_high = robust_spread(y)
        width = q_high - q_low if q_high > q_low else _SPREAD_RANGES[0][2] * scale
        # Every transform maps 0 to 0 and the values are >= 0: no fence below 0 is needed.
        low = max(q_low - c * width, 0.0)
        high = q_high + c * width
        rows.append(
            {
                "feature_position": j,
                "feature": spec.name,
                "source_column": spec.source_column,
                "model_column": f"{spec.name}_z",
                "transform": spec.transform,
                "floor_negative": bool(spec.floor_negative),
                "fence_multiplier": c,
                "clip_lower": float(inverse(np.array([low]))[0]),
                "clip_upper": float(inverse(np.array([high]))[0]),
                "center": float(np.median(y)),
                "scale": scale,
                "scale_basis": basis,
                "n_customers_fitted": len(raw),
            }
        )
    table = pd.DataFrame(rows, columns=list(PARAM_COLUMNS))
    return table.astype({"feature_position": "int64", "n_customers_fitted": "int64"})


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
    if (
        params["clip_lower"].to_numpy(dtype=float) > params["clip_upper"].to_numpy(dtype=float)
    ).any():
        raise ValueError("the feature transform table has a clip_lower above its clip_upper")
    return params.sort_values("feature_position", kind="stable").reset_index(drop=True)


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
