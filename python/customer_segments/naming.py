"""Name clusters after marketing personas.

Each persona in the ``cluster_personas`` seed carries an expected profile: one
``expected_<feature>`` column per model feature (``expected_recency``, ``expected_frequency``,
``expected_monetary``, ``expected_tenure``), in the same model-space z-units as the centroids
(0 = the average customer, negative = low, positive = high; high recency means *long ago*).
Both sides are thus on one comparable scale, and the cost of giving cluster c persona p is the
squared Euclidean distance between c's centroid z-scores and p's expected profile.

:func:`name_clusters` solves the one-to-one assignment of minimal total cost
(:func:`scipy.optimize.linear_sum_assignment`), so two clusters never share a name. The candidate
personas are the ``max(k, min_pool_size)`` with the lowest ``persona_rank``: with the default
``min_pool_size=4`` and the seed's ranks, up to four clusters are always named among the
product's four personas (``high_value``, ``at_risk``, ``occasional``, ``new``), and the extra
personas come in, in rank order, only when k exceeds four. Clusters are sorted by their
coordinates before solving, so the names never depend on the order in which clusters are listed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

__all__ = ["PERSONA_COLUMNS", "expected_columns", "name_clusters", "validate_personas"]

PERSONA_COLUMNS: tuple[str, ...] = (
    "persona_key",
    "persona_rank",
    "display_name",
    "description",
    "recommended_action",
)


def expected_columns(features: list[str]) -> list[str]:
    """Persona columns holding the expected profile of ``features`` (``expected_<feature>``)."""
    return [f"expected_{f}" for f in features]


def validate_personas(personas: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Check a personas table and return it sorted by ``persona_rank``.

    Parameters
    ----------
    personas : pandas.DataFrame
        The ``cluster_personas`` seed: :data:`PERSONA_COLUMNS` plus ``expected_<feature>``.
    features : list of str
        Model features the profiles must cover, e.g. ``["recency", "frequency", ...]``.

    Raises
    ------
    ValueError
        Naming missing columns, duplicate keys or ranks, or missing expected values.
    """
    if not isinstance(personas, pd.DataFrame):
        raise ValueError(f"expected the personas as a DataFrame, got {type(personas).__name__}")
    required = [*PERSONA_COLUMNS, *expected_columns(features)]
    missing = [c for c in required if c not in personas.columns]
    if missing:
        raise ValueError(f"the personas table is missing column(s) {', '.join(missing)}")
    if personas.empty:
        raise ValueError("the personas table has no rows")
    keys = personas["persona_key"]
    if keys.isna().any() or keys.duplicated().any():
        raise ValueError("persona_key must be unique and not null in the personas table")
    if personas["persona_rank"].isna().any() or personas["persona_rank"].duplicated().any():
        raise ValueError("persona_rank must be unique and not null in the personas table")
    expected = personas[expected_columns(features)].apply(pd.to_numeric, errors="coerce")
    if not np.isfinite(expected.to_numpy(dtype=float)).all():
        raise ValueError("the personas table has missing or non-numeric expected_* values")
    return personas.sort_values("persona_rank", kind="stable").reset_index(drop=True)


def name_clusters(
    centroid_profiles: pd.DataFrame,
    personas: pd.DataFrame,
    *,
    min_pool_size: int = 4,
) -> dict[int, str]:
    """Give each cluster a distinct persona by optimal one-to-one assignment.

    Parameters
    ----------
    centroid_profiles : pandas.DataFrame, shape (k, n_features)
        Centroids in z-units, one row per cluster, columns ``<feature>_z``; cluster ids are the
        ``cluster_id`` column if present, else the index. Other columns are ignored.
    personas : pandas.DataFrame
        The ``cluster_personas`` seed (see :func:`validate_personas`).
    min_pool_size : int, optional
        The candidate personas are the ``max(k, min_pool_size)`` lowest ``persona_rank`` ones.

    Returns
    -------
    dict of int to str
        ``cluster_id -> persona_key``, one distinct persona per cluster.

    Raises
    ------
    ValueError
        More clusters than personas, or profiles and personas that do not match.
    """
    profiles = centroid_profiles
    if "cluster_id" in profiles.columns:
        profiles = profiles.set_index("cluster_id")
    model_cols = [c for c in profiles.columns if str(c).endswith("_z")]
    if not model_cols:
        raise ValueError("centroid profiles need model-space columns named <feature>_z")
    features = [str(c)[: -len("_z")] for c in model_cols]
    personas = validate_personas(personas, features)
    k = len(profiles)
    if k > len(personas):
        raise ValueError(
            f"{k} clusters but only {len(personas)} personas: add personas to the seed or lower k"
        )
    pool = personas.head(max(k, int(min_pool_size)))
    values = profiles[model_cols].to_numpy(dtype=float)
    # Solving on clusters in coordinate order makes the answer independent of the input order.
    order = np.lexsort(np.round(values, 9).T[::-1])
    expected = pool[expected_columns(features)].to_numpy(dtype=float)
    cost = ((values[order, None, :] - expected[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    cluster_ids = profiles.index.to_numpy()[order]
    keys = pool["persona_key"].to_numpy()
    return {int(cluster_ids[r]): str(keys[c]) for r, c in zip(rows, cols)}
