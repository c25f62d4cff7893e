"""Fit k-means, assign customers, and choose the number of clusters k with evidence that matters.

What is measured for every candidate k
--------------------------------------
Candidates run from ``k_min`` (default 3: two groups are not a marketing segmentation) to
``k_max`` (default 10), capped by what the data supports (k <= distinct customer profiles and
k <= customers - 1). k-means (k-means++, explicit ``n_init`` and ``random_state``) is fitted on a
deterministic sample of at most ``max_samples`` customers, and the evaluation table records:

* the four **geometric** criteria: inertia and its elbow (kneedle distance below the chord of the
  scaled inertia curve), silhouette (on a sample of ``silhouette_sample_size``), Davies-Bouldin
  and Calinski-Harabasz;
* **stability**: ``stability_ari``, the mean adjusted Rand index between the labels of the
  candidate and those of ``stability_resamples`` refits, each on a random ``stability_fraction``
  of a sample of at most ``stability_sample_size`` customers with another k-means seed,
  compared on the whole stability sample (``stability_ari_min`` is the worst refit). 1 means
  every refit draws the same segments; a k at which k-means can cut the customers in several
  equally good ways scores low, whatever its geometry;
* **backtest separation** (when a backtest is given): ``backtest_auc``, how well the clusters of
  the same pipeline fitted **as of the cutoff** (each with its own persona or fallback key, so
  the same grouping as the personas) separate the customers who bought in the following
  horizon from those who did not. Each customer is scored with the repeat rate of their
  cluster measured on the other half of the customers (two random folds, so that more,
  smaller clusters gain nothing from fitting noise) and the score's AUC is computed, ties
  counted as half (:func:`~customer_segments.backtest.grouping_auc`). Pooling the clusters
  that earn no persona into one group was tried and dropped: on data without natural clusters
  every cluster of k = 3 or 4 can be unnamed, and the pooled AUC is then 0.5;
* **names**: ``unnamed_clusters``, how many of the candidate's clusters earn no persona at the
  as-of date (given a namer, see :func:`~customer_segments.clustering.build_k_evaluation`).

The rule
--------
1. **Reproducible first.** A candidate is reproducible when ``stability_ari >=
   stability_threshold`` (default 0.8: re-run on another 80 % of the customers, the segments
   agree beyond chance at least 80 % as much as identical ones). If no candidate reaches it, the
   candidates within 0.05 of the most stable one are kept, and the reason says so.
2. **Then what predicts, and what can be named.** With a backtest, the candidates kept are the
   reproducible ones whose ``backtest_auc`` is within a tolerance of the best reproducible one;
   among them, those with the fewest clusters that earn no persona at the as-of date
   (``unnamed_clusters``, when measured), and of those the *smallest* k: more segments only
   when they separate next-period buyers measurably better, and not at the price of segments
   nobody can name. The tolerance is the larger of
   ``auc_tolerance`` (default 0.01) and twice the standard error of the best AUC (Hanley &
   McNeil; ``backtest_auc_se``): the "one-standard-error rule" of model selection, doubled
   because the best of eight noisy AUCs is itself optimistic by about one standard error. On a
   small base, differences the backtest cannot resolve do not buy extra segments (a test: two
   groups, 400 customers, a chance 0.03 gain at k = 6 is not taken).
3. **Without a backtest** (data shorter than two horizons), the geometric criteria vote among the
   reproducible candidates: each of elbow, silhouette, Davies-Bouldin and Calinski-Harabasz votes
   for its best k; most votes win, a tie goes to the elbow's k, then to the best mean rank, then
   to the smaller k.

Why this does not collapse to two or three groups: silhouette and Davies-Bouldin reward the
coarsest split of far-apart groups (two groups of two clusters score higher at k = 2 than at
4). Here they are at most one vote of four, and only when there is no backtest; ``k_min`` keeps
k = 2 out unless asked for; and with a backtest, a k is only passed over for a smaller one when
the smaller one separates the next period's buyers as well. With ``k_min = 2``, clean
two-group data still gets k = 2: two groups are perfectly stable and nothing finer predicts
better. A fixed k bypasses the rule; the candidates are still evaluated and the reason says what
the rule would choose.

Cost
----
The final model is fitted on all customers (:func:`fit_centroids`); the evaluation is bounded
whatever the number of customers: candidates on at most ``max_samples`` (20,000), silhouette on
at most 10,000, stability refits on 80 % of at most ``stability_sample_size`` (4,000) customers,
the backtest fits on at most ``backtest_sample_size`` (5,000) cutoff customers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score
from threadpoolctl import threadpool_limits

from customer_segments.backtest import auc_standard_error, grouping_auc

__all__ = [
    "AUC_TOLERANCE",
    "CRITERIA",
    "K_MAX",
    "K_MIN",
    "STABILITY_THRESHOLD",
    "BacktestSample",
    "assign_customers",
    "check_segmentable",
    "choose_k",
    "chosen_k",
    "evaluate_k",
    "feasible_k_values",
    "fit_centroids",
    "label_stability",
    "make_kmeans",
    "reproducible_candidates",
    "select_k",
    "silhouette_scores",
]

T = TypeVar("T")

# Sampling that keeps the cost of choosing k bounded however many customers there are: the
# candidates are fitted on at most MAX_SAMPLES customers and silhouette (quadratic in the
# customers) is computed on at most SILHOUETTE_SAMPLE_SIZE of them. Measured on 2 cores with
# 40,000 customers, evaluate_k took 37 s with 50,000 / 20,000 and 13 s with 20,000 / 10,000.
# Below both sizes (the 4,372 customers of Online Retail) nothing is sampled.
MAX_SAMPLES = 20_000
SILHOUETTE_SAMPLE_SIZE = 10_000
# Stability: three refits on 80 % of at most 4,000 customers (see the module docstring).
STABILITY_SAMPLE_SIZE = 4_000
STABILITY_RESAMPLES = 3
STABILITY_FRACTION = 0.8
STABILITY_THRESHOLD = 0.8
# Backtest fits (k-means at the cutoff) use at most this many cutoff customers; all are scored.
BACKTEST_SAMPLE_SIZE = 5_000
AUC_TOLERANCE = 0.01
K_MIN = 3
K_MAX = 10

# criterion -> (evaluation column, higher is better, label used in reasons)
CRITERIA: tuple[tuple[str, str, bool, str], ...] = (
    ("elbow", "elbow_distance", True, "elbow of inertia"),
    ("silhouette", "silhouette", True, "silhouette"),
    ("davies_bouldin", "davies_bouldin", False, "Davies-Bouldin"),
    ("calinski_harabasz", "calinski_harabasz", True, "Calinski-Harabasz"),
)


def make_kmeans(k: int, random_state: int, n_init: int) -> KMeans:
    """The one k-means configuration used for evaluation and for the final fit."""
    return KMeans(
        n_clusters=int(k), init="k-means++", n_init=int(n_init), random_state=random_state
    )


def _single_threaded(function: Callable[..., T]) -> Callable[..., T]:
    """Run ``function`` with OpenMP limited to one thread (one library scan per call).

    With four features the OpenMP threads of k-means synchronise more than they compute: on a
    2-core machine a threaded fit measured ~100x slower than a single thread. Results do not
    depend on it. Scanning the loaded libraries costs ~13 ms, so it is done once per public call,
    not once per fit.
    """

    @functools.wraps(function)
    def wrapper(*args: object, **kwargs: object) -> T:
        with threadpool_limits(limits=1, user_api="openmp"):
            return function(*args, **kwargs)

    return wrapper


def _fit_kmeans(X: np.ndarray, k: int, random_state: int, n_init: int) -> KMeans:
    """Fit :func:`make_kmeans` (callers limit the threads, see :func:`_single_threaded`)."""
    return make_kmeans(k, random_state, n_init).fit(X)


def _as_matrix(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(
            f"expected a 2-D feature matrix (n_customers, n_features), got shape {X.shape}"
        )
    if not np.isfinite(X).all():
        raise ValueError("the feature matrix holds NaN or infinite values")
    return X


def silhouette_scores(
    X: np.ndarray, labelings: list[np.ndarray], chunk_rows: int = 1024
) -> list[float]:
    """Mean silhouette (Euclidean) of the rows of ``X`` under each of several labelings.

    The same value as ``sklearn.metrics.silhouette_score(X, labels)`` for each labeling (a
    test holds them equal), but the pairwise distances are computed once for all labelings
    instead of once per candidate k: a block of ``chunk_rows`` rows at a time, so memory stays
    at ``chunk_rows x len(X)`` distances. Each labeling needs 2 to ``len(X) - 1`` labels (as
    scikit-learn asks); a row alone in its cluster scores 0, as in scikit-learn. ``X`` is taken
    as float64 (float32 input therefore differs from scikit-learn's float32 arithmetic by ~1e-10). Measured on 2 cores with 10,000 rows and the
    nine candidates k = 2..10: 1.3 s, against 6.7 s for nine calls of scikit-learn's.
    """
    X = np.asarray(X, dtype=float)
    n = len(X)
    clusterings = []  # (cluster of each row, rows per cluster, first column in `members`)
    blocks, offset = [], 0
    for labels in labelings:
        _, cluster, counts = np.unique(np.asarray(labels), return_inverse=True, return_counts=True)
        if not 2 <= len(counts) <= n - 1:
            raise ValueError(
                f"a silhouette needs 2 to {n - 1} clusters of the {n} rows; got {len(counts)}"
            )
        block = np.zeros((n, len(counts)))
        block[np.arange(n), cluster] = 1.0
        blocks.append(block)
        clusterings.append((cluster, counts, offset))
        offset += len(counts)
    members = np.hstack(blocks)  # row -> one column per (labeling, cluster)
    squared_norms = np.einsum("ij,ij->i", X, X)
    totals = np.zeros(len(labelings))
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        rows = np.arange(stop - start)
        squared = squared_norms[start:stop, None] - 2.0 * X[start:stop] @ X.T + squared_norms
        distances = np.sqrt(np.maximum(squared, 0.0))
        distances[rows, np.arange(start, stop)] = 0.0
        distance_sums = distances @ members  # to every cluster of every labeling
        for j, (cluster, counts, first) in enumerate(clusterings):
            sums = distance_sums[:, first : first + len(counts)]
            own = cluster[start:stop]
            own_size = counts[own]
            within = sums[rows, own] / np.maximum(own_size - 1, 1)
            means = sums / counts
            means[rows, own] = np.inf
            nearest = means.min(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                score = (nearest - within) / np.maximum(within, nearest)
            score = np.where(own_size > 1, np.nan_to_num(score), 0.0)
            totals[j] += score.sum()
    return [float(total / n) for total in totals]


def check_segmentable(X: np.ndarray) -> int:
    """Return the number of distinct rows of ``X``; raise if the customers cannot be segmented.

    Raises
    ------
    ValueError
        No customers, a single customer, or all customers identical in model space.
    """
    X = _as_matrix(X)
    n = len(X)
    if n == 0:
        raise ValueError("no customers to segment")
    if n == 1:
        raise ValueError("only one customer: nothing to segment (at least 3 customers are needed)")
    n_distinct = len(np.unique(X, axis=0))
    if n_distinct == 1:
        raise ValueError(
            f"all {n} customers have identical features after clipping: nothing to segment"
        )
    return n_distinct


def feasible_k_values(k_values: Iterable[int], n_customers: int, n_distinct: int) -> list[int]:
    """Candidates k with 2 <= k <= min(n_distinct, n_customers - 1), sorted and unique."""
    upper = min(int(n_distinct), int(n_customers) - 1)
    return sorted({int(k) for k in k_values if 2 <= int(k) <= upper})


def _check_fixed_k(k: int, n_customers: int, n_distinct: int) -> None:
    if int(k) < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    if int(k) > n_distinct or int(k) > n_customers - 1:
        raise ValueError(
            f"k={k} clusters requested but there are only {n_customers} customers "
            f"({n_distinct} distinct profiles); k must be at most "
            f"{min(n_distinct, n_customers - 1)}"
        )


def _sample_indices(n: int, size: int | None, random_state: int) -> np.ndarray:
    """Sorted indices of a deterministic sample of ``size`` of ``n`` rows (all if n <= size)."""
    if size is None or n <= size:
        return np.arange(n)
    return np.sort(np.random.RandomState(random_state).choice(n, size=int(size), replace=False))


@_single_threaded
def fit_centroids(X: np.ndarray, k: int, random_state: int = 42, n_init: int = 10) -> np.ndarray:
    """Fit k-means++ on all customers and return centroids in canonical order.

    Parameters
    ----------
    X : array-like, shape (n_customers, n_features)
        Customers in model space (z-units).
    k : int
        Number of clusters, 2 <= k <= number of distinct rows.
    random_state : int, optional
        Seed of k-means++; the same input and seed give the same centroids every run.
    n_init : int, optional
        Number of k-means++ restarts; the lowest-inertia run is kept.

    Returns
    -------
    numpy.ndarray, shape (k, n_features)
        Centroids in z-units, sorted by their coordinates (first feature first, ties by the next),
        so cluster numbering never depends on k-means' internal order.
    """
    X = _as_matrix(X)
    n_distinct = check_segmentable(X)
    if int(k) < 1 or int(k) > n_distinct:
        raise ValueError(
            f"k={k} clusters requested but there are only {len(X)} customers "
            f"({n_distinct} distinct profiles)"
        )
    centers = _fit_kmeans(X, k, random_state, n_init).cluster_centers_
    # Rounding keeps float noise in the last digits from reordering clusters.
    order = np.lexsort(np.round(centers, 9).T[::-1])
    return centers[order]


def assign_customers(
    X: np.ndarray, centroids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Assign each customer to the nearest centroid.

    Parameters
    ----------
    X : array-like, shape (n_customers, n_features)
        Customers in model space.
    centroids : array-like, shape (k, n_features)
        Centroids in the same space.

    Returns
    -------
    labels : numpy.ndarray of int64, shape (n_customers,)
        Row index of the nearest centroid (ties go to the lower index).
    distance : numpy.ndarray of float, shape (n_customers,)
        Euclidean distance to that centroid, in z-units.
    margin : numpy.ndarray of float, shape (n_customers,)
        Distance to the second-nearest centroid minus ``distance`` (>= 0; small means the customer
        sits near a boundary). NaN when there is a single centroid.
    """
    X = _as_matrix(X)
    centroids = _as_matrix(centroids)
    if centroids.shape[1] != X.shape[1]:
        raise ValueError(
            f"customers have {X.shape[1]} features but centroids have {centroids.shape[1]}"
        )
    # One column per centroid keeps memory at n x k, however many customers there are.
    distances = np.column_stack([np.linalg.norm(X - c, axis=1) for c in centroids])
    labels = np.argmin(distances, axis=1).astype("int64")
    ordered = np.sort(distances, axis=1)
    margin = ordered[:, 1] - ordered[:, 0] if len(centroids) > 1 else np.full(len(X), np.nan)
    return labels, ordered[:, 0], margin


def _elbow_distance(k: np.ndarray, inertia: np.ndarray) -> np.ndarray:
    """Kneedle difference: how far each point lies below the chord of the scaled inertia curve."""
    if len(k) < 3:
        return np.full(len(k), np.nan)
    x = (k - k[0]) / (k[-1] - k[0])
    span = inertia.max() - inertia.min()
    if span <= 0:
        return np.zeros(len(k))
    y = (inertia - inertia.min()) / span
    # The chord runs from (0, y[0]) to (1, y[-1]); a decreasing convex curve lies below it.
    return (y[0] + (y[-1] - y[0]) * x) - y


def _rule_columns(evaluation: pd.DataFrame) -> pd.DataFrame:
    """Add ranks, votes and mean rank of the four criteria to an evaluation table."""
    table = evaluation.sort_values("k", kind="stable").reset_index(drop=True)
    table["elbow_distance"] = _elbow_distance(
        table["k"].to_numpy(dtype=float), table["inertia"].to_numpy(dtype=float)
    )
    voters: list[list[str]] = [[] for _ in range(len(table))]
    for name, column, higher, label in CRITERIA:
        values = table[column].astype(float)
        table[f"{name}_rank"] = values.rank(method="min", ascending=not higher)
        if values.notna().any():
            best = values.idxmax() if higher else values.idxmin()  # first (smallest k) on ties
            voters[best].append(label)
    table["votes"] = np.array([len(v) for v in voters], dtype="int64")
    table["voted_by"] = [", ".join(v) for v in voters]
    ranks = table[[f"{name}_rank" for name, *_ in CRITERIA]]
    table["mean_rank"] = ranks.mean(axis=1, skipna=True)
    return table


def _predict(model: KMeans, X: np.ndarray) -> np.ndarray:
    return model.predict(X)


@dataclass(frozen=True)
class BacktestSample:
    """The customers of the backtest, ready for :func:`evaluate_k`.

    Attributes
    ----------
    X : numpy.ndarray, shape (n_customers, n_features)
        Customers as of the cutoff, in the model space of a feature transform fitted at the
        cutoff (the same pipeline, fitted on lines before the cutoff only).
    outcome : numpy.ndarray of bool, shape (n_customers,)
        True when the customer bought in the horizon after the cutoff.
    """

    X: np.ndarray
    outcome: np.ndarray

    def __post_init__(self) -> None:
        X = _as_matrix(self.X)
        outcome = np.asarray(self.outcome)
        if outcome.shape != (len(X),):
            raise ValueError(
                f"the backtest has {len(X)} customers but {outcome.size} outcome values"
            )
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "outcome", outcome.astype(bool))


@_single_threaded
def label_stability(
    X: np.ndarray,
    reference_labels: np.ndarray,
    k: int,
    *,
    resamples: int = STABILITY_RESAMPLES,
    fraction: float = STABILITY_FRACTION,
    random_state: int = 42,
    n_init: int = 10,
) -> tuple[float, float]:
    """Mean and minimum adjusted Rand index of refits on random subsamples against the reference.

    Parameters
    ----------
    X : array-like, shape (n_customers, n_features)
        The stability sample, in model space.
    reference_labels : array-like of int, shape (n_customers,)
        The candidate's labels of these customers.
    k : int
        Clusters of every refit.
    resamples : int, optional
        Number of refits (>= 1), each on ``round(fraction * n)`` customers drawn without
        replacement and with k-means seed ``(random_state + 1 + b) mod 2**32`` (numpy's seeds
        stop at 2**32 - 1, the largest ``cluster_random_state``).
    fraction : float, optional
        Share of the sample each refit sees, in (0, 1].
    random_state, n_init : int, optional
        Seeds and k-means++ restarts.

    Returns
    -------
    mean_ari, min_ari : float
        Adjusted Rand index of each refit's labels of all ``X`` against ``reference_labels``.
    """
    X = _as_matrix(X)
    if int(resamples) < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    if not 0 < float(fraction) <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    size = max(int(k) + 1, round(float(fraction) * len(X)))
    scores = []
    for b in range(int(resamples)):
        seed = (int(random_state) + 1 + b) % 2**32
        rows = np.random.RandomState(seed).choice(len(X), size=min(size, len(X)), replace=False)
        if len(np.unique(X[rows], axis=0)) < int(k):
            continue
        model = _fit_kmeans(X[rows], k, seed, n_init)
        scores.append(adjusted_rand_score(reference_labels, _predict(model, X)))
    if not scores:
        return float("nan"), float("nan")
    return float(np.mean(scores)), float(np.min(scores))


@_single_threaded
def evaluate_k(
    X: np.ndarray,
    k_values: Iterable[int] = range(3, 11),
    *,
    random_state: int = 42,
    n_init: int = 10,
    silhouette_sample_size: int | None = SILHOUETTE_SAMPLE_SIZE,
    max_samples: int | None = MAX_SAMPLES,
    stability_resamples: int = STABILITY_RESAMPLES,
    stability_fraction: float = STABILITY_FRACTION,
    stability_sample_size: int | None = STABILITY_SAMPLE_SIZE,
    backtest: BacktestSample | None = None,
    backtest_sample_size: int | None = BACKTEST_SAMPLE_SIZE,
    count_unnamed: Callable[[np.ndarray, np.ndarray], int] | None = None,
) -> pd.DataFrame:
    """Fit k-means for each candidate k and measure everything the rule reads.

    Parameters
    ----------
    X : array-like, shape (n_customers, n_features)
        Customers in model space.
    k_values : iterable of int, optional
        Candidates; those the data cannot support are dropped (see module docstring).
    random_state : int, optional
        Seed of k-means++ and of every sample.
    n_init : int, optional
        k-means++ restarts per fit.
    silhouette_sample_size, max_samples : int or None, optional
        Silhouette sample and evaluation sample sizes (all customers if None or fewer).
    stability_resamples, stability_fraction, stability_sample_size : optional
        Refits per candidate, the share each sees, and the stability sample size (see
        :func:`label_stability`). ``stability_resamples=0`` skips stability (NaN).
    backtest : BacktestSample or None, optional
        Cutoff customers and outcomes; None skips the backtest (NaN).
    backtest_sample_size : int or None, optional
        The cutoff k-means are fitted on a deterministic sample of at most this many backtest
        customers (all if None); every backtest customer is then labelled and scored.
    count_unnamed : callable or None, optional
        ``count_unnamed(rows, labels)``: how many of a candidate's clusters earn no persona, given
        the rows of ``X`` evaluated and their labels (``unnamed_clusters``; NaN if None).

    Returns
    -------
    pandas.DataFrame, one row per feasible candidate k, sorted by k
        ``k``, ``n_customers_evaluated``, ``n_silhouette_samples``, ``inertia`` (sum of squared
        distances on the evaluated sample), ``silhouette``, ``davies_bouldin``,
        ``calinski_harabasz``, ``n_stability_samples``, ``stability_ari``,
        ``stability_ari_min``, ``n_backtest_customers``, ``backtest_repeat_rate`` (base rate),
        ``backtest_auc``, ``backtest_auc_se`` (its standard error), ``unnamed_clusters``, then
        the vote's columns: ``elbow_distance``, ``<criterion>_rank``
        (1 = best) for the four criteria, ``votes``, ``voted_by`` and ``mean_rank``.

    Raises
    ------
    ValueError
        Degenerate data (see :func:`check_segmentable`) or no feasible candidate.
    """
    X = _as_matrix(X)
    check_segmentable(X)
    sample_rows = _sample_indices(len(X), max_samples, random_state)
    sample = X[sample_rows]
    n_distinct = check_segmentable(sample)
    requested = sorted({int(k) for k in k_values})
    candidates = feasible_k_values(requested, len(sample), n_distinct)
    if not candidates:
        raise ValueError(
            f"no candidate k in {requested} fits {len(sample)} customers with {n_distinct} "
            f"distinct profiles: k must lie between 2 and {min(n_distinct, len(sample) - 1)}"
        )
    silhouette_rows = _sample_indices(len(sample), silhouette_sample_size, random_state)
    stability_rows = _sample_indices(len(sample), stability_sample_size, random_state)
    models = {k: _fit_kmeans(sample, k, random_state, n_init) for k in candidates}
    # Silhouette needs 2 <= labels <= rows - 1 on its sample; it is NaN for a candidate without.
    scored = [
        k
        for k, model in models.items()
        if 2 <= len(np.unique(model.labels_[silhouette_rows])) <= len(silhouette_rows) - 1
    ]
    silhouettes = dict.fromkeys(candidates, np.nan)
    if scored:
        silhouettes.update(
            zip(
                scored,
                silhouette_scores(
                    sample[silhouette_rows], [models[k].labels_[silhouette_rows] for k in scored]
                ),
                strict=True,
            )
        )
    if backtest is not None:
        backtest_fit = backtest.X[
            _sample_indices(len(backtest.X), backtest_sample_size, random_state)
        ]
        backtest_distinct = len(np.unique(backtest_fit, axis=0))
    rows = []
    for k, model in models.items():
        stability = (np.nan, np.nan)
        if stability_resamples:
            stability = label_stability.__wrapped__(  # already single-threaded here
                sample[stability_rows],
                model.labels_[stability_rows],
                k,
                resamples=stability_resamples,
                fraction=stability_fraction,
                random_state=random_state,
                n_init=n_init,
            )
        auc = np.nan
        if backtest is not None and k <= min(backtest_distinct, len(backtest_fit) - 1):
            cut_model = _fit_kmeans(backtest_fit, k, random_state, n_init)
            auc = grouping_auc(
                _predict(cut_model, backtest.X), backtest.outcome, random_state=random_state
            )
        rows.append(
            {
                "k": k,
                "n_customers_evaluated": len(sample),
                "n_silhouette_samples": len(silhouette_rows),
                "inertia": float(model.inertia_),
                "silhouette": float(silhouettes[k]),
                "davies_bouldin": float(davies_bouldin_score(sample, model.labels_)),
                "calinski_harabasz": float(calinski_harabasz_score(sample, model.labels_)),
                "n_stability_samples": len(stability_rows) if stability_resamples else 0,
                "stability_ari": stability[0],
                "stability_ari_min": stability[1],
                "n_backtest_customers": 0 if backtest is None else len(backtest.X),
                "backtest_repeat_rate": (
                    np.nan if backtest is None else float(backtest.outcome.mean())
                ),
                "backtest_auc": float(auc),
                "backtest_auc_se": auc_standard_error(
                    auc, int(backtest.outcome.sum()), int((~backtest.outcome).sum())
                )
                if backtest is not None
                else np.nan,
                "unnamed_clusters": (
                    np.nan
                    if count_unnamed is None
                    else float(count_unnamed(sample_rows, model.labels_))
                ),
            }
        )
    return _rule_columns(pd.DataFrame(rows))


def _vote(table: pd.DataFrame) -> tuple[pd.Series, str]:
    """The geometric vote among the rows of ``table``: the winning row and how it won."""
    table = _rule_columns(table)
    top = table.loc[table["votes"] == table["votes"].max()]
    elbow_k = (
        int(table.loc[table["elbow_rank"] == 1, "k"].iloc[0])
        if table["elbow_distance"].notna().any()
        else None
    )
    if len(top) == 1:
        winner, how = top.iloc[0], "most votes"
    elif elbow_k is not None and elbow_k in set(top["k"]):
        winner, how = top.loc[top["k"] == elbow_k].iloc[0], "tie broken by the elbow"
    else:
        winner = top.sort_values(["mean_rank", "k"], kind="stable").iloc[0]
        how = "tie broken by the best mean rank"
    others = "; ".join(
        f"k={int(row.k)}: {row.voted_by}"
        for row in table.itertuples()
        if row.votes and row.k != winner["k"]
    )
    sentence = (
        f"{int(winner['votes'])} of {int(table['votes'].sum())} geometric criteria vote for it "
        f"({winner['voted_by'] or 'none'}); {how}"
        + (f"; other votes: {others}" if others else "")
        + f"; mean rank {winner['mean_rank']:.2f} over {len(table)} candidates"
    )
    return winner, sentence


def reproducible_candidates(
    stability_ari: pd.Series, stability_threshold: float = STABILITY_THRESHOLD
) -> tuple[pd.Series, str]:
    """Which candidates the rule chooses among, and the words that say so.

    A candidate is reproducible when its ``stability_ari`` reaches ``stability_threshold``; when
    none does, the most stable ones (within 0.05 of the best) are kept; when stability was not
    measured, every candidate is.
    """
    stability = stability_ari.astype(float)
    if stability.isna().all():
        return pd.Series(True, index=stability.index), "stability not measured"
    reproducible = stability >= stability_threshold
    if reproducible.any():
        return reproducible, f"label stability ARI >= {stability_threshold:.2f}"
    floor = stability.max() - 0.05
    return stability >= floor, (
        f"no k reaches label stability ARI {stability_threshold:.2f}; kept the most "
        f"stable (ARI >= {floor:.2f})"
    )


def choose_k(
    evaluation: pd.DataFrame,
    *,
    stability_threshold: float = STABILITY_THRESHOLD,
    auc_tolerance: float = AUC_TOLERANCE,
) -> tuple[int, str]:
    """Apply the documented rule (module docstring) to an evaluation table.

    Parameters
    ----------
    evaluation : pandas.DataFrame
        Output of :func:`evaluate_k` (any row order). ``k``, ``inertia``, ``silhouette``,
        ``davies_bouldin`` and ``calinski_harabasz`` are required; without ``stability_ari``
        (or all NaN) every candidate counts as reproducible, without ``backtest_auc`` (or all
        NaN) the geometric vote decides.
    stability_threshold : float, optional
        Minimum ``stability_ari`` of a reproducible candidate. Default 0.8.
    auc_tolerance : float, optional
        A smaller k is preferred when its ``backtest_auc`` is within this (or twice the best
        AUC's standard error ``backtest_auc_se``, if larger) of the best. Default 0.01.

    Returns
    -------
    k : int
        The chosen number of clusters.
    reason : str
        One human-readable sentence saying why.
    """
    required = ["k", "inertia", "silhouette", "davies_bouldin", "calinski_harabasz"]
    missing = [c for c in required if c not in evaluation.columns]
    if missing:
        raise ValueError(f"the k evaluation table is missing column(s) {', '.join(missing)}")
    if evaluation.empty:
        raise ValueError("the k evaluation table has no candidate k")
    table = evaluation.sort_values("k", kind="stable").reset_index(drop=True)
    for optional in ("stability_ari", "backtest_auc", "backtest_auc_se", "unnamed_clusters"):
        if optional not in table.columns:
            table[optional] = np.nan
    reproducible, stable_text = reproducible_candidates(table["stability_ari"], stability_threshold)
    pool = table.loc[
        reproducible,
        [*required, "stability_ari", "backtest_auc", "backtest_auc_se", "unnamed_clusters"],
    ]
    kept = ", ".join(str(int(k)) for k in pool["k"])
    if pool["backtest_auc"].notna().any():
        best = pool.loc[pool["backtest_auc"].idxmax()]
        tolerance = float(np.nanmax([auc_tolerance, 2 * best["backtest_auc_se"]]))
        near = pool.loc[pool["backtest_auc"] >= best["backtest_auc"] - tolerance]
        named_text = ""
        if near["unnamed_clusters"].notna().any():
            fewest = near["unnamed_clusters"].min()
            near = near.loc[near["unnamed_clusters"] == fewest]
            named_text = f" and the fewest clusters without a persona ({int(fewest)})"
        winner = near.sort_values("k", kind="stable").iloc[0]
        k = int(winner["k"])
        reason = (
            f"k={k}: the smallest reproducible k ({stable_text}: k in {kept}) whose backtest "
            f"AUC {winner['backtest_auc']:.3f} is within {tolerance:.3f} of the best "
            f"reproducible {best['backtest_auc']:.3f} (k={int(best['k'])}; tolerance = the larger "
            f"of {auc_tolerance:.3f} and twice the best AUC's standard error){named_text}"
        )
    else:
        winner, sentence = _vote(pool[required].reset_index(drop=True))
        k = int(winner["k"])
        reason = (
            f"k={k}: no backtest; among reproducible k ({stable_text}: k in {kept}), {sentence}"
        )
    own_stability = float(pool.loc[pool["k"] == k, "stability_ari"].iloc[0])
    if np.isfinite(own_stability):
        reason += f"; its stability ARI {own_stability:.3f}"
    return k, reason


def chosen_k(evaluation: pd.DataFrame) -> int:
    """The k marked ``is_chosen`` in an evaluation table (exactly one row must be)."""
    if "is_chosen" not in evaluation.columns or "k" not in evaluation.columns:
        raise ValueError("the k evaluation table needs columns k and is_chosen")
    chosen = evaluation.loc[evaluation["is_chosen"].astype(bool), "k"]
    if len(chosen) != 1:
        raise ValueError(
            f"the k evaluation table must mark exactly one chosen k, found {len(chosen)}"
        )
    return int(chosen.iloc[0])


def _check_k_range(k_min: int, k_max: int) -> None:
    for name, value in (("k_min", k_min), ("k_max", k_max)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
            raise ValueError(f"{name} must be an integer >= 2, got {value!r}")
    if k_min > k_max:
        raise ValueError(f"k_min={k_min} is above k_max={k_max}")


def select_k(
    X: np.ndarray,
    k: int | Literal["auto"] = "auto",
    *,
    k_min: int = K_MIN,
    k_max: int = K_MAX,
    random_state: int = 42,
    n_init: int = 10,
    silhouette_sample_size: int | None = SILHOUETTE_SAMPLE_SIZE,
    max_samples: int | None = MAX_SAMPLES,
    stability_resamples: int = STABILITY_RESAMPLES,
    stability_fraction: float = STABILITY_FRACTION,
    stability_sample_size: int | None = STABILITY_SAMPLE_SIZE,
    backtest: BacktestSample | None = None,
    stability_threshold: float = STABILITY_THRESHOLD,
    auc_tolerance: float = AUC_TOLERANCE,
    count_unnamed: Callable[[np.ndarray, np.ndarray], int] | None = None,
) -> pd.DataFrame:
    """Evaluate the candidates ``k_min..k_max`` and record the choice: the k evaluation table.

    Parameters
    ----------
    X : array-like, shape (n_customers, n_features)
        Customers in model space.
    k : "auto" or int, optional
        "auto" applies :func:`choose_k`. An int fixes k, bypassing the rule; the candidates are
        still evaluated (the fixed k is added to them) and the reason says what the rule would
        pick.
    k_min, k_max : int, optional
        Candidate range, defaults 3 and 10.
    random_state, n_init, silhouette_sample_size, max_samples, stability_resamples,
    stability_fraction, stability_sample_size, backtest, count_unnamed
        As in :func:`evaluate_k`.
    stability_threshold, auc_tolerance
        As in :func:`choose_k`.

    Returns
    -------
    pandas.DataFrame
        :func:`evaluate_k`'s table plus ``is_reproducible``, ``is_chosen`` (exactly one True)
        and ``reason`` (why the chosen row was chosen; for the others, their evidence).
    """
    X = _as_matrix(X)
    _check_k_range(k_min, k_max)
    n_distinct = check_segmentable(X)
    candidates = set(range(int(k_min), int(k_max) + 1))
    if k != "auto":
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise ValueError(f"k must be 'auto' or an integer, got {k!r}")
        _check_fixed_k(int(k), len(X), n_distinct)
        candidates.add(int(k))
    evaluation = evaluate_k(
        X,
        candidates,
        random_state=random_state,
        n_init=n_init,
        silhouette_sample_size=silhouette_sample_size,
        max_samples=max_samples,
        stability_resamples=stability_resamples,
        stability_fraction=stability_fraction,
        stability_sample_size=stability_sample_size,
        backtest=backtest,
        count_unnamed=count_unnamed,
    )
    in_range = evaluation["k"].between(int(k_min), int(k_max))
    if not in_range.any():
        raise ValueError(
            f"no k between k_min={k_min} and k_max={k_max} fits {len(X)} customers with "
            f"{n_distinct} distinct profiles"
        )
    rule_k, rule_reason = choose_k(
        evaluation.loc[in_range],
        stability_threshold=stability_threshold,
        auc_tolerance=auc_tolerance,
    )
    if k == "auto":
        final_k, reason = rule_k, f"chosen by the rule: {rule_reason}"
    else:
        final_k = int(k)
        if final_k not in set(evaluation["k"]):
            raise ValueError(f"k={final_k} could not be evaluated on the sampled customers")
        reason = f"k={final_k} fixed by the caller; the rule alone would choose {rule_reason}"
    # The candidates the rule chose among; a fixed k outside the range is judged by the same
    # floor of stability.
    stability = evaluation["stability_ari"]
    reproducible, _ = reproducible_candidates(stability[in_range], stability_threshold)
    floor = stability[in_range][reproducible].min()
    evaluation["is_reproducible"] = stability.isna() | (stability >= floor)
    evaluation["is_chosen"] = evaluation["k"] == final_k
    evaluation["reason"] = [
        reason
        if row.is_chosen
        else "not chosen: "
        + (f"stability ARI {row.stability_ari:.3f}, " if pd.notna(row.stability_ari) else "")
        + (f"backtest AUC {row.backtest_auc:.3f}, " if pd.notna(row.backtest_auc) else "")
        + (
            f"{row.unnamed_clusters:.0f} unnamed cluster(s), "
            if pd.notna(row.unnamed_clusters)
            else ""
        )
        + f"{row.votes} geometric vote(s)"
        + (f" ({row.voted_by})" if row.votes else "")
        for row in evaluation.itertuples()
    ]
    return evaluation
