"""The personas seed, the rule grammar, the customer measures and the rule personas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from customer_segments.personas import (
    PERSONA_COLUMNS,
    Condition,
    PersonaSettings,
    condition_results,
    customer_measures,
    describe_condition,
    median_profiles,
    parse_rule,
    persona_conditions_table,
    population_reference,
    rule_persona_keys,
    validate_personas,
)

SEED_FILE = Path(__file__).resolve().parents[2] / "seeds" / "cluster_personas.csv"


@pytest.fixture(scope="module")
def personas() -> pd.DataFrame:
    return pd.read_csv(SEED_FILE)


def customers(**columns: list) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "customer_id": list(range(1, n + 1)),
        "recency_days": [10] * n,
        "frequency": [1] * n,
        "monetary": [100.0] * n,
        "tenure_days": [10] * n,
    }
    return pd.DataFrame({**base, **columns})


def test_seed_has_every_column_and_the_product_personas(personas):
    # The columns the library checks, then the one only the SQL backtest reads
    # (fct_segment_backtest.is_name_contradicted): what each name promises, or nothing.
    assert list(personas.columns) == [*PERSONA_COLUMNS, "expected_repeat"]
    promised = personas.set_index("persona_key")["expected_repeat"].dropna()
    assert set(promised) == {"above_base_rate", "below_base_rate"}
    assert promised["high_value"] == "above_base_rate" and promised["at_risk"] == "below_base_rate"
    keys = set(personas["persona_key"])
    assert {"high_value", "at_risk", "occasional", "new", "no_purchase", "refunded"} <= keys
    assert len(personas) >= 12
    for column in ["display_name", "description", "recommended_action", "rule", "conditions"]:
        texts = personas[column]
        assert texts.str.len().gt(0).all() and not texts.str.contains("\n").any(), column
    checked = validate_personas(personas)
    assert checked["match_priority"].is_monotonic_increasing
    assert checked["value_rank"].is_unique


def test_value_rank_orders_personas_by_value(personas):
    rank = personas.set_index("persona_key")["value_rank"]
    # A move from high_value to at_risk, or from anyone to lost, is a downgrade.
    assert rank["high_value"] == rank.min()
    assert rank["high_value"] < rank["loyal"] < rank["at_risk"] < rank["hibernating"] < rank["lost"]
    assert rank["new"] < rank["lost"]
    assert rank["refunded"] > rank["lost"] and rank["no_purchase"] == rank.max()


def test_new_is_tried_first_and_rule_personas_are_per_customer(personas):
    checked = validate_personas(personas)
    assert checked["persona_key"].iloc[0] == "new"
    rules = checked.loc[checked["assigned_by"] == "rule", "persona_key"]
    assert set(rules) == {"refunded", "no_purchase"}


def test_rules_parse_into_conditions_in_original_units():
    conditions = parse_rule(
        "tenure_days <= 2 * new_customer_max_tenure_days and frequency >= 2 "
        "and recency_days > median_recency_days"
    )
    assert conditions == (
        Condition("tenure_days", "<=", 2.0, "new_customer_max_tenure_days"),
        Condition("frequency", ">=", 1.0, "2"),
        Condition("recency_days", ">", 1.0, "median_recency_days"),
    )
    assert conditions[0].threshold({}, PersonaSettings(new_customer_max_tenure_days=30)) == 60
    assert conditions[2].threshold({"median_recency_days": 99.0}, PersonaSettings()) == 99.0
    assert conditions[0].text == "tenure_days <= 2 * new_customer_max_tenure_days"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("frequency >> 2", "cannot read the condition"),
        ("visits >= 2", "unknown measure 'visits'"),
        ("monetary >= p99_monetary", "unknown reference 'p99_monetary'"),
        ("monetary >= big_spender_threshold", "unknown reference"),
        ("", "non-empty"),
    ],
)
def test_bad_rules_are_named(rule, message):
    with pytest.raises(ValueError, match=message):
        parse_rule(rule)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.drop(columns="value_rank"), "missing column.*value_rank"),
        (lambda p: p[p["persona_key"] != "at_risk"], "must define at_risk"),
        (lambda p: p.assign(match_priority=1), "match_priority must be a unique"),
        (lambda p: p.assign(assigned_by="magic"), "assigned_by"),
        (
            lambda p: p.assign(rule=p["rule"].where(p["persona_key"] != "new", "new >= 1")),
            "persona new: unknown measure",
        ),
        (
            lambda p: p.assign(
                rule=p["rule"].where(p["persona_key"] != "refunded", "monetary <= median_monetary")
            ),
            "refunded is assigned by rule per customer",
        ),
    ],
    ids=["missing-column", "missing-key", "priority", "assigned-by", "bad-rule", "rule-statistic"],
)
def test_bad_personas_are_named(personas, change, message):
    with pytest.raises(ValueError, match=message):
        validate_personas(change(personas))


def test_settings_are_checked():
    with pytest.raises(ValueError, match="new_customer_max_tenure_days"):
        PersonaSettings(new_customer_max_tenure_days=0)
    with pytest.raises(ValueError, match="new_customer_max_tenure_days"):
        PersonaSettings(new_customer_max_tenure_days=90.5)
    with pytest.raises(ValueError, match="late_purchase_gap_multiple"):
        PersonaSettings(late_purchase_gap_multiple=-1)


def test_measures_derive_the_purchase_rhythm():
    rfm = customers(
        recency_days=[10, 200, 30, 0, 5, 6],
        frequency=[1, 5, 3, 2, 2, 201],
        tenure_days=[10, 600, 30, 0, 45, 306],
    )
    measures = customer_measures(rfm)
    # (last - first) / (frequency - 1) = (tenure - recency) / (frequency - 1)
    np.testing.assert_allclose(
        measures["average_purchase_gap_days"], [np.nan, 100.0, 0.0, 0.0, 40.0, 1.5]
    )
    # recency / max(gap, 7 days): two orders on one day are late by their recency over a week,
    # and a customer ordering every 1.5 days is not late after 6 days.
    np.testing.assert_allclose(
        measures["gaps_since_last_purchase"], [np.nan, 2.0, 30 / 7, 0.0, 0.125, 6 / 7]
    )
    assert measures["customer_id"].tolist() == rfm["customer_id"].tolist()


def test_a_mart_gap_column_is_used_as_is():
    rfm = customers(
        recency_days=[200], frequency=[5], tenure_days=[600], average_purchase_gap_days=[50.0]
    )
    assert customer_measures(rfm)["gaps_since_last_purchase"].tolist() == [4.0]


def test_customers_without_purchase_have_no_dates_and_no_rhythm():
    rfm = customers(
        recency_days=[np.nan, 3], frequency=[0, 1], monetary=[-20.0, 10.0], tenure_days=[np.nan, 3]
    )
    measures = customer_measures(rfm)
    assert measures["recency_days"].isna().tolist() == [True, False]
    assert measures["gaps_since_last_purchase"].isna().all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"frequency": [-1]}, "frequency must be a count"),
        ({"monetary": [np.nan]}, "monetary has missing"),
        ({"recency_days": [np.nan]}, "recency_days has 1 missing"),
        ({"recency_days": [20], "tenure_days": [10]}, "recency_days exceeds tenure_days"),
        (
            {"frequency": [3], "tenure_days": [30], "average_purchase_gap_days": [np.nan]},
            "average_purchase_gap_days must be >= 0",
        ),
    ],
)
def test_bad_measures_are_named(change, message):
    with pytest.raises(ValueError, match=message):
        customer_measures(customers(**change))


def test_population_statistics_are_quantiles_of_the_measures():
    rng = np.random.default_rng(0)
    rfm = customers(
        recency_days=list(rng.integers(0, 100, 99)),
        frequency=list(rng.integers(1, 9, 99)),
        tenure_days=[400] * 99,
        monetary=list(rng.lognormal(6, 1, 99)),
    )
    measures = customer_measures(rfm)
    reference = population_reference(measures)
    assert reference["median_recency_days"] == np.median(rfm["recency_days"])
    assert reference["p75_monetary"] == pytest.approx(np.quantile(rfm["monetary"], 0.75))
    repeat = measures["gaps_since_last_purchase"].dropna()
    assert len(repeat) < len(rfm)  # one-order customers are left out of the gap statistics
    assert reference["median_gaps_since_last_purchase"] == pytest.approx(repeat.median())


def test_conditions_never_hold_on_missing_values():
    values = pd.DataFrame({"gaps_since_last_purchase": [np.nan, 3.0, 1.0]})
    met, thresholds = condition_results(
        values,
        parse_rule("gaps_since_last_purchase > late_purchase_gap_multiple"),
        {},
        PersonaSettings(),
    )
    assert met[:, 0].tolist() == [False, True, False]
    assert thresholds.tolist() == [2.0]


def test_a_condition_reads_with_its_value_and_bar():
    condition = parse_rule("recency_days > median_recency_days")[0]
    assert describe_condition(condition, 243.5, 99) == (
        "recency_days 243.50 > 99 (median_recency_days)"
    )
    assert describe_condition(condition, 50, 99, met=False) == (
        "recency_days 50, not > 99 (median_recency_days)"
    )


def test_rule_personas_take_refunds_and_returns_only_out(personas):
    rfm = customers(
        recency_days=[np.nan, 5, 5, 5, 5],
        frequency=[0, 3, 1, 1, 12],
        monetary=[-50.0, 0.0, -10.0, 0.01, 50_000.0],
        tenure_days=[np.nan, 100, 5, 5, 300],
    )
    keys = rule_persona_keys(rfm, personas)
    assert keys.tolist() == ["no_purchase", "refunded", "refunded", None, None]


def test_median_profiles_are_per_cluster_medians():
    rfm = customers(
        recency_days=[1, 3, 100, 200, 300],
        frequency=[1, 3, 2, 2, 6],
        tenure_days=[1, 50, 300, 400, 500],
    )
    profiles = median_profiles(customer_measures(rfm), np.array([5, 5, 2, 2, 2]))
    assert profiles.index.tolist() == [2, 5]
    assert profiles.loc[5, "recency_days"] == 2.0
    assert profiles.loc[2, "frequency"] == 2.0
    assert profiles["customer_count"].tolist() == [3, 2]
    assert profiles.loc[5, "repeat_share"] == 0.5
    # Only the repeat member of cluster 5 has a rhythm: (50 - 3) / 2 = 23.5 days.
    assert profiles.loc[5, "average_purchase_gap_days"] == 23.5


def test_the_conditions_table_resolves_every_threshold(personas):
    reference = {
        f"{s}_{m}": 10.0 * i
        for i, (s, m) in enumerate(
            (s, m)
            for s in ("median", "p25", "p75", "p90")
            for m in (
                "recency_days",
                "frequency",
                "monetary",
                "tenure_days",
                "average_purchase_gap_days",
                "gaps_since_last_purchase",
            )
        )
    }
    settings = PersonaSettings(new_customer_max_tenure_days=60)
    table = persona_conditions_table(personas, reference, settings)
    new = table.loc[table["persona_key"] == "new"]
    assert new[["measure", "operator", "threshold"]].values.tolist() == [
        ["tenure_days", "<=", 60.0]
    ]
    promising = table.loc[table["persona_key"] == "promising"].set_index("measure")
    assert promising.loc["tenure_days", "threshold"] == 120.0
    assert promising.loc["gaps_since_last_purchase", "threshold"] == 2.0
    at_risk = table.loc[table["persona_key"] == "at_risk"].set_index("measure")
    assert at_risk.loc["recency_days", "threshold"] == reference["median_recency_days"]
    assert (
        table.groupby("persona_key")["condition_position"]
        .apply(lambda p: p.tolist() == list(range(len(p))))
        .all()
    )
