"""Small synthetic retailers of other shapes than the project's generator, and RFM snapshots.

Written independently of ``customer_segments.generate`` (which the personas were tuned on): each
customer buys as in the buy-till-you-die models of the literature (Fader, Hardie & Lee's
BG/NBD), with their own purchase rate (gamma-distributed across customers), a chance to drop out
after every purchase (beta-distributed), their own typical order value (log-normal) and the odd
return. Shapes: a steady shop, a mature base where everyone joined more than 15 months ago, a
handful of customers, one extreme wholesaler, mostly one-time buyers, a strong seasonal peak.

:func:`snapshot` computes the mart's RFM columns as of any date from the invoices before it and
:func:`with_outcome` the backtest label over a horizon, as the SQL does (tested against each
other in ``test_shapes.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from customer_segments.backtest import quantile_scores

AS_OF = pd.Timestamp("2011-12-10")


@dataclass(frozen=True)
class Shape:
    """Parameters of one synthetic retailer (rates per day, money in currency units)."""

    name: str
    customers: int = 3000
    first_join_days: int = (
        720  # joins spread over [as_of - first_join_days, as_of - last_join_days]
    )
    last_join_days: int = 0
    rate_shape: float = 1.2  # purchase rate ~ Gamma(rate_shape, rate_mean / rate_shape)
    rate_mean: float = 1 / 45
    dropout_a: float = 1.0  # dropout after each purchase ~ Beta(a, b)
    dropout_b: float = 6.0
    log_value_mean: float = 5.5
    log_value_sd_customers: float = 0.9
    log_value_sd_orders: float = 0.4
    return_rate: float = 0.05  # chance an order is (partly) returned
    full_refund_share: float = 0.01  # customers who return everything they bought, once
    orphan_return_share: float = 0.005  # customers whose first invoice returns an older purchase
    seasonal_amplitude: float = 0.0  # purchase intensity x (1 + A) at the peak (early December)
    wholesaler: bool = False
    seed: int = 0


SHAPES: dict[str, Shape] = {
    "steady": Shape("steady"),
    "mature": Shape(
        "mature", customers=2000, first_join_days=1000, last_join_days=460, orphan_return_share=0.0
    ),
    "small": Shape("small", customers=60, seed=3),
    "wholesaler": Shape("wholesaler", customers=1500, wholesaler=True, seed=4),
    "one_timers": Shape("one_timers", dropout_a=3.0, dropout_b=2.0, rate_mean=1 / 30, seed=5),
    "seasonal": Shape("seasonal", seasonal_amplitude=4.0, seed=6),
}


def _season(dayofyear: np.ndarray, amplitude: float) -> np.ndarray:
    """Relative purchase intensity by day of year: 1, up to 1 + amplitude around December 5."""
    phase = 2 * np.pi * (np.asarray(dayofyear) - 339) / 365.25
    return 1 + amplitude * np.exp(4 * (np.cos(phase) - 1))


def invoices(shape: Shape, as_of: pd.Timestamp = AS_OF) -> pd.DataFrame:
    """Invoices of one synthetic retailer up to the day before ``as_of``.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``invoice_date`` (day), ``amount`` (> 0 purchase, < 0 return),
        ``is_purchase``; sorted by date and customer.
    """
    rng = np.random.default_rng(shape.seed)
    end = shape.first_join_days  # days are counted from the first possible join, as_of = end
    calendar = pd.date_range(as_of - pd.Timedelta(days=end), periods=end + 1, freq="D")
    season = _season(calendar.day_of_year.to_numpy(), shape.seasonal_amplitude)
    peak = 1 + shape.seasonal_amplitude
    rows: list[tuple[int, int, float, bool]] = []
    for c in range(shape.customers):
        cid = 10_000 + c
        join = int(rng.integers(0, max(end - shape.last_join_days, 1)))
        rate = rng.gamma(shape.rate_shape, shape.rate_mean / shape.rate_shape)
        dropout = rng.beta(shape.dropout_a, shape.dropout_b)
        value = rng.normal(shape.log_value_mean, shape.log_value_sd_customers)
        day, days = join, [join]
        if rng.random() < shape.orphan_return_share:
            # Returns an order bought before the data starts, then buys (or not) later.
            rows.append((cid, join, -round(float(np.exp(value)), 2), False))
            day = join = join + int(rng.integers(30, 200))
            days = [join] if join < end else []
        while days and rng.random() > dropout:
            # Thinning: candidate events at the peak rate, each kept with the season's share.
            while True:
                day += max(1, round(rng.exponential(1 / (rate * peak))))
                if day >= end or rng.random() < season[day] / peak:
                    break
            if day >= end:
                break
            days.append(day)
        bought = 0.0
        for d in days:
            amount = round(float(np.exp(rng.normal(value, shape.log_value_sd_orders))), 2)
            bought += amount
            rows.append((cid, d, amount, True))
            if rng.random() < shape.return_rate:
                back = d + int(rng.integers(1, 30))
                if back < end:
                    rows.append((cid, back, -round(amount * rng.uniform(0.1, 1.0), 2), False))
        if days and rng.random() < shape.full_refund_share:
            back = days[-1] + int(rng.integers(1, 20))
            if back < end:
                rows.append((cid, back, -round(bought, 2), False))
    if shape.wholesaler:
        rows += [(99_999, int(d), 35_000.0, True) for d in np.linspace(0, end - 1, 300)]
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "amount", "is_purchase"])
    frame["invoice_date"] = calendar[frame["day"].to_numpy()]
    frame = frame[["customer_id", "invoice_date", "amount", "is_purchase"]]
    return frame.sort_values(["invoice_date", "customer_id"], kind="stable").reset_index(drop=True)


def snapshot(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The RFM mart's columns as of ``as_of`` from the invoices before it.

    Every customer with an invoice before ``as_of`` is a row; one with only returns has
    ``frequency`` 0 and NULL dates. Scores are the SQL's quintile scores over the customers with a
    purchase.
    """
    before = orders.loc[orders["invoice_date"] < as_of]
    purchases = before.loc[before["is_purchase"]].groupby("customer_id")["invoice_date"]
    rfm = pd.DataFrame({"monetary": before.groupby("customer_id")["amount"].sum().round(2)})
    rfm["frequency"] = purchases.size().reindex(rfm.index).fillna(0).astype("int64")
    first, last = purchases.min().reindex(rfm.index), purchases.max().reindex(rfm.index)
    rfm["recency_days"] = (as_of - last).dt.days
    rfm["tenure_days"] = (as_of - first).dt.days
    rfm["average_purchase_gap_days"] = np.where(
        rfm["frequency"] >= 2, (last - first).dt.days / (rfm["frequency"] - 1), np.nan
    )
    rfm = rfm.reset_index()
    bought = rfm["frequency"] >= 1
    for column, descending in (("recency_days", True), ("frequency", False), ("monetary", False)):
        score = np.full(len(rfm), np.nan)
        score[bought.to_numpy()] = quantile_scores(rfm.loc[bought, column], descending=descending)
        rfm[column.replace("_days", "") + "_score"] = score
    return rfm


def with_outcome(
    rfm: pd.DataFrame, orders: pd.DataFrame, start: pd.Timestamp, days: int
) -> pd.DataFrame:
    """Add the backtest outcome over ``[start, start + days)``."""
    window = orders.loc[
        (orders["invoice_date"] >= start)
        & (orders["invoice_date"] < start + pd.Timedelta(days=days))
    ]
    buyers = set(window.loc[window["is_purchase"], "customer_id"])
    revenue = window.groupby("customer_id")["amount"].sum()
    return rfm.assign(
        has_next_period_purchase=rfm["customer_id"].isin(buyers),
        next_period_revenue=rfm["customer_id"].map(revenue).fillna(0.0).to_numpy(),
    )


def snapshots(
    orders: pd.DataFrame, as_of: pd.Timestamp = AS_OF, horizon_days: int = 90
) -> dict[str, pd.DataFrame]:
    """``current`` (as of ``as_of``), ``recent`` and ``earlier`` (one and two horizons before,
    labelled over the following horizon)."""
    cutoff = as_of - pd.Timedelta(days=horizon_days)
    earlier = cutoff - pd.Timedelta(days=horizon_days)
    return {
        "current": snapshot(orders, as_of),
        "recent": with_outcome(snapshot(orders, cutoff), orders, cutoff, horizon_days),
        "earlier": with_outcome(snapshot(orders, earlier), orders, earlier, horizon_days),
    }


def online_retail_invoices(kept_lines: pd.DataFrame) -> pd.DataFrame:
    """Invoices in this module's layout from kept Online Retail lines.

    ``kept_lines`` are the purchase and return lines of ``integration/independent_cleaning.py``
    (``classify``); an invoice is dated by its first line and is a purchase when any line is.
    """
    lines = kept_lines.loc[kept_lines["outcome"].isin(["purchase", "return"])]
    grouped = lines.groupby(["customer_id", "invoice_id"])
    frame = pd.DataFrame(
        {
            "invoice_date": grouped["invoiced_at"].min().dt.normalize(),
            "amount": grouped["line_amount"].sum(),
            "is_purchase": grouped["outcome"].agg(lambda o: bool((o == "purchase").any())),
        }
    ).reset_index()
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame = frame[["customer_id", "invoice_date", "amount", "is_purchase"]]
    return frame.sort_values(["invoice_date", "customer_id"], kind="stable").reset_index(drop=True)


def shape(name: str, **changes: object) -> Shape:
    """A named shape with some parameters changed."""
    return replace(SHAPES[name], **changes)
