"""Backtest: how well a grouping or a ranking built as of a cutoff foresaw the next period.

The caller (SQL in the dbt project) builds, for every customer with a purchase before the cutoff
``as_of_date - prediction_horizon_days``, the features **as of the cutoff** (only lines before
it) and the outcome over the horizon ``[cutoff, as_of_date)``:

========================  ====================================================================
column                    meaning
========================  ====================================================================
has_next_period_purchase  True when the customer has at least one purchase invoice in the
                          horizon
next_period_revenue       net revenue of the customer's kept lines in the horizon (purchases
                          minus returns; 0 without any)
========================  ====================================================================

The functions here only read those frames: no dates, no leakage to guard. A grouping (persona,
classic RFM segment) is judged by its repeat rate and revenue against the base rate
(:func:`evaluate_grouping`); a ranking (a probability, the R+F+M score, recency) by the area
under the ROC curve for "bought again" (:func:`ranking_auc`, ties counted as half) and a
probability also by its calibration (:func:`calibration_deciles`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import rankdata

__all__ = [
    "BACKTEST_SEGMENT_COLUMNS",
    "CALIBRATION_COLUMNS",
    "GROUPING_COLUMNS",
    "OUTCOME_COLUMN",
    "REVENUE_COLUMN",
    "SAMPLING_ERROR_Z",
    "as_outcome",
    "auc_standard_error",
    "backtest_segment_scores",
    "calibration_deciles",
    "cross_fitted_group_rates",
    "evaluate_grouping",
    "evaluate_rankings",
    "group_rate_scores",
    "grouping_auc",
    "quantile_scores",
    "ranking_auc",
    "rfm_score",
]

OUTCOME_COLUMN = "has_next_period_purchase"
REVENUE_COLUMN = "next_period_revenue"
GROUPING_COLUMNS: tuple[str, ...] = (
    "group_value",
    "customers",
    "repeat_customers",
    "repeat_rate",
    "next_period_revenue",
    "revenue_per_customer",
    "lift",
)


def as_outcome(values: object, name: str = OUTCOME_COLUMN) -> np.ndarray:
    """A boolean outcome vector from booleans or 0/1; NULLs and other values raise."""
    series = pd.Series(values)
    if series.isna().any():
        raise ValueError(f"{name} has {int(series.isna().sum())} missing value(s)")
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=bool)
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.isna().any() or not numeric.isin([0, 1]).all():
        raise ValueError(f"{name} must be boolean (or 0/1)")
    return numeric.to_numpy() == 1


def ranking_auc(score: object, outcome: object) -> float:
    """Area under the ROC curve of ``score`` for ``outcome``, ties counted as half.

    The probability that a random buyer scores above a random non-buyer (Mann-Whitney U / (n1 n0)
    with mid-ranks); equal to ``sklearn.metrics.roc_auc_score``.

    Parameters
    ----------
    score : array-like of float, shape (n,)
        Higher = more likely to buy. Finite.
    outcome : array-like of bool, shape (n,)

    Returns
    -------
    float
        In [0, 1]; 0.5 for a constant score; NaN when everyone or no one bought.
    """
    y = as_outcome(outcome)
    s = np.asarray(score, dtype=float)
    if s.shape != y.shape:
        raise ValueError(f"score has {s.size} values but outcome has {y.size}")
    if not np.isfinite(s).all():
        raise ValueError("score has missing or infinite values")
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(s, method="average")
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def auc_standard_error(auc: float, positives: int, negatives: int) -> float:
    """Standard error of an AUC (Hanley & McNeil 1982), from the AUC and the class counts.

    ``sqrt((A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)) / (n1 n0))`` with ``Q1 = A/(2-A)`` and
    ``Q2 = 2A^2/(1+A)``; NaN when a class is empty or the AUC is NaN.
    """
    if not np.isfinite(auc) or positives < 1 or negatives < 1:
        return float("nan")
    a = float(auc)
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    variance = (a * (1 - a) + (positives - 1) * (q1 - a * a) + (negatives - 1) * (q2 - a * a)) / (
        positives * negatives
    )
    return float(np.sqrt(max(variance, 0.0)))


def evaluate_grouping(
    frame: pd.DataFrame,
    group_column: str,
    *,
    outcome_column: str = OUTCOME_COLUMN,
    revenue_column: str = REVENUE_COLUMN,
) -> pd.DataFrame:
    """Repeat rate and next-period revenue of every group, against the base rate.

    Parameters
    ----------
    frame : pandas.DataFrame, shape (n_customers, ...)
        One row per customer of the backtest: the group, the outcome and the revenue columns.
    group_column : str
        The grouping, e.g. ``persona_key`` or ``rfm_segment``.
    outcome_column, revenue_column : str, optional
        See the module docstring.

    Returns
    -------
    pandas.DataFrame, one row per group, sorted by ``repeat_rate`` descending then group
        :data:`GROUPING_COLUMNS`: ``group_value``, ``customers``, ``repeat_customers``,
        ``repeat_rate`` (share with a purchase in the horizon), ``next_period_revenue`` (sum),
        ``revenue_per_customer`` and ``lift`` (repeat rate / base rate of all customers; NaN when
        the base rate is 0).
    """
    missing = [c for c in (group_column, outcome_column, revenue_column) if c not in frame.columns]
    if missing:
        raise ValueError(f"the backtest frame is missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise ValueError("the backtest frame has no customers")
    if frame[group_column].isna().any():
        raise ValueError(f"{group_column} has missing values")
    revenue = pd.to_numeric(frame[revenue_column], errors="coerce")
    if not np.isfinite(revenue.to_numpy(dtype=float)).all():
        raise ValueError(f"{revenue_column} has missing or non-numeric values")
    data = pd.DataFrame(
        {
            "group_value": frame[group_column].to_numpy(),
            "bought": as_outcome(frame[outcome_column], outcome_column),
            "revenue": revenue.to_numpy(dtype=float),
        }
    )
    base_rate = float(data["bought"].mean())
    table = (
        data.groupby("group_value", sort=True)
        .agg(
            customers=("bought", "size"),
            repeat_customers=("bought", "sum"),
            next_period_revenue=("revenue", "sum"),
        )
        .reset_index()
    )
    table["repeat_customers"] = table["repeat_customers"].astype("int64")
    table["repeat_rate"] = table["repeat_customers"] / table["customers"]
    table["revenue_per_customer"] = table["next_period_revenue"] / table["customers"]
    table["lift"] = table["repeat_rate"] / base_rate if base_rate > 0 else np.nan
    table = table.sort_values(
        ["repeat_rate", "group_value"], ascending=[False, True], kind="stable"
    )
    return table[list(GROUPING_COLUMNS)].reset_index(drop=True)


def group_rate_scores(groups: object, outcome: object) -> np.ndarray:
    """Score every customer with the repeat rate of their group (in-sample).

    This is the ranking a marketer gets by contacting groups in order of their repeat rate; its
    AUC is how well the grouping separates buyers. Computed on the same customers, it is
    slightly optimistic for many small groups: see :func:`cross_fitted_group_rates`.

    Returns
    -------
    numpy.ndarray of float, shape (n,)
    """
    y = as_outcome(outcome)
    g = pd.Series(np.asarray(groups, dtype=object))
    if len(g) != len(y):
        raise ValueError(f"groups has {len(g)} values but outcome has {len(y)}")
    return g.map(pd.Series(y).groupby(g).mean()).to_numpy(dtype=float)


def cross_fitted_group_rates(
    groups: object, outcome: object, *, n_folds: int = 2, random_state: int = 42
) -> np.ndarray:
    """Score every customer with their group's repeat rate measured on the *other* folds.

    Customers are split into ``n_folds`` random folds (fixed by ``random_state``); a group with
    no customer in the other folds scores their base rate. Out-of-fold rates take away the
    optimism of :func:`group_rate_scores`, which grows with the number of groups: the AUCs of
    groupings with different numbers of groups become comparable.

    Returns
    -------
    numpy.ndarray of float, shape (n,)
    """
    y = as_outcome(outcome).astype(float)
    g = pd.Series(np.asarray(groups, dtype=object))
    if len(g) != len(y):
        raise ValueError(f"groups has {len(g)} values but outcome has {len(y)}")
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    fold = np.random.RandomState(random_state).permutation(len(y)) % n_folds
    scores = np.empty(len(y))
    for f in range(n_folds):
        inside, outside = fold == f, fold != f
        if not inside.any():
            continue
        rates = pd.Series(y[outside]).groupby(g[outside].to_numpy()).mean()
        base = float(y[outside].mean()) if outside.any() else float(y.mean())
        scores[inside] = g[inside].map(rates).fillna(base).to_numpy(dtype=float)
    return scores


def grouping_auc(
    groups: object, outcome: object, *, cross_fit: bool = True, random_state: int = 42
) -> float:
    """AUC of the ranking by group repeat rate: cross-fitted (default) or in-sample."""
    if cross_fit:
        scores = cross_fitted_group_rates(groups, outcome, random_state=random_state)
    else:
        scores = group_rate_scores(groups, outcome)
    return ranking_auc(scores, outcome)


def evaluate_rankings(
    frame: pd.DataFrame,
    scores: Mapping[str, str],
    *,
    outcome_column: str = OUTCOME_COLUMN,
) -> pd.DataFrame:
    """The AUC of several rankings of the same customers.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per backtest customer, with the outcome and every score column.
    scores : mapping of ranking name to column name
        Higher = more likely to buy; negate first where lower is better (recency).

    Returns
    -------
    pandas.DataFrame, one row per ranking in the given order
        ``ranking``, ``auc``, ``base_rate``, ``customers``.
    """
    missing = [c for c in [outcome_column, *scores.values()] if c not in frame.columns]
    if missing:
        raise ValueError(f"the backtest frame is missing column(s) {', '.join(missing)}")
    y = as_outcome(frame[outcome_column], outcome_column)
    return pd.DataFrame(
        {
            "ranking": list(scores),
            "auc": [
                ranking_auc(frame[column].to_numpy(dtype=float), y) for column in scores.values()
            ],
            "base_rate": float(y.mean()) if len(y) else np.nan,
            "customers": len(y),
        }
    )


def quantile_scores(values: object, n_scores: int = 5, *, descending: bool = False) -> np.ndarray:
    """``1 + floor(n_scores * (rank - 1) / n)``, the project's SQL score (macro quintile_score).

    ``rank`` counts the values strictly worse plus one, so equal values share a score and the
    worst value scores 1. ``descending=True`` scores small values best (recency).

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
        Scores 1 .. ``n_scores``.
    """
    x = np.asarray(values, dtype=float)
    if not np.isfinite(x).all():
        raise ValueError("scores need finite values")
    rank = rankdata(-x if descending else x, method="min")
    return (1 + np.floor(n_scores * (rank - 1) / len(x))).astype("int64")


def rfm_score(rfm: pd.DataFrame) -> np.ndarray:
    """The plain R+F+M score (3 to 15): ``recency_score + frequency_score + monetary_score``.

    The three 1-5 quintile scores of ``fct_customer_rfm`` are used when present, else computed
    the same way (:func:`quantile_scores`) over the customers given.
    """
    columns = ("recency_score", "frequency_score", "monetary_score")
    if all(c in rfm.columns for c in columns):
        return rfm[list(columns)].to_numpy(dtype=float).sum(axis=1)
    return (
        quantile_scores(rfm["recency_days"], descending=True)
        + quantile_scores(rfm["frequency"])
        + quantile_scores(rfm["monetary"])
    ).astype(float)


# calibration_deciles: one row per bin of the prediction.
CALIBRATION_COLUMNS: tuple[str, ...] = (
    "decile",
    "customers",
    "mean_predicted",
    "observed_rate",
    "gap",
    "min_predicted",
    "max_predicted",
    "gap_standard_error",
    "gap_z_score",
    "is_gap_within_sampling_error",
)
# Two-sided 95 %: a calibrated prediction's bin is outside 1 time in 20 by chance.
SAMPLING_ERROR_Z = 1.96


def calibration_deciles(probability: object, outcome: object, n_bins: int = 10) -> pd.DataFrame:
    """Predicted probability against the observed rate, by decile of the prediction.

    Bins are ``1 + floor(n_bins * (rank - 1) / n)`` of the prediction (rank = rows with a
    strictly smaller prediction plus one), as SQL computes scores: equal predictions share a bin,
    so a bin may be empty or larger than n / n_bins.

    Parameters
    ----------
    probability : array-like of float in [0, 1], shape (n,)
    outcome : array-like of bool, shape (n,)
    n_bins : int, optional
        Default 10.

    Returns
    -------
    pandas.DataFrame, one row per non-empty bin, in bin order
        ``decile`` (1 = lowest predictions), ``customers``, ``mean_predicted``,
        ``observed_rate``, ``gap`` (observed - predicted, in probability units),
        ``min_predicted``, ``max_predicted``, ``gap_standard_error``, ``gap_z_score`` and
        ``is_gap_within_sampling_error`` (see Notes).

    Notes
    -----
    If the predictions were right, a bin's observed rate would be the mean of independent
    Bernoulli(p_i) outcomes: it would differ from ``mean_predicted`` by sampling alone, with
    standard error ``gap_standard_error = sqrt(sum p_i (1 - p_i)) / customers``. A bin of 40
    customers at p = 0.5 is then off by 8 points as often as not by more than one standard error;
    one of 4,000 by less than one point. ``gap_z_score = gap / gap_standard_error`` (NaN when the
    standard error is 0, i.e. every prediction of the bin is 0 or 1) and
    ``is_gap_within_sampling_error`` = ``|gap| <= 1.96 x gap_standard_error``: a calibrated model
    has about 1 bin in 20 outside, by chance.
    """
    p = np.asarray(probability, dtype=float)
    y = as_outcome(outcome)
    if p.shape != y.shape:
        raise ValueError(f"probability has {p.size} values but outcome has {y.size}")
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise ValueError("probability must hold finite values between 0 and 1")
    data = pd.DataFrame(
        {
            "decile": quantile_scores(p, n_bins),
            "p": p,
            "y": y.astype(float),
            "bernoulli_variance": p * (1 - p),
        }
    )
    table = (
        data.groupby("decile", sort=True)
        .agg(
            customers=("p", "size"),
            mean_predicted=("p", "mean"),
            observed_rate=("y", "mean"),
            min_predicted=("p", "min"),
            max_predicted=("p", "max"),
            variance_sum=("bernoulli_variance", "sum"),
        )
        .reset_index()
    )
    table["gap"] = table["observed_rate"] - table["mean_predicted"]
    table["gap_standard_error"] = np.sqrt(table["variance_sum"]) / table["customers"]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = table["gap"] / table["gap_standard_error"]
    table["gap_z_score"] = z.where(table["gap_standard_error"] > 0)
    table["is_gap_within_sampling_error"] = table["gap"].abs() <= (
        SAMPLING_ERROR_Z * table["gap_standard_error"]
    )
    return table[list(CALIBRATION_COLUMNS)]


# backtest_segment_scores: one row per customer of the cutoff.
BACKTEST_SEGMENT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "cluster_id",
    "persona_key",
    "distance_to_centroid",
    "margin_to_next_centroid",
    OUTCOME_COLUMN,
    REVENUE_COLUMN,
    "persona_score",
)


def backtest_segment_scores(
    segments: pd.DataFrame | None, *, random_state: int = 42
) -> pd.DataFrame:
    """The cutoff's segments with each customer's persona score, or an empty, typed table.

    Parameters
    ----------
    segments : pandas.DataFrame or None
        :func:`~customer_segments.clustering.build_backtest_segments`' table (persona and
        outcome of every customer of the cutoff); None when the build has no backtest.
    random_state : int, optional
        Seed of the folds of :func:`cross_fitted_group_rates`.

    Returns
    -------
    pandas.DataFrame
        :data:`BACKTEST_SEGMENT_COLUMNS`: ``persona_score`` is the customer's persona repeat
        rate measured on the other fold of customers (the ranking by persona, without the
        in-sample optimism that grows with the number of personas).
    """
    if segments is None:
        dtypes = ["int64", "Int64", "string", "float64", "float64", "bool", "float64", "float64"]
        return pd.DataFrame(
            {
                column: pd.Series(dtype=dtype)
                for column, dtype in zip(BACKTEST_SEGMENT_COLUMNS, dtypes, strict=True)
            }
        )
    table = segments.copy()
    table["persona_score"] = cross_fitted_group_rates(
        table["persona_key"], table[OUTCOME_COLUMN], random_state=random_state
    )
    return table[list(BACKTEST_SEGMENT_COLUMNS)]
