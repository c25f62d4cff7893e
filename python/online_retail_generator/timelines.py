"""Customer timelines simulated forward in time, as a shop's customers come, buy and go.

The default data has to behave like a real shop over time, not only on its last day: the
product's backtest fits as of a past date and judges what customers did next, so a file whose
customers were planted by their state on the last day (and whose orders were spread before it)
teaches the backtest nothing true. Here every customer buys as in the buy-till-you-die models
of the literature (Schmittlein, Morrison & Colombo's Pareto/NBD): while alive they buy at their
own rate, scaled by the season; each lives an exponentially distributed lifetime. The shop is in
a steady state: customers joined at the same pace for years before the file starts, so the file
opens on a base of existing customers (whose first order in the file is not their first) and
new customers keep joining through the year.

Two kinds of customer differ in how often they buy and how long they stay:

* ``light``: a few orders a year, small baskets;
* ``frequent``: an order every few weeks, larger baskets; among them the wholesalers and the
  two super-frequent shoppers of the real file, who stay for the whole year.

The persona each customer is written with is their state on the last day (``AS_OF_DATE``):

=================  ===========================================================================
``new``            first order ever within the last ``NEW_CUSTOMER_DAYS`` days
``high_value``     a frequent customer still alive
``at_risk``        a frequent customer who has stopped (their lifetime ended before the last day)
``occasional``     a light customer (alive or not)
=================  ===========================================================================

These are states of one continuous process, so they overlap where the process does: a frequent
customer who stopped last week still looks active, and a light one who just bought looks like
the rest of their kind only by how few orders they have.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = [
    "KIND_KEYS",
    "NEW_CUSTOMER_DAYS",
    "PERSONA_KEYS",
    "Timelines",
    "positions_between",
    "simulate_timelines",
]

PERSONA_KEYS = ("occasional", "high_value", "at_risk", "new")
KIND_KEYS = ("light", "frequent")
# A customer is new while their first order ever is at most this many days old (the product's
# default new_customer_max_tenure_days).
NEW_CUSTOMER_DAYS = 90

# Shares of the two kinds among the customers who join (the frequent ones live shorter, so
# they are a smaller share of the base than of the joiners).
FREQUENT_JOIN_SHARE = 0.30
# Orders per open day at the season's average, mean over customers of the kind; each customer's
# own rate is gamma-distributed around it with this shape (smaller = more spread).
MEAN_RATE = {"light": 1 / 120, "frequent": 1 / 20}
RATE_SHAPE = {"light": 2.0, "frequent": 2.5}
# Time runs in open days (the file has 306 of them in its 374 calendar days, about 0.82 per
# calendar day), so these are longer in calendar time than their numbers say.
# Mean lifetime in open days (exponential: the chance to stop is the same every day): about
# 2.0 calendar years for light customers, 15 months for frequent ones.
MEAN_LIFETIME_OPEN_DAYS = {"light": 600.0, "frequent": 365.0}
# Open days of steady joining before the file starts (about 6 calendar years): three mean
# lifetimes of a light customer, so the base is within about 5% of its steady state
# (e^-3 of the light customers who would have joined earlier and still be alive are missing).
BURN_IN_OPEN_DAYS = 5 * 365


@dataclass(frozen=True)
class Timelines:
    """Who the file's customers are and when they buy, for ``n`` customers.

    Attributes
    ----------
    kind : numpy.ndarray of int, shape (n,)
        Index into :data:`KIND_KEYS`.
    persona : numpy.ndarray of int, shape (n,)
        Index into :data:`PERSONA_KEYS`: the state on the last day.
    frequency : numpy.ndarray of int, shape (n,)
        Purchase invoices in the file, at least 1.
    position : numpy.ndarray of int, shape (frequency.sum(),)
        Open-day position (index into the calendar's open days) of every purchase, customer by
        customer (the ``frequency[0]`` first belong to customer 0), ascending within a customer.
    was_customer_before : numpy.ndarray of bool, shape (n,)
        Joined before the file starts (their first order in the file is not their first).
    has_stopped : numpy.ndarray of bool, shape (n,)
        Their lifetime ended before the last day: they will not buy again.
    all_year : numpy.ndarray of int, shape (n,)
        0, or the 1-based group of ``simulate_timelines``'s all-year buyers (1 = wholesalers,
        2 = super-frequent shoppers).
    """

    kind: np.ndarray
    persona: np.ndarray
    frequency: np.ndarray
    position: np.ndarray
    was_customer_before: np.ndarray
    has_stopped: np.ndarray
    all_year: np.ndarray

    def take(self, count: int) -> Timelines:
        """The first ``count`` customers."""
        n_positions = int(self.frequency[:count].sum())
        return Timelines(
            kind=self.kind[:count],
            persona=self.persona[:count],
            frequency=self.frequency[:count],
            position=self.position[:n_positions],
            was_customer_before=self.was_customer_before[:count],
            has_stopped=self.has_stopped[:count],
            all_year=self.all_year[:count],
        )


def _concatenate(parts: list[Timelines]) -> Timelines:
    return Timelines(
        **{
            field.name: np.concatenate([getattr(part, field.name) for part in parts])
            for field in fields(Timelines)
        }
    )


def positions_between(
    rng: np.random.Generator, cumulative: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Open-day positions in [lo, hi), one per row, in proportion to each day's intensity.

    ``cumulative`` is the running sum of the days' intensities, starting at 0 (length: open
    days + 1); every ``hi`` must be above its ``lo``.
    """
    u = cumulative[lo] + rng.random(lo.size) * (cumulative[hi] - cumulative[lo])
    return np.clip(np.searchsorted(cumulative, u, side="right") - 1, lo, hi - 1)


def simulate_timelines(
    rng: np.random.Generator,
    n: int,
    intensity: np.ndarray,
    open_days: np.ndarray,
    n_days: int,
    *,
    n_wholesalers: int = 0,
    n_super_frequent: int = 0,
    wholesaler_orders: tuple[int, int] = (20, 90),
    super_frequent_orders: tuple[int, int] = (150, 211),
) -> Timelines:
    """Simulate the shop until ``n`` customers have bought at least once in the file's year.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Customers wanted (each with at least one purchase in the file).
    intensity : numpy.ndarray of float, shape (n_open_days,)
        Relative purchase intensity of every open day of the file (the season), any scale.
        Time runs in open days: rates are per open day of average intensity.
    open_days : numpy.ndarray of int, shape (n_open_days,)
        Day of each open day, counted from the file's first day (ascending).
    n_days : int
        Days from the file's first day to the day after its last (``AS_OF_DATE``).
    n_wholesalers, n_super_frequent : int
        Customers of the old base who buy all year, up to the last day, with this many orders
        (drawn uniformly from the half-open ranges ``wholesaler_orders`` and
        ``super_frequent_orders``): the real file's wholesalers and super-frequent shoppers.

    Returns
    -------
    Timelines
        Customers in the order they were drawn; their purchases are in the file's year only.
    """
    weights = np.asarray(intensity, dtype=float)
    weights = weights / weights.mean()
    cumulative = np.concatenate([[0.0], np.cumsum(weights)])
    parts: list[Timelines] = []
    found = 0
    while found < n:
        batch = _simulate_batch(rng, max(2 * (n - found), 64), cumulative, open_days, n_days)
        part = batch.take(min(n - found, batch.kind.size))
        parts.append(part)
        found += part.kind.size
    timelines = _concatenate(parts)
    groups = [(n_wholesalers, wholesaler_orders), (n_super_frequent, super_frequent_orders)]
    if n_wholesalers or n_super_frequent:
        timelines = _all_year_buyers(rng, timelines, cumulative, groups)
    return timelines


def _simulate_batch(
    rng: np.random.Generator,
    m: int,
    cumulative: np.ndarray,
    open_days: np.ndarray,
    n_days: int,
) -> Timelines:
    """``m`` customers of the steady state; those with a purchase in the file, in order."""
    n_open = cumulative.size - 1
    # Customers join at a steady pace over the burn-in and the file (a burn-in day counts as
    # an open day of average intensity); inside the file in proportion to the season, so that
    # more new customers come before Christmas.
    join = rng.random(m) * (BURN_IN_OPEN_DAYS + n_open) - BURN_IN_OPEN_DAYS
    before = join < 0
    n_inside = int((~before).sum())
    join[~before] = positions_between(
        rng, cumulative, np.zeros(n_inside, np.int64), np.full(n_inside, n_open, np.int64)
    )
    frequent = rng.random(m) < FREQUENT_JOIN_SHARE
    kind = np.where(frequent, KIND_KEYS.index("frequent"), KIND_KEYS.index("light"))
    shape = np.where(frequent, RATE_SHAPE["frequent"], RATE_SHAPE["light"])
    mean_rate = np.where(frequent, MEAN_RATE["frequent"], MEAN_RATE["light"])
    rate = rng.gamma(shape, mean_rate / shape)
    end = join + rng.exponential(
        np.where(frequent, MEAN_LIFETIME_OPEN_DAYS["frequent"], MEAN_LIFETIME_OPEN_DAYS["light"])
    )
    # Alive inside the file on positions [lo, hi): the repeat orders fall there (a Poisson
    # process at the customer's rate times the season), after the first order on the day a
    # customer joins inside the file.
    lo = np.ceil(np.maximum(join, 0)).astype(np.int64)
    hi = np.clip(np.ceil(np.minimum(end, n_open)).astype(np.int64), lo, n_open)
    is_first_inside = ~before
    repeats = rng.poisson(rate * (cumulative[hi] - cumulative[lo]))
    frequency = repeats + is_first_inside
    keep = frequency > 0
    kind, frequency, lo, hi = kind[keep], frequency[keep], lo[keep], hi[keep]
    before, end, is_first_inside = before[keep], end[keep], is_first_inside[keep]

    starts = np.concatenate([[0], np.cumsum(frequency)[:-1]])
    owner = np.repeat(np.arange(frequency.size), frequency)
    rank = np.arange(owner.size) - starts[owner]
    # Every customer kept has hi > lo: one who joins inside the file joins on a whole position
    # and lives a moment at least, so hi >= lo + 1; one who joined before has orders only if
    # they were alive for some of the file.
    assert (hi > lo).all(), "a customer with orders has no day alive in the file"
    position = positions_between(rng, cumulative, lo[owner], hi[owner])
    position = np.where((rank == 0) & is_first_inside[owner], lo[owner], position)
    position = position[np.lexsort((position, owner))]

    has_stopped = end < n_open
    persona = np.where(
        kind == KIND_KEYS.index("light"),
        PERSONA_KEYS.index("occasional"),
        np.where(has_stopped, PERSONA_KEYS.index("at_risk"), PERSONA_KEYS.index("high_value")),
    )
    join_day = open_days[np.minimum(lo, n_open - 1)]
    persona = np.where(
        is_first_inside & (join_day >= n_days - NEW_CUSTOMER_DAYS),
        PERSONA_KEYS.index("new"),
        persona,
    )
    return Timelines(
        kind=kind.astype(np.int64),
        persona=persona.astype(np.int64),
        frequency=frequency.astype(np.int64),
        position=position.astype(np.int64),
        was_customer_before=before,
        has_stopped=has_stopped,
        all_year=np.zeros(kind.size, dtype=np.int64),
    )


def _all_year_buyers(
    rng: np.random.Generator,
    timelines: Timelines,
    cumulative: np.ndarray,
    groups: list[tuple[int, tuple[int, int]]],
) -> Timelines:
    """Give some customers of the old base a whole year of orders, up to the last day.

    They are taken from the frequent customers still alive who were customers before the file
    starts (then, when there are too few of those in a small file, any alive frequent customer,
    then anyone not new), and become frequent, alive, ``high_value`` customers of the old base:
    their orders run from the file's first day to its last.
    """
    n_open = cumulative.size - 1
    frequency = timelines.frequency.copy()
    persona = timelines.persona.copy()
    all_year = np.zeros(frequency.size, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(frequency)[:-1]])
    per_customer = [timelines.position[s : s + f] for s, f in zip(starts, frequency, strict=True)]
    high_value = persona == PERSONA_KEYS.index("high_value")
    preference = [
        high_value & timelines.was_customer_before,
        high_value,
        persona != PERSONA_KEYS.index("new"),
    ]
    order = np.concatenate([rng.permutation(np.flatnonzero(mask)) for mask in preference])
    _, first_seen = np.unique(order, return_index=True)
    chosen = order[np.sort(first_seen)]
    at = 0
    for group, (count, (low, high)) in enumerate(groups, start=1):
        for customer in chosen[at : at + count]:
            orders = int(rng.integers(low, high))
            spread = positions_between(
                rng, cumulative, np.zeros(orders, np.int64), np.full(orders, n_open, np.int64)
            )
            spread[-1] = n_open - 1  # still buying on the last day
            per_customer[customer] = np.sort(spread)
            frequency[customer] = orders
            persona[customer] = PERSONA_KEYS.index("high_value")
            all_year[customer] = group
        at += count
    return Timelines(
        kind=np.where(all_year > 0, KIND_KEYS.index("frequent"), timelines.kind),
        persona=persona,
        frequency=frequency,
        position=np.concatenate(per_customer),
        was_customer_before=timelines.was_customer_before | (all_year > 0),
        has_stopped=timelines.has_stopped & (all_year == 0),
        all_year=all_year,
    )
