"""Customer segmentation end to end, as tables that each step returns on its own.

A dbt Python model returns one DataFrame, so the pipeline is composable steps, each reading what
the previous ones wrote:

=========================  =====================================  ==============================
step                       inputs                                 table
=========================  =====================================  ==============================
build_feature_transform    rfm, personas                          ``cluster_feature_transform``
build_persona_conditions   rfm, personas                          ``cluster_persona_conditions``
build_k_evaluation         rfm, feature transform, personas,      ``cluster_k_evaluation``
                           [backtest rfm as of the cutoff]
build_centroids            rfm, feature transform, evaluation,    ``cluster_centroids``
                           personas
build_customer_clusters    rfm (any customers), feature           ``customer_clusters``
                           transform, centroids, personas
build_backtest_segments    rfm as of the cutoff, personas, k      personas as of the cutoff, for
                                                                  ``fct_segment_backtest``
=========================  =====================================  ==============================

:func:`run_segmentation` chains them for the standalone command.

Who is clustered. Customers who match a rule persona are labelled per customer and left out of
every fit: ``no_purchase`` (``frequency = 0``: only returns before the as-of date) and
``refunded`` (``monetary <= 0``: net revenue zero or negative, e.g. a full refund). A refund
therefore never moves a customer towards ``high_value`` or ``new``, and never moves anyone
else's fit. The others, *the clustered customers*, must number at least ``min_customers``
(:data:`MIN_CUSTOMERS`, 50): below it a ``ValueError`` names the count and the setting
``cluster_min_customers``, because median profiles and stability refits of up to ten clusters
mean little with fewer than about five customers per cluster.

Every step sorts customers by ``customer_id`` first, so the input row order never changes a
result, and k-means runs with a fixed ``random_state`` and ``n_init``. Cluster ids are 0-based
in the canonical centroid order of :func:`~customer_segments.selection.fit_centroids` (by recency
z-score, the most recently active cluster first).

The centroid table reports each centroid in model space (``<feature>_z``) and in original units
under the mart's column names (the inverse-transformed centroid, the point k-means placed), and
the cluster's **median customer** (``median_<measure>``), which the persona conditions are judged
on together with the share of members meeting them (at least half, by default), with the
reasons for the name.

Assignment in SQL. :func:`build_customer_clusters` is the reference implementation of what a
warehouse can do with ``cluster_feature_transform`` and ``cluster_centroids`` alone: rule
personas first; then clip each source column to ``[clip_lower, clip_upper]``, apply
``transform``, ``(value - center) / scale``; the nearest centroid by Euclidean distance, ties to
the lower ``cluster_id``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from customer_segments.features import (
    DEFAULT_FEATURES,
    DEFAULT_FENCE_MULTIPLIER,
    FeatureSpec,
    feature_specs,
    fit_feature_transform,
    inverse_transform_features,
    ordered_params,
    transform_features,
    validate_rfm,
)
from customer_segments.naming import MIN_SHARE_MEETING_CONDITIONS, name_clusters
from customer_segments.personas import (
    PersonaSettings,
    customer_measures,
    median_profiles,
    member_shares,
    persona_conditions_table,
    population_reference,
    rule_persona_keys,
    validate_personas,
)
from customer_segments.selection import (
    AUC_TOLERANCE,
    K_MAX,
    K_MIN,
    MAX_SAMPLES,
    SILHOUETTE_SAMPLE_SIZE,
    STABILITY_RESAMPLES,
    STABILITY_SAMPLE_SIZE,
    STABILITY_THRESHOLD,
    BacktestSample,
    assign_customers,
    chosen_k,
    fit_centroids,
    select_k,
)

__all__ = [
    "CENTROID_KEY_COLUMNS",
    "CUSTOMER_CLUSTER_COLUMNS",
    "MIN_CUSTOMERS",
    "TABLE_NAMES",
    "assign_customers",
    "build_backtest_segments",
    "build_centroids",
    "build_customer_clusters",
    "build_feature_transform",
    "build_k_evaluation",
    "build_persona_conditions",
    "clustered_customers",
    "fit_centroids",
    "run_segmentation",
]

MIN_CUSTOMERS = 50

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
    "persona_conditions": "cluster_persona_conditions",
    "k_evaluation": "cluster_k_evaluation",
    "centroids": "cluster_centroids",
    "customer_clusters": "customer_clusters",
}


def _sorted_customers(rfm: pd.DataFrame) -> pd.DataFrame:
    validate_rfm(rfm, ["customer_id"])
    duplicated = rfm["customer_id"].duplicated()
    if duplicated.any():
        examples = ", ".join(str(v) for v in rfm.loc[duplicated, "customer_id"].head(3))
        raise ValueError(
            f"customer_id must be unique in the RFM table; {int(duplicated.sum())} repeated "
            f"(e.g. {examples})"
        )
    return rfm.sort_values("customer_id", kind="stable").reset_index(drop=True)


def clustered_customers(
    rfm: pd.DataFrame, personas: pd.DataFrame | None, min_customers: int = MIN_CUSTOMERS
) -> pd.DataFrame:
    """The customers that are clustered (no rule persona), sorted by ``customer_id``.

    ``personas=None`` keeps every customer (the behaviour before rule personas, for callers not
    yet passing the seed).

    Raises
    ------
    ValueError
        Bad input, or fewer than ``min_customers`` clustered customers (naming both numbers and
        the setting ``cluster_min_customers``).
    """
    if (
        isinstance(min_customers, bool)
        or not isinstance(min_customers, (int, np.integer))
        or (min_customers < 3)
    ):
        raise ValueError(f"cluster_min_customers must be an integer >= 3, got {min_customers!r}")
    rfm = _sorted_customers(rfm)
    if personas is None:
        keep = np.ones(len(rfm), dtype=bool)
    else:
        keep = rule_persona_keys(rfm, personas).isna().to_numpy()
    n = int(keep.sum())
    if n < min_customers:
        raise ValueError(
            f"only {n} customer(s) can be clustered (a purchase and net revenue above 0 before "
            f"the as-of date; {len(rfm) - n} more have a rule persona such as refunded or "
            f"no_purchase), fewer than cluster_min_customers = {min_customers}: add customers "
            "or lower cluster_min_customers"
        )
    return rfm.loc[keep].reset_index(drop=True)


def build_feature_transform(
    rfm: pd.DataFrame,
    personas: pd.DataFrame,
    *,
    min_customers: int = MIN_CUSTOMERS,
    fence_multiplier: float = DEFAULT_FENCE_MULTIPLIER,
    features: Sequence[FeatureSpec] = DEFAULT_FEATURES,
) -> pd.DataFrame:
    """Step 1: the ``cluster_feature_transform`` table, fitted on the clustered customers.

    See :func:`~customer_segments.features.fit_feature_transform` for the columns; ``features``
    are the model's features (the dbt project's var ``cluster_features``).
    """
    customers = clustered_customers(rfm, personas, min_customers)
    return fit_feature_transform(customers, features, fence_multiplier)


def build_persona_conditions(
    rfm: pd.DataFrame,
    personas: pd.DataFrame,
    *,
    settings: PersonaSettings = PersonaSettings(),
    min_customers: int = MIN_CUSTOMERS,
) -> pd.DataFrame:
    """Step 1b: the ``cluster_persona_conditions`` table, every condition with its threshold.

    Population statistics are computed over the clustered customers. See
    :func:`~customer_segments.personas.persona_conditions_table` for the columns.
    """
    customers = clustered_customers(rfm, personas, min_customers)
    reference = population_reference(customer_measures(customers))
    return persona_conditions_table(personas, reference, settings)


def _backtest_sample(
    backtest_rfm: pd.DataFrame,
    personas: pd.DataFrame | None,
    min_customers: int,
    fence_multiplier: float,
    features: Sequence[FeatureSpec],
) -> BacktestSample | None:
    """The clustered customers as of the cutoff in the model space of a cutoff fit, or None."""
    if "has_next_period_purchase" not in backtest_rfm.columns:
        raise ValueError("the backtest RFM table needs the column has_next_period_purchase")
    try:
        customers = clustered_customers(backtest_rfm, personas, min_customers)
    except ValueError as error:
        if "cluster_min_customers" in str(error):
            return None  # too short a history at the cutoff: no backtest, the vote decides
        raise
    params = fit_feature_transform(customers, features, fence_multiplier)
    outcome = customers["has_next_period_purchase"]
    if outcome.isna().any():
        raise ValueError("has_next_period_purchase has missing values in the backtest RFM table")
    return BacktestSample(transform_features(customers, params), outcome.to_numpy(dtype=bool))


def build_k_evaluation(
    rfm: pd.DataFrame,
    params: pd.DataFrame,
    personas: pd.DataFrame | None = None,
    *,
    k: int | Literal["auto"] = "auto",
    k_min: int = K_MIN,
    k_max: int = K_MAX,
    max_k: int | None = None,
    backtest_rfm: pd.DataFrame | None = None,
    random_state: int = 42,
    n_init: int = 10,
    min_customers: int = MIN_CUSTOMERS,
    fence_multiplier: float | None = None,
    settings: PersonaSettings = PersonaSettings(),
    min_share_meeting_conditions: float = MIN_SHARE_MEETING_CONDITIONS,
    silhouette_sample_size: int | None = SILHOUETTE_SAMPLE_SIZE,
    max_samples: int | None = MAX_SAMPLES,
    stability_resamples: int = STABILITY_RESAMPLES,
    stability_sample_size: int | None = STABILITY_SAMPLE_SIZE,
    stability_threshold: float = STABILITY_THRESHOLD,
    auc_tolerance: float = AUC_TOLERANCE,
) -> pd.DataFrame:
    """Step 2: the ``cluster_k_evaluation`` table (one row per candidate k, one ``is_chosen``).

    Parameters
    ----------
    rfm : pandas.DataFrame
        The RFM mart as of the as-of date.
    params : pandas.DataFrame
        The feature transform table of step 1.
    personas : pandas.DataFrame or None
        The ``cluster_personas`` seed (its rule personas decide who is clustered). None clusters
        every customer: pass the seed (None is kept for callers of the previous signature).
    k, k_min, k_max
        See :func:`~customer_segments.selection.select_k`.
    max_k : int or None, optional
        Caps ``k_max`` (previous signature: the number of personas).
    backtest_rfm : pandas.DataFrame or None, optional
        The RFM columns **as of the cutoff** (``as_of_date - prediction_horizon_days``, lines
        before it only) for every customer with a kept line before the cutoff, plus
        ``has_next_period_purchase``. The same pipeline (rule personas, feature transform) is
        fitted on it to measure ``backtest_auc``. None, or fewer than ``min_customers``
        clustered customers at the cutoff: no backtest.
    random_state, n_init, min_customers
        Seeds, k-means++ restarts, minimum clustered customers.
    fence_multiplier : float or None, optional
        For the cutoff's transform; default: the one of ``params``.
    settings, min_share_meeting_conditions
        How clusters are named (see :func:`build_centroids`), to count each candidate's
        clusters without a persona (``unnamed_clusters``), which the rule reads.
    silhouette_sample_size, max_samples, stability_resamples, stability_sample_size,
    stability_threshold, auc_tolerance
        See :mod:`customer_segments.selection`.

    Returns
    -------
    pandas.DataFrame
        The evaluation table of :func:`~customer_segments.selection.select_k`.
    """
    customers = clustered_customers(rfm, personas, min_customers)
    X = transform_features(customers, params)
    count_unnamed = None
    if personas is not None:
        measures = customer_measures(customers)
        reference = population_reference(measures)

        def count_unnamed(rows: np.ndarray, labels: np.ndarray) -> int:
            sample = measures.iloc[rows].reset_index(drop=True)
            names = name_clusters(
                median_profiles(sample, labels),
                personas,
                reference,
                settings,
                member_shares(sample, labels, personas, reference, settings),
                min_share_meeting_conditions,
            )
            return int(names["is_fallback"].sum())

    if max_k is not None:
        if k != "auto" and int(k) > max_k:
            raise ValueError(f"k={k} exceeds the maximum of {max_k}")
        k_max = min(k_max, int(max_k))
        k_min = min(k_min, k_max)
    backtest = None
    if backtest_rfm is not None:
        multiplier = (
            float(ordered_params(params)["fence_multiplier"].iloc[0])
            if fence_multiplier is None
            else fence_multiplier
        )
        backtest = _backtest_sample(
            backtest_rfm, personas, min_customers, multiplier, feature_specs(params)
        )
    return select_k(
        X,
        k,
        k_min=k_min,
        k_max=k_max,
        random_state=random_state,
        n_init=n_init,
        silhouette_sample_size=silhouette_sample_size,
        max_samples=max_samples,
        stability_resamples=stability_resamples,
        stability_sample_size=stability_sample_size,
        backtest=backtest,
        stability_threshold=stability_threshold,
        auc_tolerance=auc_tolerance,
        count_unnamed=count_unnamed,
    )


def build_centroids(
    rfm: pd.DataFrame,
    params: pd.DataFrame,
    evaluation: pd.DataFrame,
    personas: pd.DataFrame,
    *,
    settings: PersonaSettings = PersonaSettings(),
    random_state: int = 42,
    n_init: int = 10,
    min_customers: int = MIN_CUSTOMERS,
    min_share_meeting_conditions: float = MIN_SHARE_MEETING_CONDITIONS,
) -> pd.DataFrame:
    """Step 3: fit k-means on all clustered customers at the chosen k and name the clusters.

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
    settings : PersonaSettings, optional
        Absolute thresholds of the persona rules.
    random_state, n_init, min_customers
        As for the evaluation.
    min_share_meeting_conditions : float, optional
        A persona names a cluster only when its median customer meets every condition and at
        least this share of its members do (default 0.5; see :mod:`customer_segments.naming`).

    Returns
    -------
    pandas.DataFrame, one row per cluster, sorted by ``cluster_id``
        ``cluster_id``, ``persona_key``, ``customer_count``, ``customer_share`` (of the
        clustered customers; sums to 1), then the naming columns of
        :data:`~customer_segments.naming.NAMING_COLUMNS` (name, description, action,
        ``value_rank``, ``is_fallback``, ``eligible_persona_keys``, ``naming_reason``,
        ``runner_up_persona_key``, ``runner_up_reason``), ``share_meeting_conditions`` (members
        who meet every condition of the persona themselves; NaN for a fallback),
        ``median_<measure>`` for every measure of the median customer, ``repeat_share``, the
        centroid in original units under each source column name, and in z-units under each
        ``<feature>_z``.
    """
    params = ordered_params(params)
    personas = validate_personas(personas)
    customers = clustered_customers(rfm, personas, min_customers)
    X = transform_features(customers, params)
    centroids = fit_centroids(X, chosen_k(evaluation), random_state=random_state, n_init=n_init)
    labels, _, _ = assign_customers(X, centroids)
    measures = customer_measures(customers)
    reference = population_reference(measures)
    cluster_ids = np.arange(len(centroids), dtype="int64")
    profiles = median_profiles(measures, labels).reindex(cluster_ids)
    shares = member_shares(measures, labels, personas, reference, settings).reindex(cluster_ids)
    names = name_clusters(
        profiles, personas, reference, settings, shares, min_share_meeting_conditions
    )
    counts = np.bincount(labels, minlength=len(centroids)).astype("int64")
    table = pd.DataFrame(
        {
            "cluster_id": cluster_ids,
            "persona_key": names["persona_key"].to_numpy(),
            "customer_count": counts,
            "customer_share": counts / counts.sum(),
        }
    )
    naming = names.drop(columns=["cluster_id", "persona_key"])
    naming["share_meeting_conditions"] = [
        np.nan if row.is_fallback else float(shares.at[row.cluster_id, row.persona_key])
        for row in names.itertuples()
    ]
    medians = profiles.drop(columns="customer_count").add_prefix("median_")
    medians = medians.rename(columns={"median_repeat_share": "repeat_share"}).reset_index(drop=True)
    original = pd.DataFrame(
        inverse_transform_features(centroids, params), columns=params["source_column"].tolist()
    )
    z = pd.DataFrame(centroids, columns=params["model_column"].tolist())
    return pd.concat([table, naming, medians, original, z], axis=1)


def build_customer_clusters(
    rfm: pd.DataFrame,
    params: pd.DataFrame,
    centroids: pd.DataFrame,
    personas: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Step 4: label every customer: a rule persona, or the nearest stored centroid.

    Parameters
    ----------
    rfm : pandas.DataFrame
        Any customers with ``customer_id`` and the RFM columns, fitted ones or new ones.
    params : pandas.DataFrame
        The feature transform table.
    centroids : pandas.DataFrame
        The centroid table of :func:`build_centroids` (any row order).
    personas : pandas.DataFrame or None
        The ``cluster_personas`` seed (rule personas); None assigns every customer to a
        centroid (previous signature).

    Returns
    -------
    pandas.DataFrame, shape (n_customers, 5)
        ``customer_id``, ``cluster_id`` (nullable Int64: NULL for a rule persona),
        ``persona_key``, ``distance_to_centroid`` and ``margin_to_next_centroid`` (Euclidean,
        z-units; NaN for a rule persona), sorted by ``customer_id``.
    """
    params = ordered_params(params)
    z_columns = params["model_column"].tolist()
    missing = [c for c in [*CENTROID_KEY_COLUMNS[:2], *z_columns] if c not in centroids.columns]
    if missing:
        raise ValueError(f"the centroid table is missing column(s) {', '.join(missing)}")
    if centroids.empty:
        raise ValueError("the centroid table has no clusters")
    centroids = centroids.sort_values("cluster_id", kind="stable").reset_index(drop=True)
    rfm = _sorted_customers(rfm)
    if personas is None:
        rule_keys = pd.Series([None] * len(rfm), index=rfm.index, dtype=object)
    else:
        rule_keys = rule_persona_keys(rfm, personas)
    clustered = rule_keys.isna().to_numpy()
    cluster_id = pd.array([pd.NA] * len(rfm), dtype="Int64")
    persona_key = rule_keys.to_numpy(dtype=object).copy()
    distance = np.full(len(rfm), np.nan)
    margin = np.full(len(rfm), np.nan)
    if clustered.any():
        X = transform_features(rfm.loc[clustered], params)
        labels, own, gap = assign_customers(X, centroids[z_columns].to_numpy(dtype=float))
        cluster_id[clustered] = centroids["cluster_id"].to_numpy(dtype="int64")[labels]
        persona_key[clustered] = centroids["persona_key"].to_numpy()[labels]
        distance[clustered], margin[clustered] = own, gap
    return pd.DataFrame(
        {
            "customer_id": rfm["customer_id"].to_numpy(),
            "cluster_id": cluster_id,
            "persona_key": persona_key,
            "distance_to_centroid": distance,
            "margin_to_next_centroid": margin,
        },
        columns=list(CUSTOMER_CLUSTER_COLUMNS),
    )


def build_backtest_segments(
    backtest_rfm: pd.DataFrame,
    personas: pd.DataFrame,
    k: int,
    *,
    settings: PersonaSettings = PersonaSettings(),
    random_state: int = 42,
    n_init: int = 10,
    min_customers: int = MIN_CUSTOMERS,
    min_share_meeting_conditions: float = MIN_SHARE_MEETING_CONDITIONS,
    features: Sequence[FeatureSpec] = DEFAULT_FEATURES,
) -> pd.DataFrame:
    """The pipeline refitted as of the cutoff at a given k: every cutoff customer's persona.

    The cheap path for ``fct_segment_backtest``: transform, centroids and names fitted on the
    cutoff snapshot alone (no leakage: only its columns are read), at ``k`` (use the k chosen as
    of the as-of date; no candidate is evaluated).

    Parameters
    ----------
    backtest_rfm : pandas.DataFrame
        RFM columns as of the cutoff, plus any outcome columns (kept in the result).
    personas : pandas.DataFrame
        The ``cluster_personas`` seed.
    k : int
        Number of clusters.
    settings, random_state, n_init, min_customers, min_share_meeting_conditions
        As for :func:`run_segmentation`.
    features : sequence of FeatureSpec, optional
        The model's features (those of the as-of fit).

    Returns
    -------
    pandas.DataFrame, one row per cutoff customer, sorted by ``customer_id``
        :data:`CUSTOMER_CLUSTER_COLUMNS` plus ``has_next_period_purchase`` and
        ``next_period_revenue`` when the input has them, ready for
        :func:`~customer_segments.backtest.evaluate_grouping` on ``persona_key``.

    Raises
    ------
    ValueError
        Fewer than ``min_customers`` clustered customers at the cutoff (too short a history),
        or a k the cutoff customers cannot support.
    """
    personas = validate_personas(personas)
    params = build_feature_transform(
        backtest_rfm, personas, min_customers=min_customers, features=features
    )
    evaluation = pd.DataFrame({"k": [int(k)], "is_chosen": [True]})
    centroids = build_centroids(
        backtest_rfm,
        params,
        evaluation,
        personas,
        settings=settings,
        random_state=random_state,
        n_init=n_init,
        min_customers=min_customers,
        min_share_meeting_conditions=min_share_meeting_conditions,
    )
    labels = build_customer_clusters(backtest_rfm, params, centroids, personas)
    outcomes = [
        c for c in ("has_next_period_purchase", "next_period_revenue") if c in backtest_rfm.columns
    ]
    if outcomes:
        labels = labels.merge(
            backtest_rfm[["customer_id", *outcomes]],
            on="customer_id",
            how="left",
            validate="one_to_one",
        )
    return labels


def run_segmentation(
    rfm: pd.DataFrame,
    personas: pd.DataFrame,
    k: int | Literal["auto"] = "auto",
    random_state: int = 42,
    *,
    n_init: int = 10,
    k_min: int = K_MIN,
    k_max: int = K_MAX,
    backtest_rfm: pd.DataFrame | None = None,
    settings: PersonaSettings = PersonaSettings(),
    min_customers: int = MIN_CUSTOMERS,
    min_share_meeting_conditions: float = MIN_SHARE_MEETING_CONDITIONS,
    fence_multiplier: float = DEFAULT_FENCE_MULTIPLIER,
    silhouette_sample_size: int | None = SILHOUETTE_SAMPLE_SIZE,
    max_samples: int | None = MAX_SAMPLES,
    stability_resamples: int = STABILITY_RESAMPLES,
    stability_sample_size: int | None = STABILITY_SAMPLE_SIZE,
) -> dict[str, pd.DataFrame]:
    """Run every step on one RFM table.

    Parameters
    ----------
    rfm : pandas.DataFrame
        The RFM mart, one row per customer (rule-persona customers included).
    personas : pandas.DataFrame
        The ``cluster_personas`` seed.
    k : "auto" or int, optional
        "auto" applies the documented rule; an int fixes k.
    random_state : int, optional
        Seed for k-means++ and the evaluation samples.
    n_init, k_min, k_max, backtest_rfm, settings, min_customers, min_share_meeting_conditions,
    fence_multiplier, silhouette_sample_size, max_samples, stability_resamples,
    stability_sample_size
        See the individual steps.

    Returns
    -------
    dict of str to pandas.DataFrame
        Keys of :data:`TABLE_NAMES` (their warehouse names).
    """
    personas = validate_personas(personas)
    params = build_feature_transform(
        rfm, personas, min_customers=min_customers, fence_multiplier=fence_multiplier
    )
    evaluation = build_k_evaluation(
        rfm,
        params,
        personas,
        k=k,
        k_min=k_min,
        k_max=k_max,
        backtest_rfm=backtest_rfm,
        random_state=random_state,
        n_init=n_init,
        min_customers=min_customers,
        settings=settings,
        min_share_meeting_conditions=min_share_meeting_conditions,
        silhouette_sample_size=silhouette_sample_size,
        max_samples=max_samples,
        stability_resamples=stability_resamples,
        stability_sample_size=stability_sample_size,
    )
    centroids = build_centroids(
        rfm,
        params,
        evaluation,
        personas,
        settings=settings,
        random_state=random_state,
        n_init=n_init,
        min_customers=min_customers,
        min_share_meeting_conditions=min_share_meeting_conditions,
    )
    return {
        "feature_transform": params,
        "persona_conditions": build_persona_conditions(
            rfm, personas, settings=settings, min_customers=min_customers
        ),
        "k_evaluation": evaluation,
        "centroids": centroids,
        "customer_clusters": build_customer_clusters(rfm, params, centroids, personas),
    }
