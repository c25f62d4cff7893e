"""RFM marts with planted groups of customers, for the clustering and acceptance tests.

Plain numpy and pandas (no project import), so the same data can be run through an older
version of the library to show that a test fails under its rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Group:
    """How one planted group buys: ranges are [low, high) integers, money is log-normal."""

    recency: tuple[int, int]  # days since the last purchase
    span: tuple[int, int]  # days between the first and the last purchase
    invoices: tuple[int, int]  # purchase invoices
    log_money: float  # mean of log(net revenue)
    log_money_sd: float = 0.5


# The product's four personas, well separated.
PRODUCT = {
    "high_value": Group((0, 25), (250, 350), (15, 60), 8.8),
    "at_risk": Group((150, 300), (60, 120), (5, 15), 7.6),
    "occasional": Group((40, 120), (150, 250), (2, 4), 6.0),
    "new": Group((0, 30), (0, 10), (1, 2), 5.8),
}
# A retailer whose customers all joined more than 15 months (456 days) ago.
MATURE = {
    "high_value": Group((0, 25), (480, 700), (15, 60), 8.8),
    "at_risk": Group((150, 300), (320, 500), (5, 15), 7.6),
    "occasional": Group((30, 90), (450, 650), (2, 4), 6.0),
    "lost": Group((470, 700), (0, 1), (1, 2), 5.5),
}
# Every group bought recently; two of them often.
RECENT = {
    "high_value": Group((0, 20), (250, 350), (20, 60), 8.8),
    "loyal": Group((10, 40), (250, 350), (8, 14), 7.4),
    "occasional": Group((20, 60), (150, 250), (2, 4), 6.0),
    "new": Group((0, 30), (0, 10), (1, 2), 5.8),
}
# Extreme wholesalers: frequent, recent, a hundred times the high-value revenue.
FAR_OUT = Group((0, 10), (300, 360), (150, 300), 13.5, 0.3)
# Two obvious groups: new one-order customers and long-standing regulars on their weekly rhythm.
TWO_GROUPS = {
    "new": Group((0, 30), (0, 1), (1, 2), 5.0, 0.3),
    "high_value": Group((0, 12), (300, 360), (30, 60), 9.5, 0.3),
}


def planted_rfm(
    groups: dict[str, Group],
    n_per: int | dict[str, int] = 150,
    seed: int = 0,
    first_id: int = 12346,
) -> pd.DataFrame:
    """An RFM mart with ``n_per`` customers per group (or per group name); ``planted`` names
    each one's group."""
    rng = np.random.default_rng(seed)
    frames = []
    sizes = n_per if isinstance(n_per, dict) else dict.fromkeys(groups, n_per)
    first = first_id
    for name, group in groups.items():
        n_per = sizes[name]
        recency = rng.integers(*group.recency, n_per)
        invoices = rng.integers(*group.invoices, n_per)
        span = np.where(invoices > 1, rng.integers(*group.span, n_per), 0)
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": first + np.arange(n_per),
                    "recency_days": recency,
                    "tenure_days": recency + span,
                    "frequency": invoices,
                    "monetary": np.round(
                        rng.lognormal(group.log_money, group.log_money_sd, n_per), 2
                    ),
                    "planted": name,
                }
            )
        )
        first += n_per
    return pd.concat(frames, ignore_index=True)


def with_far_out_group(rfm: pd.DataFrame, n: int = 6, seed: int = 1) -> pd.DataFrame:
    """Add ``n`` extreme wholesalers, planted as ``high_value``."""
    far = planted_rfm(
        {"high_value": FAR_OUT}, n_per=n, seed=seed, first_id=int(rfm["customer_id"].max()) + 1
    )
    return pd.concat([rfm, far], ignore_index=True)
