"""The personas seed and the one-to-one naming of clusters."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from customer_segments.naming import PERSONA_COLUMNS, name_clusters

SEED_FILE = Path(__file__).resolve().parents[2] / "seeds" / "cluster_personas.csv"
FEATURES = ["recency", "frequency", "monetary", "tenure"]
EXPECTED = [f"expected_{f}" for f in FEATURES]
Z = [f"{f}_z" for f in FEATURES]
PRODUCT_PERSONAS = {"occasional", "high_value", "at_risk", "new"}


@pytest.fixture(scope="module")
def personas() -> pd.DataFrame:
    return pd.read_csv(SEED_FILE)


def profiles_of(
    personas: pd.DataFrame, keys: list[str], noise: float = 0.0, seed: int = 0
) -> pd.DataFrame:
    """Centroid profiles placed at the expected profiles of ``keys`` (plus noise), ids 0..k-1."""
    rng = np.random.default_rng(seed)
    values = personas.set_index("persona_key").loc[keys, EXPECTED].to_numpy()
    return pd.DataFrame(values + rng.normal(0, noise, values.shape), columns=Z)


def test_seed_has_the_product_personas_first_and_one_line_texts(personas):
    assert list(personas.columns[: len(PERSONA_COLUMNS)]) == list(PERSONA_COLUMNS)
    assert set(EXPECTED) <= set(personas.columns)
    assert personas["persona_key"].is_unique and personas["persona_rank"].is_unique
    assert len(personas) >= 10
    first_four = personas.nsmallest(4, "persona_rank")["persona_key"]
    assert set(first_four) == PRODUCT_PERSONAS
    for column in ["display_name", "description", "recommended_action"]:
        texts = personas[column]
        assert texts.str.len().gt(0).all() and not texts.str.contains("\n").any(), column


def test_seed_profiles_are_distinct_and_make_sense(personas):
    values = personas[EXPECTED].to_numpy()
    gaps = np.linalg.norm(values[:, None] - values[None], axis=2)
    np.fill_diagonal(gaps, np.inf)
    assert gaps.min() > 0.5
    by_key = personas.set_index("persona_key")
    # The directions the product promises: high_value buys often and big and recently...
    assert (by_key.loc["high_value", ["expected_frequency", "expected_monetary"]] > 0).all()
    assert by_key.loc["high_value", "expected_recency"] < 0
    # ...at_risk used to buy often but not lately; new customers have the shortest tenure.
    assert (by_key.loc["at_risk", ["expected_recency", "expected_frequency"]] > 0).all()
    assert by_key["expected_tenure"].idxmin() == "new"


@pytest.mark.parametrize("k", [2, 4, 7, 10])
def test_centroids_near_a_persona_get_its_name(personas, k):
    # The candidates for k clusters are the max(k, 4) personas of lowest rank, in any order.
    pool = personas.nsmallest(max(k, 4), "persona_rank")
    keys = pool.sample(n=k, random_state=k)["persona_key"].tolist()
    names = name_clusters(profiles_of(personas, keys, noise=0.1, seed=k), personas)
    assert names == dict(enumerate(keys))


def test_names_do_not_depend_on_cluster_order(personas):
    rng = np.random.default_rng(0)
    for k in range(2, 11):
        profiles = pd.DataFrame(rng.normal(0, 1, (k, 4)), columns=Z, index=range(100, 100 + k))
        names = name_clusters(profiles, personas)
        for seed in range(3):
            permuted = profiles.sample(frac=1.0, random_state=seed)
            assert name_clusters(permuted, personas) == names


def test_assignment_is_optimal_one_to_one(personas):
    rng = np.random.default_rng(1)
    pool = personas.set_index("persona_key")[EXPECTED]
    for _ in range(5):
        profiles = pd.DataFrame(rng.normal(0, 1, (3, 4)), columns=Z)
        names = name_clusters(profiles, personas, min_pool_size=len(personas))
        assert len(set(names.values())) == 3

        def cost(keys) -> float:
            return float(((profiles.to_numpy() - pool.loc[list(keys)].to_numpy()) ** 2).sum())

        best = min(cost(p) for p in itertools.permutations(pool.index, 3))
        assert cost([names[i] for i in range(3)]) == pytest.approx(best)


def test_up_to_four_clusters_are_named_among_the_product_personas(personas):
    rng = np.random.default_rng(2)
    for k in (2, 3, 4):
        names = name_clusters(pd.DataFrame(rng.normal(0, 1.5, (k, 4)), columns=Z), personas)
        assert set(names.values()) <= PRODUCT_PERSONAS
    # A cluster that looks like lost customers is named among all personas only if allowed.
    lost = profiles_of(personas, ["lost", "high_value"])
    assert name_clusters(lost, personas)[0] != "lost"
    assert name_clusters(lost, personas, min_pool_size=10)[0] == "lost"


def test_every_k_up_to_ten_gets_distinct_names(personas):
    rng = np.random.default_rng(3)
    for k in range(2, 11):
        names = name_clusters(pd.DataFrame(rng.normal(0, 1, (k, 4)), columns=Z), personas)
        assert sorted(names) == list(range(k))
        assert len(set(names.values())) == k


def test_the_cluster_id_column_is_used_when_present(personas):
    table = profiles_of(personas, ["new", "high_value"]).assign(cluster_id=[7, 3], persona_key="x")
    assert name_clusters(table, personas) == {7: "new", 3: "high_value"}


def test_more_clusters_than_personas_fail(personas):
    profiles = pd.DataFrame(np.zeros((11, 4)), columns=Z)
    with pytest.raises(ValueError, match="11 clusters but only 10 personas"):
        name_clusters(profiles, personas)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.drop(columns="expected_tenure"), "missing column.*expected_tenure"),
        (lambda p: p.assign(persona_key="same"), "persona_key must be unique"),
        (lambda p: p.assign(expected_monetary=np.nan), "missing or non-numeric expected"),
    ],
    ids=["missing-column", "duplicate-key", "nan-profile"],
)
def test_bad_personas_are_named(personas, change, message):
    with pytest.raises(ValueError, match=message):
        name_clusters(profiles_of(personas, ["new", "at_risk"]), change(personas))
