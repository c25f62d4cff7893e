"""CRM audiences: one list per persona and per downgrade move, with the persona verdict."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from customer_segments.audiences import AUDIENCE_COLUMNS, audience_frames, write_audiences


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "country": ["United Kingdom", "France", "EIRE", "Germany"],
            "persona_key": ["new", "new", "at_risk", "refunded"],
            "persona_name": ["New customers", "New customers", "At-risk customers", "Refunded"],
            "meets_persona_conditions": [True, False, True, True],
            # Each customer's first match by the seed's conditions, whatever their cluster.
            "matched_persona_key": ["new", "occasional", "at_risk", "refunded"],
            "monetary": [120.0, 300.0, 900.0, 0.0],
            "recency_days": [10, 70, 200, 40],
            "next_purchase_probability": [0.4, 0.3, 0.1, 0.05],
        }
    )


def _moves() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [3],
            "from_persona": ["high_value"],
            "to_persona": ["at_risk"],
            "is_downgrade": [True],
        }
    )


def test_each_persona_and_downgrade_gets_a_list_with_the_verdict_per_customer():
    audiences = audience_frames(_customers(), _moves())
    assert sorted(audiences) == [
        "downgrade_high_value_to_at_risk",
        "matched_at_risk",
        "matched_new",
        "matched_occasional",
        "matched_refunded",
        "persona_at_risk",
        "persona_new",
        "persona_refunded",
    ]
    new = audiences["persona_new"]
    assert list(new.columns) == list(AUDIENCE_COLUMNS)
    # Highest net revenue first; the member who does not meet `new` is there and says so.
    assert new["customer_id"].tolist() == [2, 1]
    assert new["meets_persona_conditions"].tolist() == [False, True]
    assert audiences["downgrade_high_value_to_at_risk"]["customer_id"].tolist() == [3]


def test_a_warehouse_without_the_verdict_still_gets_its_lists(tmp_path: Path):
    older = _customers().drop(
        columns=["meets_persona_conditions", "matched_persona_key", "next_purchase_probability"]
    )
    written = write_audiences(older, _moves(), tmp_path)
    lists = {path.stem: pd.read_csv(path) for path in written}
    assert "meets_persona_conditions" not in lists["persona_new"].columns
    assert lists["persona_new"]["customer_id"].tolist() == [2, 1]
    assert not any(stem.startswith("matched_") for stem in lists)


def test_matched_lists_reach_everyone_who_fits_whatever_their_cluster():
    customers = _customers()
    customers.loc[3, ["persona_key", "matched_persona_key"]] = ["segment_3", "new"]
    audiences = audience_frames(customers, _moves())
    # Customer 2 is in the `new` cluster without meeting its conditions; customer 4 meets them
    # from an unnamed cluster: the matched list has customer 4 and not customer 2.
    assert audiences["matched_new"]["customer_id"].tolist() == [1, 4]
    assert audiences["persona_new"]["customer_id"].tolist() == [2, 1]
    assert audiences["matched_occasional"]["customer_id"].tolist() == [2]
