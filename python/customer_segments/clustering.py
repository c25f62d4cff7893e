"""Customer segmentation end to end, as four tables that each step returns on its own.

A dbt Python model returns one DataFrame, so the pipeline is four composable steps, each reading
what the previous ones wrote:

=====================  ======================================  ==============================
step                   inputs                                  table
=====================  ======================================  ==============================
fit_feature_transform  rfm                                     ``cluster_feature_transform``
build_k_evaluation     rfm, feature transform                  ``cluster_k_evaluation``
build_centroids        rfm, feature transform, evaluation,     ``cluster_centroids``
                       personas
build_customer_        rfm (any customers), feature            ``customer_clusters``
clusters               transform, centroids
=====================  ======================================  ==============================

:func:`run_segmentation` chains them for the standalone command. Every step sorts customers by
``customer_id`` first, so the input row order never changes a result, and k-means runs with a
fixed ``random_state`` and ``n_init``, so the same input gives identical tables every run.

Cluster ids are 0-based and follow the canonical centroid order of :func:`fit_centroids`
(by recency z-score, the most recently active cluster first; ties by the next features).

The centroid table reports each centroid twice: in model space (``<feature>_z``) and in original
units under the mart's column names (``recency_days``, ``frequency``, ``monetary``,
``tenure_days``). The original-unit values are the **inverse-transformed centroid** (undo the
standardisation, then the sqrt/log1p), not the median of the members: they describe the very point
k-means placed and the personas were matched against, and they need nothing but the centroid. For a
log1p feature this is a geometric-mean-like typical value, below the arithmetic mean of a skewed
cluster, and always within the winsorising bounds.

Degenerate inputs raise ``ValueError`` naming the problem: missing columns, NaN, duplicate
``customer_id``, a single customer, all customers identical after clipping (nothing to segment),
or a fixed k larger than the customers (or personas) can support. With ``k='auto'`` the candidate
range is capped at ``min(distinct profiles, customers - 1, number of personas)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from customer_segments.features import (
    DEFAULT_FEATURES,
    fit_feature_transform,
    inverse_transform_features,
    ordered_params,
    transform_features,
    validate_rfm,
)
from customer_segments.naming import name_clusters, validate_personas
from customer_segments.selection import (
    MAX_SAMPLES,
    SILHOUETTE_SAMPLE_SIZE,
    assign_customers,
    chosen_k,
    fit_centroids,
    select_k,
)

__all__ = [
    "CENTROID_KEY_COLUMNS",
    "CUSTOMER_CLUSTER_COLUMNS",
    "TABLE_NAMES",
    "assign_customers",
    "build_centroids",
    "build_customer_clusters",
    "build_k_evaluation",
    "fit_centroids",
    "run_segmentation",
]

CUSTOMER_CLUSTER_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "cluster_id",
    "persona_key",
    "distance_to_centroid",
    "margin_to_next_centroid",
)
CENTROID_KEY_COLUMNS: tuple[str, ...] = (
    "cluster_id",
    "persona_key",
    "customer_count",
    "customer_share",
)

# run_segmentation key -> warehouse table name written by the command line.
TABLE_NAMES: Mapping[str, str] = {
    "feature_transform": "cluster_feature_transform",
    "k_evaluation": "cluster_k_evaluation",
    "centroids": "cluster_centroids",
    "customer_clusters": "customer_clusters",
}


def _customers(rfm: pd.DataFrame, params: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Validate, sort by customer_id and transform: the customers every step works on."""
    validate_rfm(rfm, ["customer_id"])
    duplicated = rfm["customer_id"].duplicated()
    if duplicated.any():
        examples = ", ".join(str(v) for v in rfm.loc[duplicated, "customer_id"].head(3))
        raise ValueError(
            f"customer_id must be unique in the RFM table; {int(duplicated.sum())} repeated "
            f"(e.g. {examples})"
        )
    rfm = rfm.sort_values("customer_id", kind="stable").reset_index(drop=True)
    return rfm, transform_features(rfm, params)


def build_k_evaluation(
    rfm: pd.DataFrame,
    params: pd.DataFrame,
    *,
    k: int | Literal["auto"] = "auto",
    k_values: Iterable[int] = range(2, 11),
    max_k: int | None = None,
    random_state: int = 42,
    n_init: int = 10,
    silhouette_sample_size: int | None = SILHOUETTE_SAMPLE_SIZE,
    max_samples: int | None = MAX_SAMPLES,
) -> pd.DataFrame:
    """Step 2: the ``cluster_k_evaluation`` table (one row per candidate k, one ``is_chosen``).

    Parameters
    ----------
    rfm : pandas.DataFrame
        The RFM mart.
    params : pandas.DataFrame
        Output of :func:`~customer_segments.features.fit_feature_transform`.
    k : "auto" or int, optional
        See :func:`~customer_segments.selection.select_k`.
    k_values : iterable of int, optional
        Candidate k for "auto".
    max_k : int or None, optional
        Upper cap on the candidates, e.g. the number of personas.
    random_state, n_init, silhouette_sample_size, max_samples
        See :func:`~customer_segments.selection.evaluate_k`.

    Returns
    -------
    pandas.DataFrame
        The evaluation table of :func:`~customer_segments.selection.select_k`.
    """
    _, X = _customers(rfm, params)
    candidates = [int(v) for v in k_values if max_k is None or int(v) <= max_k]
    if max_k is not None and k != "auto" and int(k) > max_k:
        raise ValueError(f"k={k} exceeds the maximum of {max_k} (one persona per cluster)")
    return select_k(
        X,
        k,
        k_values=candidates,
        random_state=random_state,
        n_init=n_init,
        silhouette_sample_size=silhouette_sample_size,
        max_samples=max_samples,
    )


def build_centroids(
    rfm: pd.DataFrame,
    params: pd.DataFrame,
    evaluation: pd.DataFrame,
    personas: pd.DataFrame,
    *,
    random_state: int = 42,
    n_init: int = 10,
) -> pd.DataFrame:
    """Step 3: fit k-means on all customers at the chosen k and name the clusters.

    Parameters
    ----------
    rfm : pandas.DataFrame
        The RFM mart (all customers; the final model is never sampled).
    params : pandas.DataFrame
        The feature transform table.
    evaluation : pandas.DataFrame
        The k evaluation table; its ``is_chosen`` row gives k.
    personas : pandas.DataFrame
        The ``cluster_personas`` seed.
    random_state, n_init : int, optional
        k-means++ seed and restarts; use the same as for the evaluation.

    Returns
    -------
    pandas.DataFrame, shape (k, 4 + 2 * n_features)
        ``cluster_id``, ``persona_key``, ``customer_count``, ``customer_share`` (sums to 1), the
        inverse-transformed centroid under each source column name (original units) and the
        centroid under each ``<feature>_z`` column (z-units). Sorted by ``cluster_id``.
    """
    params = ordered_params(params)
    _, X = _customers(rfm, params)
    centroids = fit_centroids(X, chosen_k(evaluation), random_state=random_state, n_init=n_init)
    labels, _, _ = assign_customers(X, centroids)
    cluster_ids = np.arange(len(centroids), dtype="int64")
    z_columns = params["model_column"].tolist()
    profiles = pd.DataFrame(centroids, columns=z_columns, index=cluster_ids)
    names = name_clusters(profiles, personas)
    counts = np.bincount(labels, minlength=len(centroids)).astype("int64")
    table = pd.DataFrame(
        {
            "cluster_id": cluster_ids,
            "persona_key": [names[c] for c in cluster_ids],
            "customer_count": counts,
            "customer_share": counts / counts.sum(),
        }
    )
    original = pd.DataFrame(
        inverse_transform_features(centroids, params), columns=params["source_column"].tolist()
    )
    return pd.concat([table, original, profiles.reset_index(drop=True)], axis=1)


def build_customer_clusters(
    rfm: pd.DataFrame, params: pd.DataFrame, centroids: pd.DataFrame
) -> pd.DataFrame:
    """Step 4: label customers (fitted or new) with the nearest stored centroid.

    Parameters
    ----------
    rfm : pandas.DataFrame
        Any customers with ``customer_id`` and the transform's source columns.
    params : pandas.DataFrame
        The feature transform table.
    centroids : pandas.DataFrame
        The centroid table of :func:`build_centroids` (any row order).

    Returns
    -------
    pandas.DataFrame, shape (n_customers, 5)
        ``customer_id``, ``cluster_id``, ``persona_key``, ``distance_to_centroid`` and
        ``margin_to_next_centroid`` (both Euclidean, in z-units), sorted by ``customer_id``.
    """
    params = ordered_params(params)
    z_columns = params["model_column"].tolist()
    missing = [c for c in [*CENTROID_KEY_COLUMNS[:2], *z_columns] if c not in centroids.columns]
    if missing:
        raise ValueError(f"the centroid table is missing column(s) {', '.join(missing)}")
    if centroids.empty:
        raise ValueError("the centroid table has no clusters")
    centroids = centroids.sort_values("cluster_id", kind="stable").reset_index(drop=True)
    rfm, X = _customers(rfm, params)
    labels, distance, margin = assign_customers(X, centroids[z_columns].to_numpy(dtype=float))
    return pd.DataFrame(
        {
            "customer_id": rfm["customer_id"].to_numpy(),
            "cluster_id": centroids["cluster_id"].to_numpy(dtype="int64")[labels],
            "persona_key": centroids["persona_key"].to_numpy()[labels],
            "distance_to_centroid": distance,
            "margin_to_next_centroid": margin,
        },
        columns=list(CUSTOMER_CLUSTER_COLUMNS),
    )


def run_segmentation(
    rfm: pd.DataFrame,
    personas: pd.DataFrame,
    k: int | Literal["auto"] = "auto",
    random_state: int = 42,
    *,
    n_init: int = 10,
    k_values: Iterable[int] = range(2, 11),
    clip_quantiles: tuple[float, float] = (0.01, 0.99),
    silhouette_sample_size: int | None = SILHOUETTE_SAMPLE_SIZE,
    max_samples: int | None = MAX_SAMPLES,
) -> dict[str, pd.DataFrame]:
    """Run the four steps on one RFM table.

    Parameters
    ----------
    rfm : pandas.DataFrame
        The RFM mart, one row per customer.
    personas : pandas.DataFrame
        The ``cluster_personas`` seed; k is capped at its number of rows.
    k : "auto" or int, optional
        "auto" applies the documented rule; an int fixes k.
    random_state : int, optional
        Seed for k-means++ and the evaluation samples.
    n_init, k_values, clip_quantiles, silhouette_sample_size, max_samples
        See the individual steps.

    Returns
    -------
    dict of str to pandas.DataFrame
        Keys ``feature_transform``, ``k_evaluation``, ``centroids``, ``customer_clusters``
        (see :data:`TABLE_NAMES` for their warehouse names).
    """
    features = [f.name for f in DEFAULT_FEATURES]
    personas = validate_personas(personas, features)
    params = fit_feature_transform(rfm, DEFAULT_FEATURES, clip_quantiles)
    evaluation = build_k_evaluation(
        rfm,
        params,
        k=k,
        k_values=k_values,
        max_k=len(personas),
        random_state=random_state,
        n_init=n_init,
        silhouette_sample_size=silhouette_sample_size,
        max_samples=max_samples,
    )
    centroids = build_centroids(
        rfm, params, evaluation, personas, random_state=random_state, n_init=n_init
    )
    return {
        "feature_transform": params,
        "k_evaluation": evaluation,
        "centroids": centroids,
        "customer_clusters": build_customer_clusters(rfm, params, centroids),
    }
