"""Does the purchase probability stay calibrated out of time on a one-year log? (docs/calibration.md)

Run from the project folder (not collected by pytest)::

    .venv/bin/python tests/python/evaluate_feature_window.py

For each synthetic shop of ``shapes.py`` (buy-till-you-die retailers the product was not tuned
on), the backtest of ``customer_segments.probability`` (trained as of ``as_of - 180`` days, judged
as of ``as_of - 90`` on the next 90 days) is run four ways: on the shop's whole log or on its last
374 days only (like the Online Retail export), and with RFM features over all the history before
each snapshot (what the product does) or over a fixed window, as long as the history before the
training snapshot: either only the customers who bought in the window (``dropped``), or every
customer, one whose last order is older than the window scored as a one-order customer of that
last order (``kept``: same recency, tenure = recency, its amount as net revenue). Reported per run: the chosen method (highest AUC), its AUC and largest decile
calibration gap, the smallest gap of any candidate, and the mean predicted and observed repeat
rates. Markdown on stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import shapes
from customer_segments.backtest import quantile_scores
from customer_segments.probability import compare_purchase_models

HORIZON = pd.Timedelta(days=90)
ONE_YEAR_LOG_DAYS = 374  # the Online Retail export: 2010-12-01 .. 2011-12-09
SHOPS = ("steady", "mature", "one_timers", "seasonal", "wholesaler")


def labelled_snapshot(
    orders: pd.DataFrame, at: pd.Timestamp, window_days: int | None, keep_older: bool = False
):
    """RFM as of ``at`` from the invoices before it (the last ``window_days`` only, if given),
    labelled with a purchase in the following horizon; with ``keep_older``, the customers whose
    last order is older than the window are kept as one-order customers of that order."""
    if window_days is None:
        return shapes.with_outcome(shapes.snapshot(orders, at), orders, at, HORIZON.days)
    start = at - pd.Timedelta(days=window_days)
    rfm = shapes.snapshot(orders.loc[orders["invoice_date"] >= start], at)
    rfm = rfm.loc[rfm["frequency"] > 0]
    if keep_older:
        before = orders.loc[orders["is_purchase"] & (orders["invoice_date"] < at)]
        last = before.sort_values("invoice_date", kind="stable").groupby("customer_id").last()
        older = last.loc[~last.index.isin(rfm["customer_id"])]
        recency = (at - older["invoice_date"]).dt.days
        rfm = pd.concat(
            [
                rfm,
                pd.DataFrame(
                    {
                        "customer_id": older.index,
                        "monetary": older["amount"].to_numpy(),
                        "frequency": 1,
                        "recency_days": recency.to_numpy(),
                        "tenure_days": recency.to_numpy(),
                    }
                ),
            ],
            ignore_index=True,
        )
        bought = rfm["frequency"] >= 1
        for column, descending in (
            ("recency_days", True),
            ("frequency", False),
            ("monetary", False),
        ):
            rfm.loc[bought, column.replace("_days", "") + "_score"] = quantile_scores(
                rfm.loc[bought, column], descending=descending
            )
    return shapes.with_outcome(rfm.reset_index(drop=True), orders, at, HORIZON.days)


def evaluate(name: str) -> list[dict[str, object]]:
    all_orders = shapes.invoices(shapes.SHAPES[name])
    one_year = all_orders.loc[
        all_orders["invoice_date"] >= shapes.AS_OF - pd.Timedelta(days=ONE_YEAR_LOG_DAYS)
    ]
    training_at, backtest_at = shapes.AS_OF - 2 * HORIZON, shapes.AS_OF - HORIZON
    rows = []
    for log, orders in (("whole log", all_orders), ("last 374 days", one_year)):
        history_days = (training_at - orders["invoice_date"].min()).days
        for features, window, keep in (
            ("all history", None, False),
            (f"last {history_days} days, dropped", history_days, False),
            (f"last {history_days} days, kept", history_days, True),
        ):
            comparison, _ = compare_purchase_models(
                labelled_snapshot(orders, training_at, window, keep),
                labelled_snapshot(orders, backtest_at, window, keep),
            )
            best = comparison.loc[comparison["auc"].idxmax()]
            rows.append(
                {
                    "shop": name,
                    "log": log,
                    "features over": features,
                    "customers": int(best["test_customers"]),
                    "chosen": best["method"],
                    "AUC": f"{best['auc']:.3f}",
                    "largest gap": f"{best['max_abs_decile_gap']:.3f}",
                    "smallest gap of any": f"{comparison['max_abs_decile_gap'].min():.3f}",
                    "predicted": f"{best['mean_predicted']:.3f}",
                    "observed": f"{best['observed_rate']:.3f}",
                }
            )
    return rows


def main() -> int:
    table = pd.DataFrame([row for name in SHOPS for row in evaluate(name)])
    header = "| " + " | ".join(table.columns) + " |"
    print(header)
    print("|" + " --- |" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(str(value) for value in row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
