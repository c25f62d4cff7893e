"""Per-customer probability of at least one purchase in the ``prediction_horizon_days`` after a date.

Trained out of time, chosen by the backtest
--------------------------------------------
Three snapshots of the same RFM columns, each built from the lines before its date only (``h`` =
``prediction_horizon_days``, default 90):

=========  =========================  ================================================
snapshot   features as of             label: has_next_period_purchase in
=========  =========================  ================================================
current    as_of_date                 (unknown: this is what is predicted)
recent     as_of_date - h (cutoff)    [as_of_date - h, as_of_date)
earlier    as_of_date - 2h            [as_of_date - 2h, as_of_date - h)
=========  =========================  ================================================

1. **Backtest.** Every candidate is trained on ``earlier`` and scored on ``recent``: the same gap
   between training and use as in production, with outcomes the model never saw. The candidate
   with the highest AUC wins (ties: the first in :data:`CANDIDATES`), and its calibration on
   ``recent`` is reported by decile (:func:`~customer_segments.backtest.calibration_deciles`).
   Without an ``earlier`` snapshot (data shorter than three horizons) the candidates are
   compared by 5-fold cross-validation on ``recent`` instead, and the table says so.
2. **Production.** The chosen method is refitted on ``recent`` (the latest complete horizon)
   and applied to ``current``.

Candidates, all scikit-learn (lifetimes is unmaintained; pymc-marketing needs Python 3.12):

============================  ====================================================================
method                        model
============================  ====================================================================
logistic_splines              logistic regression on cubic splines of each feature: an additive
                              model, smooth and well calibrated
logistic_interactions         logistic regression on the standardised features, their squares
                              and pairwise products (e.g. recency x frequency, as in BG/NBD)
gradient_boosting             shallow histogram gradient boosting (any interaction, step shapes)
rfm_score                     logistic regression on the plain R+F+M score: a calibrated version of
                              the score, whose AUC is the score's (1 minus it when the training
                              horizon teaches a negative slope). Being a candidate, the chosen
                              model ranks at least as well as the score on the backtest
============================  ====================================================================

Features (:func:`purchase_features`): log1p of recency, frequency, net revenue (floored at 0),
tenure and of the gaps since the last purchase (NaN for one order, imputed with an indicator for
the logistic models), and the R+F+M score for ``rfm_score``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import PolynomialFeatures, SplineTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from customer_segments.backtest import (
    OUTCOME_COLUMN,
    as_outcome,
    calibration_deciles,
    ranking_auc,
    rfm_score,
)
from customer_segments.personas import customer_measures

__all__ = [
    "CANDIDATES",
    "COMPARISON_COLUMNS",
    "FEATURE_COLUMNS",
    "MAX_TRAIN_CUSTOMERS",
    "MIN_PUBLISHED_AUC",
    "PROBABILITY_COLUMNS",
    "build_purchase_probability",
    "choose_purchase_model",
    "compare_purchase_models",
    "fit_purchase_model",
    "make_purchase_model",
    "model_comparison_table",
    "predict_purchase_probability",
    "purchase_features",
    "purchase_probabilities",
    "ranks_better_than_chance",
]

CANDIDATES: tuple[str, ...] = (
    "logistic_splines",
    "logistic_interactions",
    "gradient_boosting",
    "rfm_score",
)
FEATURE_COLUMNS: tuple[str, ...] = (
    "log_recency_days",
    "log_frequency",
    "log_monetary",
    "log_tenure_days",
    "log_gaps_since_last_purchase",
)
# A chosen method whose backtest AUC is not above this ranks buyers no better than chance: its
# probabilities are not published (ranks_better_than_chance).
MIN_PUBLISHED_AUC = 0.5
# Training uses a deterministic sample of at most this many customers (all are scored): the
# cost stays bounded as the base grows (measured: 40,000 customers, 4 candidates, 2.5 s CPU).
MAX_TRAIN_CUSTOMERS = 100_000

COMPARISON_COLUMNS: tuple[str, ...] = (
    "method",
    "validation",
    "auc",
    "brier_score",
    "log_loss",
    "mean_predicted",
    "observed_rate",
    "max_abs_decile_gap",
    "deciles_outside_sampling_error",
    "train_customers",
    "test_customers",
)


def purchase_features(rfm: pd.DataFrame) -> pd.DataFrame:
    """The model's features for every customer of an RFM snapshot.

    Parameters
    ----------
    rfm : pandas.DataFrame, shape (n_customers, ...)
        RFM columns as of the snapshot date (see :func:`~customer_segments.personas.
        customer_measures`); a customer without a purchase has frequency 0 and NULL recency and
        tenure (their features are NaN).

    Returns
    -------
    pandas.DataFrame, shape (n_customers, 6)
        :data:`FEATURE_COLUMNS` and ``rfm_score``, rows in the input order.
    """
    measures = customer_measures(rfm)
    features = pd.DataFrame(
        {
            "log_recency_days": np.log1p(measures["recency_days"]),
            "log_frequency": np.log1p(measures["frequency"]),
            "log_monetary": np.log1p(measures["monetary"].clip(lower=0)),
            "log_tenure_days": np.log1p(measures["tenure_days"]),
            "log_gaps_since_last_purchase": np.log1p(measures["gaps_since_last_purchase"]),
        },
        index=rfm.index,
    )
    bought = measures["frequency"].to_numpy() >= 1
    score = np.full(len(rfm), 0.0)
    if bought.any():
        score[bought] = rfm_score(rfm.loc[bought])
    features["rfm_score"] = score
    return features


def make_purchase_model(method: str, random_state: int = 42) -> Pipeline:
    """An unfitted scikit-learn pipeline of :data:`CANDIDATES` that reads :func:`purchase_features`.

    Raises
    ------
    ValueError
        An unknown method.
    """
    features = list(FEATURE_COLUMNS)
    if method == "logistic_splines":
        select = ColumnTransformer([("features", "passthrough", features)])
        return make_pipeline(
            select,
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            ColumnTransformer(
                [
                    (
                        "splines",
                        SplineTransformer(n_knots=5, degree=3, extrapolation="constant"),
                        list(range(len(features))),
                    )
                ],
                remainder="passthrough",
            ),
            LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=200),
        )
    if method == "logistic_interactions":
        return make_pipeline(
            ColumnTransformer([("features", "passthrough", features)]),
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
            PolynomialFeatures(degree=2, include_bias=False),
            LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=200),
        )
    if method == "gradient_boosting":
        # Shallow, slow and regularised: the backtest sets are a few thousand customers.
        return make_pipeline(
            ColumnTransformer([("features", "passthrough", features)]),
            HistGradientBoostingClassifier(
                learning_rate=0.03,
                max_iter=150,
                max_depth=3,
                min_samples_leaf=80,
                l2_regularization=3.0,
                early_stopping=False,
                random_state=random_state,
            ),
        )
    if method == "rfm_score":
        return make_pipeline(
            ColumnTransformer([("score", "passthrough", ["rfm_score"])]),
            LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=200),
        )
    raise ValueError(f"unknown purchase model {method!r}; known: {', '.join(CANDIDATES)}")


def _customer_order(frame: pd.DataFrame) -> np.ndarray:
    """Positions that sort ``frame`` by ``customer_id`` (the input order without that column).

    Folds and training samples are drawn by position, and a fit sums over rows in their order:
    sorting first gives the same model whatever order the rows arrive in (a Spark table has
    none, and DuckDB's follows its parallel joins).

    Returns
    -------
    numpy.ndarray of int, shape (len(frame),)
    """
    if "customer_id" not in frame.columns:
        return np.arange(len(frame))
    return np.argsort(frame["customer_id"].to_numpy(), kind="stable")


def _labels(frame: pd.DataFrame, what: str) -> np.ndarray:
    if OUTCOME_COLUMN not in frame.columns:
        raise ValueError(f"the {what} snapshot needs the column {OUTCOME_COLUMN}")
    y = as_outcome(frame[OUTCOME_COLUMN])
    if y.all() or not y.any():
        raise ValueError(
            f"the {what} snapshot has {'only buyers' if y.all() else 'no buyer'} in its horizon: "
            "a purchase model needs both"
        )
    return y


def _fit(
    model: Pipeline,
    X: pd.DataFrame,
    y: np.ndarray,
    max_customers: int | None = MAX_TRAIN_CUSTOMERS,
    random_state: int = 42,
) -> Pipeline:
    if max_customers is not None and len(X) > max_customers:
        rows = np.sort(
            np.random.RandomState(random_state).choice(len(X), size=max_customers, replace=False)
        )
        X, y = X.iloc[rows], y[rows]
    # One thread: results do not depend on it, and the machine is shared with the build.
    with threadpool_limits(limits=1):
        return model.fit(X, y)


def _predict(model: Pipeline, X: pd.DataFrame) -> np.ndarray:
    with threadpool_limits(limits=1):
        return model.predict_proba(X)[:, 1]


def fit_purchase_model(
    train: pd.DataFrame,
    method: str,
    random_state: int = 42,
    max_train_customers: int | None = MAX_TRAIN_CUSTOMERS,
) -> Pipeline:
    """Fit one method on a labelled snapshot (RFM columns + ``has_next_period_purchase``).

    At most ``max_train_customers`` customers (a deterministic sample) are used. The rows are
    taken in ``customer_id`` order: their input order does not change the model.
    """
    train = train.iloc[_customer_order(train)]
    return _fit(
        make_purchase_model(method, random_state),
        purchase_features(train),
        _labels(train, "training"),
        max_train_customers,
        random_state,
    )


def predict_purchase_probability(model: Pipeline, rfm: pd.DataFrame) -> np.ndarray:
    """Probability of a purchase in the horizon, per customer of ``rfm`` (input order).

    Returns
    -------
    numpy.ndarray of float, shape (n_customers,)
        In [0, 1].

    Notes
    -----
    The customers are scored in ``customer_id`` order and the result put back in the input
    order: a matrix product may round a row's last bit differently by its position in the
    batch, so scoring in the input order would tie the result to it.
    """
    order = _customer_order(rfm)
    probability = np.empty(len(rfm))
    probability[order] = _predict(model, purchase_features(rfm.iloc[order]))
    return probability


def _scores(method: str, p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    deciles = calibration_deciles(p, y)
    return {
        "method": method,
        "auc": ranking_auc(p, y),
        "brier_score": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[False, True])),
        "mean_predicted": float(p.mean()),
        "observed_rate": float(y.mean()),
        "max_abs_decile_gap": float(deciles["gap"].abs().max()),
        "deciles_outside_sampling_error": int((~deciles["is_gap_within_sampling_error"]).sum()),
    }


def compare_purchase_models(
    train: pd.DataFrame | None,
    test: pd.DataFrame,
    *,
    methods: Sequence[str] = CANDIDATES,
    random_state: int = 42,
    n_folds: int = 5,
    max_train_customers: int | None = MAX_TRAIN_CUSTOMERS,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Score every method on the backtest: trained on ``train``, judged on ``test``.

    Parameters
    ----------
    train : pandas.DataFrame or None
        The ``earlier`` snapshot with its labels; None compares by ``n_folds``-fold stratified
        cross-validation on ``test``.
    test : pandas.DataFrame
        The ``recent`` snapshot with its labels.
    methods : sequence of str, optional
        Among :data:`CANDIDATES`.
    random_state : int, optional
        Seed of the models, the folds and the training sample.
    max_train_customers : int or None, optional
        Each fit uses a deterministic sample of at most this many customers (None: all).

    Returns
    -------
    comparison : pandas.DataFrame, one row per method, in the given order
        :data:`COMPARISON_COLUMNS`: ``validation`` (``out_of_time`` or ``cross_validation``),
        ``auc``, ``brier_score``, ``log_loss``, ``mean_predicted`` and ``observed_rate`` on the
        test customers, ``max_abs_decile_gap`` (largest |observed - predicted| over the
        deciles), ``deciles_outside_sampling_error`` (deciles whose gap is larger than sampling
        alone explains at 95 %: :func:`~customer_segments.backtest.calibration_deciles`), and the
        numbers of customers (``train_customers``: those each fit used).
    predictions : dict of method to numpy.ndarray, shape (len(test),)
        Each method's predictions for the test customers (out of fold when cross-validated), in
        the input order of ``test``.

    Notes
    -----
    Both snapshots are taken in ``customer_id`` order (folds and samples are drawn by position),
    so the input order of their rows changes nothing.
    """
    test_order = _customer_order(test)
    test = test.iloc[test_order]
    if train is not None:
        train = train.iloc[_customer_order(train)]
    y_test = _labels(test, "test")
    X_test = purchase_features(test)
    predictions = {}
    if train is not None:
        X_train, y_train = purchase_features(train), _labels(train, "training")
        for method in methods:
            model = _fit(
                make_purchase_model(method, random_state),
                X_train,
                y_train,
                max_train_customers,
                random_state,
            )
            predictions[method] = _predict(model, X_test)
        validation, n_train = "out_of_time", len(train)
    else:
        folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
        splits = list(folds.split(X_test, y_test))
        for method in methods:
            p = np.empty(len(test))
            for inside, outside in splits:
                model = _fit(
                    make_purchase_model(method, random_state),
                    X_test.iloc[inside],
                    y_test[inside],
                    max_train_customers,
                    random_state,
                )
                p[outside] = _predict(model, X_test.iloc[outside])
            predictions[method] = p
        validation, n_train = "cross_validation", int(len(test) * (n_folds - 1) / n_folds)
    if max_train_customers is not None:
        n_train = min(n_train, int(max_train_customers))
    rows = [
        {
            **_scores(m, predictions[m], y_test),
            "validation": validation,
            "train_customers": n_train,
            "test_customers": len(test),
        }
        for m in methods
    ]
    for method, sorted_predictions in predictions.items():
        in_input_order = np.empty_like(sorted_predictions)
        in_input_order[test_order] = sorted_predictions
        predictions[method] = in_input_order
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS)), predictions


def ranks_better_than_chance(comparison: pd.DataFrame) -> bool:
    """Whether the chosen method's backtest AUC is above :data:`MIN_PUBLISHED_AUC` (chance).

    A method whose AUC is at or below 0.5 ranks next-period buyers no better than a coin, or
    backwards (a training snapshot of two weeks of history, say): its probabilities are kept
    as the backtest's evidence but not published as ``next_purchase_probability``.

    Parameters
    ----------
    comparison : pandas.DataFrame
        :func:`model_comparison_table`: ``is_chosen`` and ``auc``.
    """
    chosen = comparison.loc[comparison["is_chosen"].astype(bool)]
    # NaN (no AUC) is not above chance either; an empty table has no chosen method.
    return len(chosen) == 1 and float(chosen["auc"].iloc[0]) > MIN_PUBLISHED_AUC


def choose_purchase_model(comparison: pd.DataFrame) -> tuple[str, str]:
    """The method with the highest backtest AUC (ties: the first row), and why."""
    if comparison.empty:
        raise ValueError("no purchase model to choose from")
    best = comparison.loc[comparison["auc"].idxmax()]
    score = comparison.loc[comparison["method"] == "rfm_score", "auc"]
    # The candidate is a logistic fit on the score: its AUC is the plain score's, or 1 minus it
    # when the training horizon taught it a negative slope; say which, so that it is not read
    # as the rfm_score row of fct_backtest_summary.
    versus = (
        f"; the logistic fit on the R+F+M score (rfm_score) has {score.iloc[0]:.3f}"
        if len(score)
        else ""
    )
    reason = (
        f"{best['method']}: highest {best['validation'].replace('_', '-')} AUC "
        f"{best['auc']:.3f} of {len(comparison)} candidates{versus}; calibration: largest decile "
        f"gap {best['max_abs_decile_gap']:.3f}, {int(best['deciles_outside_sampling_error'])} "
        f"decile(s) off by more than sampling error (mean predicted {best['mean_predicted']:.3f}, "
        f"observed {best['observed_rate']:.3f})"
    )
    if not best["auc"] > MIN_PUBLISHED_AUC:
        reason += (
            f"; not published as next_purchase_probability: an AUC of {best['auc']:.3f} ranks "
            "buyers no better than chance"
        )
    return str(best["method"]), reason


def build_purchase_probability(
    current: pd.DataFrame,
    recent: pd.DataFrame,
    earlier: pd.DataFrame | None = None,
    *,
    methods: Sequence[str] = CANDIDATES,
    random_state: int = 42,
    max_train_customers: int | None = MAX_TRAIN_CUSTOMERS,
) -> dict[str, pd.DataFrame]:
    """Choose the method on the backtest, refit it on ``recent`` and score ``current``.

    Parameters
    ----------
    current : pandas.DataFrame
        RFM snapshot as of ``as_of_date`` with ``customer_id``: the customers to score.
    recent : pandas.DataFrame
        Snapshot as of ``as_of_date - h`` with ``has_next_period_purchase`` over the horizon up
        to ``as_of_date`` (and ``customer_id``).
    earlier : pandas.DataFrame or None, optional
        Snapshot as of ``as_of_date - 2h`` with its label over ``[as_of_date - 2h,
        as_of_date - h)``; None when the data is too short (cross-validation instead).
    methods, random_state, max_train_customers
        See :func:`compare_purchase_models`.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``predictions``: ``customer_id``, ``next_purchase_probability`` for ``current``.
        ``model_comparison``: :func:`compare_purchase_models`' table plus ``is_chosen`` and
        ``reason``.
        ``backtest_predictions``: ``customer_id``, ``next_purchase_probability`` (the chosen
        method's backtest prediction), ``has_next_period_purchase``: one row per ``recent``
        customer, for the AUC and the calibration deciles of the backtest.
    """
    comparison, predictions = compare_purchase_models(
        earlier,
        recent,
        methods=methods,
        random_state=random_state,
        max_train_customers=max_train_customers,
    )
    method, reason = choose_purchase_model(comparison)
    comparison["is_chosen"] = comparison["method"] == method
    comparison["reason"] = np.where(comparison["is_chosen"], reason, "not chosen: lower AUC")
    model = fit_purchase_model(recent, method, random_state, max_train_customers)
    return {
        "predictions": pd.DataFrame(
            {
                "customer_id": current["customer_id"].to_numpy(),
                "next_purchase_probability": predict_purchase_probability(model, current),
            }
        ),
        "model_comparison": comparison,
        "backtest_predictions": pd.DataFrame(
            {
                "customer_id": recent["customer_id"].to_numpy(),
                "next_purchase_probability": predictions[method],
                OUTCOME_COLUMN: as_outcome(recent[OUTCOME_COLUMN]),
            }
        ),
    }


# purchase_probabilities: one row per customer and use of the chosen method.
PROBABILITY_COLUMNS: tuple[str, ...] = (
    "snapshot_role",
    "validation",
    "customer_id",
    "method",
    "next_purchase_probability",
)


def purchase_probabilities(
    current: pd.DataFrame,
    recent: pd.DataFrame,
    earlier: pd.DataFrame | None,
    method: str,
    *,
    random_state: int = 42,
    n_folds: int = 5,
    max_train_customers: int | None = MAX_TRAIN_CUSTOMERS,
    production: bool = True,
) -> pd.DataFrame:
    """Every probability the chosen ``method`` gives, as one long table.

    Rows, by ``snapshot_role`` and ``validation``:

    * ``as_of_date``, ``production``: the method refitted on ``recent`` (the latest complete
      horizon), applied to ``current``: the ``next_purchase_probability`` of every customer;
    * ``backtest_cutoff``, ``out_of_time``: fitted on ``earlier``, applied to ``recent``: what the
      method would have said one horizon ago (None ``earlier``: no such rows);
    * ``backtest_cutoff``, ``cross_validation``: out-of-fold predictions on ``recent``
      (``n_folds`` stratified folds): the method's calibration without the drift between two
      horizons (a season, a change of trend), for comparison with ``out_of_time``.

    ``production=False`` leaves out the ``as_of_date`` rows: the method ranked buyers no better
    than chance in the backtest (:func:`ranks_better_than_chance`), so it is not published.

    Returns
    -------
    pandas.DataFrame
        :data:`PROBABILITY_COLUMNS`, sorted by role, validation and ``customer_id``.
    """
    frames = []

    def rows(role: str, validation: str, customers: pd.DataFrame, p: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "snapshot_role": role,
                "validation": validation,
                "customer_id": customers["customer_id"].to_numpy(),
                "method": method,
                "next_purchase_probability": np.asarray(p, dtype=float),
            }
        )

    if production:
        model = fit_purchase_model(recent, method, random_state, max_train_customers)
        frames.append(
            rows("as_of_date", "production", current, predict_purchase_probability(model, current))
        )
    _, cross_validated = compare_purchase_models(
        None,
        recent,
        methods=[method],
        random_state=random_state,
        n_folds=n_folds,
        max_train_customers=max_train_customers,
    )
    frames.append(rows("backtest_cutoff", "cross_validation", recent, cross_validated[method]))
    if earlier is not None:
        backtest = fit_purchase_model(earlier, method, random_state, max_train_customers)
        frames.append(
            rows(
                "backtest_cutoff",
                "out_of_time",
                recent,
                predict_purchase_probability(backtest, recent),
            )
        )
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(
        ["snapshot_role", "validation", "customer_id"], kind="stable"
    ).reset_index(drop=True)[list(PROBABILITY_COLUMNS)]


def model_comparison_table(
    train: pd.DataFrame | None,
    test: pd.DataFrame | None,
    *,
    methods: Sequence[str] = CANDIDATES,
    random_state: int = 42,
    max_train_customers: int | None = MAX_TRAIN_CUSTOMERS,
) -> pd.DataFrame:
    """The backtest of every candidate with the chosen one marked, or an empty, typed table.

    Parameters
    ----------
    train, test : pandas.DataFrame or None
        As for :func:`compare_purchase_models` (``train`` None: cross-validation on ``test``);
        ``test`` None: the build has no backtest, and the table is empty.

    Returns
    -------
    pandas.DataFrame
        :data:`COMPARISON_COLUMNS` plus ``is_chosen`` (exactly one True unless empty) and
        ``reason``.
    """
    if test is None:
        dtypes = ["string", "string", *["float64"] * 6, "int64", "int64", "int64"]
        table = pd.DataFrame(
            {
                column: pd.Series(dtype=dtype)
                for column, dtype in zip(COMPARISON_COLUMNS, dtypes, strict=True)
            }
        )
        table["is_chosen"] = pd.Series(dtype="bool")
        table["reason"] = pd.Series(dtype="string")
        return table
    comparison, _ = compare_purchase_models(
        train,
        test,
        methods=methods,
        random_state=random_state,
        max_train_customers=max_train_customers,
    )
    method, reason = choose_purchase_model(comparison)
    comparison["is_chosen"] = comparison["method"] == method
    comparison["reason"] = np.where(comparison["is_chosen"], reason, "not chosen: lower AUC")
    return comparison
