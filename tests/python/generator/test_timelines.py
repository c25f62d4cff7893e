"""The forward simulation behind the default data (``timelines.py``), on small shops: fast checks
of what the default-size file tests in ``test_generate.py`` can only see through the whole file.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from online_retail_generator import timelines

N_DAYS = 374  # calendar days of the file, as in the Online Retail export
OPEN_DAYS = np.array([day for day in range(N_DAYS) if day % 7 != 5])  # closed one day a week
FLAT = np.ones(OPEN_DAYS.size)


def simulate(seed: int, n: int = 400, intensity: np.ndarray = FLAT, **all_year):
    return timelines.simulate_timelines(
        np.random.default_rng(seed), n, intensity, OPEN_DAYS, N_DAYS, **all_year
    )


def per_customer(lives: timelines.Timelines) -> list[np.ndarray]:
    starts = np.concatenate([[0], np.cumsum(lives.frequency)[:-1]])
    return [lives.position[s : s + f] for s, f in zip(starts, lives.frequency, strict=True)]


def test_the_same_seed_gives_the_same_shop_and_another_seed_another():
    first, again, other = simulate(3), simulate(3), simulate(4)
    for field in fields(timelines.Timelines):
        assert np.array_equal(getattr(first, field.name), getattr(again, field.name)), field.name
    assert not np.array_equal(first.position, other.position)


def test_every_customer_buys_in_the_file_in_time_order_within_its_open_days():
    lives = simulate(5, n=600)
    assert lives.kind.size == 600 and (lives.frequency >= 1).all()
    assert lives.position.size == lives.frequency.sum()
    assert lives.position.min() >= 0 and lives.position.max() < OPEN_DAYS.size
    assert all((np.diff(orders) >= 0).all() for orders in per_customer(lives))


def test_take_keeps_each_customer_with_their_own_orders():
    lives = simulate(6)
    head = lives.take(10)
    assert head.kind.size == 10
    assert [list(orders) for orders in per_customer(head)] == [
        list(orders) for orders in per_customer(lives)[:10]
    ]


def test_new_means_a_first_order_ever_within_the_last_90_days():
    lives = simulate(7, n=2_000)
    first_day = OPEN_DAYS[[orders[0] for orders in per_customer(lives)]]
    tenure = N_DAYS - first_day  # days from the first order to the day after the file
    is_new = lives.persona == timelines.PERSONA_KEYS.index("new")
    joined_in_file = ~lives.was_customer_before
    assert is_new.any()
    assert (tenure[is_new] <= timelines.NEW_CUSTOMER_DAYS).all()
    assert not is_new[lives.was_customer_before].any()
    # Every customer who joined in the last 90 days is new; one who joined before is not.
    recent = joined_in_file & (tenure <= timelines.NEW_CUSTOMER_DAYS)
    assert np.array_equal(is_new, recent)


def test_states_follow_kind_and_stopping():
    lives = simulate(8, n=2_000)
    keys = np.array(timelines.PERSONA_KEYS)[lives.persona]
    kinds = np.array(timelines.KIND_KEYS)[lives.kind]
    settled = keys != "new"
    assert set(keys[settled & (kinds == "light")]) == {"occasional"}
    frequent = settled & (kinds == "frequent")
    assert (keys[frequent & lives.has_stopped] == "at_risk").all()
    assert (keys[frequent & ~lives.has_stopped] == "high_value").all()


def test_the_season_moves_orders_and_first_orders_towards_its_peak():
    autumn = np.where(OPEN_DAYS >= N_DAYS - 120, 3.0, 1.0)
    lives = simulate(9, n=3_000, intensity=autumn)
    in_autumn = OPEN_DAYS[lives.position] >= N_DAYS - 120
    # The last 120 days are 32% of the year; at three times the intensity they hold about 59%.
    assert in_autumn.mean() > 0.5
    flat = simulate(9, n=3_000)
    assert (OPEN_DAYS[flat.position] >= N_DAYS - 120).mean() < 0.4


# (400, 3): enough alive frequent customers of the old base; (80, 10): too few (4 at seed 10), so
# the others come from the fallbacks, and must become old, alive, frequent customers too.
@pytest.mark.parametrize(("n", "wholesalers"), [(400, 3), (80, 10)])
def test_all_year_buyers_are_alive_frequent_old_customers_buying_up_to_the_last_day(n, wholesalers):
    lives = simulate(10, n=n, n_wholesalers=wholesalers, n_super_frequent=1)
    orders = per_customer(lives)
    for group, (low, high) in ((1, (20, 90)), (2, (150, 211))):
        chosen = np.flatnonzero(lives.all_year == group)
        assert chosen.size == (wholesalers if group == 1 else 1)
        for customer in chosen:
            assert low <= lives.frequency[customer] < high
            assert orders[customer][-1] == OPEN_DAYS.size - 1
            assert lives.was_customer_before[customer] and not lives.has_stopped[customer]
            assert timelines.KIND_KEYS[lives.kind[customer]] == "frequent"
            assert timelines.PERSONA_KEYS[lives.persona[customer]] == "high_value"


def test_positions_between_stays_in_its_half_open_range_and_follows_the_weights():
    rng = np.random.default_rng(11)
    weights = np.array([1.0, 0.0, 3.0, 1.0])
    cumulative = np.concatenate([[0.0], np.cumsum(weights)])
    drawn = timelines.positions_between(
        rng, cumulative, np.zeros(20_000, np.int64), np.full(20_000, 3, np.int64)
    )
    counts = np.bincount(drawn, minlength=4)
    assert counts[3] == 0 and counts[1] == 0  # hi is excluded; a day of weight 0 is never drawn
    assert counts[2] / counts[0] == pytest.approx(3.0, rel=0.1)
