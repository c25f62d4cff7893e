"""More ways to calibrate the purchase probability out of time, measured (docs/calibration.md).

Run from the project folder (not collected by pytest)::

    .venv/bin/python tests/python/evaluate_calibration_fixes.py

On each synthetic shop of ``shapes.py`` (buy-till-you-die retailers the product was not tuned
on), whole log and last 374 days, the backtest of ``customer_segments.probability`` (features as
of ``as_of - 180`` days, judged as of ``as_of - 90`` on the next 90 days) is run with:

* ``product``: the product's features (:data:`~customer_segments.probability.FEATURE_COLUMNS`);
* ``rates``: the same plus features that mean the same whatever the length of the history:
  orders per day of observed tenure (``frequency / (tenure_days + 30)``), the average order
  value, and the orders the customer would have made since their last one at that rate;
* ``percentile ranks``: every feature replaced by its percentile rank within its snapshot, so
  that a longer history cannot shift the scale;
* ``out-of-time recalibration``: the product's model, its probabilities mapped by a logistic
  fit (Platt) of the outcome on logit(p), learnt one step earlier: a model trained as of
  ``as_of - 270`` days and scored as of ``as_of - 180``. It needs four horizons of data;
* ``stacked cutoffs``: the product's features, trained on four snapshots at once (as of
  ``as_of - 180``, ``- 210``, ``- 240`` and ``- 270`` days, each labelled over its own next
  90 days), so that the model sees several lengths of history;
* ``stacked + history length``: the same with the log of the days of history before each
  snapshot as a feature, which the logistic models can extrapolate to the longer history of
  the snapshot they score;
* ``same season a year earlier`` (logs of more than a year and two horizons only): the model
  trained on the snapshot as of ``as_of - 90 - 365`` days, labelled over its next 90 days (the
  calendar weeks the backtest judges, one year earlier), instead of the last horizon; and
  ``last horizon + same season a year earlier``, trained on both snapshots at once;
* ``post-fit sigmoid``: every candidate wrapped in scikit-learn's ``CalibratedClassifierCV``
  (Platt scaling on 5 stratified folds of the training snapshot), as in section 5 of
  docs/calibration.md, measured again here per method.

Only customers with a purchase before a snapshot are scored (the product's probability model
sees the others as frequency 0). The candidate with the highest AUC is reported, as the product
chooses it, with its largest decile gap and how many deciles are off by more than sampling error.
The variants swap ``purchase_features`` in the module for the duration of a run: this is an
experiment, not product code. Markdown on stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "integration")]

import shapes  # noqa: E402
from customer_segments import probability  # noqa: E402
from customer_segments.backtest import calibration_deciles, ranking_auc  # noqa: E402
from customer_segments.personas import customer_measures  # noqa: E402

HORIZON = pd.Timedelta(days=90)
ONE_YEAR_LOG_DAYS = 374  # the Online Retail export: 2010-12-01 .. 2011-12-09
SHOPS = ("steady", "mature", "one_timers", "seasonal", "wholesaler")
METHODS = ("logistic_splines", "logistic_interactions", "gradient_boosting")
PRODUCT_FEATURES = probability.purchase_features
PRODUCT_COLUMNS = probability.FEATURE_COLUMNS
RATE_COLUMNS = (*PRODUCT_COLUMNS, "log_orders_per_day", "log_average_order", "log_orders_missed")


def rate_features(rfm: pd.DataFrame) -> pd.DataFrame:
    features = PRODUCT_FEATURES(rfm)
    measures = customer_measures(rfm)
    frequency = measures["frequency"].astype(float)
    orders_per_day = frequency / (measures["tenure_days"].astype(float) + 30.0)
    features["log_orders_per_day"] = np.log(orders_per_day)
    features["log_average_order"] = np.log1p(
        measures["monetary"].clip(lower=0) / frequency.clip(lower=1)
    )
    features["log_orders_missed"] = np.log1p(measures["recency_days"] * orders_per_day)
    return features


def percentile_rank_features(rfm: pd.DataFrame) -> pd.DataFrame:
    features = PRODUCT_FEATURES(rfm)
    for column in PRODUCT_COLUMNS:
        features[column] = features[column].rank(pct=True)
    return features


@contextmanager
def features_of(make: Callable[[pd.DataFrame], pd.DataFrame], columns: tuple[str, ...]) -> Iterator:
    probability.purchase_features, probability.FEATURE_COLUMNS = make, columns
    try:
        yield
    finally:
        probability.purchase_features = PRODUCT_FEATURES
        probability.FEATURE_COLUMNS = PRODUCT_COLUMNS


STACK_OFFSETS_DAYS = (0, 30, 60, 90)


def history_length_features(rfm: pd.DataFrame) -> pd.DataFrame:
    features = PRODUCT_FEATURES(rfm)
    features["log_history_days"] = np.log(rfm["history_days"].to_numpy(dtype=float))
    return features


def labelled(orders: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    rfm = shapes.with_outcome(shapes.snapshot(orders, at), orders, at, HORIZON.days)
    rfm = rfm.loc[rfm["frequency"] > 0].reset_index(drop=True)
    return rfm.assign(history_days=(at - orders["invoice_date"].min()).days)


def stacked(orders: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """Snapshots as of ``at`` and 30, 60, 90 days before, one row per customer and snapshot."""
    return pd.concat(
        [
            labelled(orders, at - pd.Timedelta(days=offset)).assign(
                customer_id=lambda d, i=i: d["customer_id"] * len(STACK_OFFSETS_DAYS) + i
            )
            for i, offset in enumerate(STACK_OFFSETS_DAYS)
        ],
        ignore_index=True,
    )


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def scores(method: str, p: np.ndarray, y: np.ndarray) -> dict[str, object]:
    deciles = calibration_deciles(p, y)
    return {
        "method": method,
        "auc": ranking_auc(p, y),
        "gap": float(deciles["gap"].abs().max()),
        "outside": int((~deciles["is_gap_within_sampling_error"]).sum()),
    }


def variants(
    orders: pd.DataFrame, as_of: pd.Timestamp = shapes.AS_OF
) -> dict[str, list[dict[str, object]]]:
    """Every variant's scores of every method on the backtest snapshot."""
    snap = {i: labelled(orders, as_of - i * HORIZON) for i in (1, 2, 3)}
    y = snap[1]["has_next_period_purchase"].to_numpy()
    results: dict[str, list[dict[str, object]]] = {}

    def trained_on(training: pd.DataFrame) -> list[dict[str, object]]:
        """Every method fitted on ``training`` and scored on the backtest snapshot."""
        return [
            scores(
                method,
                probability.predict_purchase_probability(
                    probability.fit_purchase_model(training, method), snap[1]
                ),
                y,
            )
            for method in METHODS
        ]

    for name, make, columns in (
        ("product", PRODUCT_FEATURES, PRODUCT_COLUMNS),
        ("rates", rate_features, RATE_COLUMNS),
        ("percentile ranks", percentile_rank_features, PRODUCT_COLUMNS),
    ):
        with features_of(make, columns):
            results[name] = trained_on(snap[2])
    training = stacked(orders, as_of - 2 * HORIZON)
    for name, make, columns in (
        ("stacked cutoffs", PRODUCT_FEATURES, PRODUCT_COLUMNS),
        (
            "stacked + history length",
            history_length_features,
            (*PRODUCT_COLUMNS, "log_history_days"),
        ),
    ):
        with features_of(make, columns):
            results[name] = trained_on(training)
    year = pd.Timedelta(days=365)
    first_day = orders["invoice_date"].min()
    if as_of - HORIZON - year >= first_day + HORIZON:
        last_season = labelled(orders, as_of - HORIZON - year)
        both = pd.concat(
            [
                snap[2].assign(customer_id=snap[2]["customer_id"] * 2),
                last_season.assign(customer_id=last_season["customer_id"] * 2 + 1),
            ],
            ignore_index=True,
        )
        for name, training in (
            ("same season a year earlier", last_season),
            ("last horizon + same season a year earlier", both),
        ):
            results[name] = trained_on(training)
    recalibrated = []
    for method in METHODS:
        earlier = probability.fit_purchase_model(snap[3], method)
        p_earlier = probability.predict_purchase_probability(earlier, snap[2])
        platt = LogisticRegression(C=1e6).fit(
            logit(p_earlier)[:, None], snap[2]["has_next_period_purchase"].to_numpy()
        )
        p = probability.predict_purchase_probability(
            probability.fit_purchase_model(snap[2], method), snap[1]
        )
        recalibrated.append(scores(method, platt.predict_proba(logit(p)[:, None])[:, 1], y))
    results["out-of-time recalibration"] = recalibrated
    post_fit = []
    for method in METHODS:
        model = CalibratedClassifierCV(
            probability.make_purchase_model(method),
            method="sigmoid",
            cv=StratifiedKFold(5, shuffle=True, random_state=42),
        ).fit(probability.purchase_features(snap[2]), snap[2]["has_next_period_purchase"])
        p = model.predict_proba(probability.purchase_features(snap[1]))[:, 1]
        post_fit.append(scores(method, p, y))
    results["post-fit sigmoid"] = post_fit
    return results


def print_rows(shop: str, log: str, results: dict[str, list[dict[str, object]]]) -> None:
    for variant, rows in results.items():
        best = max(rows, key=lambda row: row["auc"])
        print(
            f"| {shop} | {log} | {variant} | {best['method']} | {best['auc']:.3f} "
            f"| {best['gap']:.3f} | {best['outside']} |"
        )


def main() -> int:
    print("| shop | log | variant | chosen (highest AUC) | AUC | largest gap | deciles off |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: |")
    for name in SHOPS:
        all_orders = shapes.invoices(shapes.SHAPES[name])
        one_year = all_orders.loc[
            all_orders["invoice_date"] >= shapes.AS_OF - pd.Timedelta(days=ONE_YEAR_LOG_DAYS)
        ]
        for log, orders in (("whole log", all_orders), ("last 374 days", one_year)):
            print_rows(name, log, variants(orders))
    default_data = HERE.parents[1] / "data" / "online_retail.csv"
    if default_data.exists():  # written by make build
        import independent_cleaning

        lines = independent_cleaning.classify(independent_cleaning.read_raw(default_data))
        orders = shapes.online_retail_invoices(lines)
        as_of = orders["invoice_date"].max() + pd.Timedelta(days=1)
        print_rows("default data", "online_retail.csv", variants(orders, as_of))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
