"""Name clusters after the personas whose conditions their median customer meets.

A cluster is judged on its **median customer**: the median of every measure over its members
(:func:`~customer_segments.personas.median_profiles`; for a single condition this is the same as
"at least half the members meet it"). A cluster persona is *eligible* for a cluster when the
median customer meets every condition of its rule (:mod:`customer_segments.personas`) **and**
at least ``min_share_meeting_conditions`` (default 0.5) of the members meet every condition
themselves (:func:`~customer_segments.personas.member_shares`). The second test is needed
because the median customer of several conditions can be nobody: in a cluster that straddles
the 90-day line between one-order customers who are new and those who are not, the median
tenure (136 days, pulled up by the repeat buyers) and the median frequency (1) describe a
one-order customer older than 90 days, which 4 % of the members were (measured on a seasonal
shop). Then:

1. **Best fit.** The personas are tried in ``match_priority`` order, most specific first (``new``
   before ``promising`` before ``high_value`` ...): a cluster's best-fitting persona is the
   eligible one that comes first.
2. **No shared key.** The names are one optimal one-to-one assignment
   (:func:`scipy.optimize.linear_sum_assignment`) that first names as many clusters as possible
   with an eligible persona, then minimises the total ``match_priority`` position, and among
   equal totals gives a persona to the cluster that meets it with the widest margin (the mean
   over the persona's conditions of how far inside its threshold the median customer lies, as
   a log ratio capped at 1). So when two
   clusters both qualify as ``at_risk`` and one of them also as ``big_spender_lapsed``, each
   gets one of the two names instead of one going unnamed.
3. **Never a wrong name.** A cluster left without an eligible persona gets the key
   ``segment_<cluster_id>``, the name "Segment <cluster_id>" and a description made from its
   medians, e.g. "1 order, 230 days ago, 31 spent" (plus, when it met a persona that another
   cluster fits better, "; meets occasional, the name of cluster 4").

Every cluster row says why: the conditions met with their values and thresholds, the eligible
personas, and the runner-up (the next eligible persona, or else the nearest miss: the persona
whose failed conditions fall short by the least, with the failing ones).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from customer_segments.personas import (
    PersonaSettings,
    condition_results,
    describe_condition,
    format_value,
    parse_rule,
    validate_personas,
)

__all__ = [
    "MIN_SHARE_MEETING_CONDITIONS",
    "NAMING_COLUMNS",
    "fallback_description",
    "fallback_key",
    "name_clusters",
]

# A persona names a cluster only if at least half its members meet all its conditions.
MIN_SHARE_MEETING_CONDITIONS = 0.5

NAMING_COLUMNS: tuple[str, ...] = (
    "cluster_id",
    "persona_key",
    "is_fallback",
    "persona_name",
    "persona_description",
    "persona_recommended_action",
    "value_rank",
    "eligible_persona_keys",
    "naming_reason",
    "runner_up_persona_key",
    "runner_up_reason",
)


def fallback_key(cluster_id: int) -> str:
    """The key of a cluster that meets no persona: ``segment_<cluster_id>``."""
    return f"segment_{int(cluster_id)}"


def fallback_description(profile: Mapping[str, float]) -> str:
    """Describe a median customer in words: ``'1 order, 230 days ago, 31 spent'``."""
    orders = float(profile["frequency"])
    plural = "" if orders == 1 else "s"
    return (
        f"{format_value(orders)} order{plural}, "
        f"{format_value(round(float(profile['recency_days'])))} days ago, "
        f"{format_value(round(float(profile['monetary'])))} spent"
    )


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _margins(values: np.ndarray, thresholds: np.ndarray, operators: list[str]) -> np.ndarray:
    """How far inside each condition a value lies, as a log ratio (> 0 inside)."""
    gap = _signed_log(values) - _signed_log(thresholds)
    sign = np.array([1.0 if op in (">", ">=") else -1.0 for op in operators])
    margins = gap * sign
    equal = np.array([op == "=" for op in operators])
    margins[..., equal] = -np.abs(gap[..., equal])
    return np.nan_to_num(margins, nan=-np.inf)


def name_clusters(
    profiles: pd.DataFrame,
    personas: pd.DataFrame,
    reference: Mapping[str, float],
    settings: PersonaSettings = PersonaSettings(),
    shares: pd.DataFrame | None = None,
    min_share_meeting_conditions: float = MIN_SHARE_MEETING_CONDITIONS,
) -> pd.DataFrame:
    """Give each cluster the best-fitting eligible persona, distinct across clusters.

    Parameters
    ----------
    profiles : pandas.DataFrame, shape (k, ...)
        Median customer of every cluster (:func:`~customer_segments.personas.median_profiles`),
        index = cluster id (or a ``cluster_id`` column); needs every measure the rules read.
    personas : pandas.DataFrame
        The ``cluster_personas`` seed; only ``assigned_by = conditions`` personas name clusters.
    reference : mapping of str to float
        Population statistics (:func:`~customer_segments.personas.population_reference`).
    settings : PersonaSettings, optional
        The absolute thresholds.
    shares : pandas.DataFrame or None, optional
        Share of each cluster's members meeting each persona's conditions themselves
        (:func:`~customer_segments.personas.member_shares`, index cluster id, a column per
        persona). None judges on the median customer alone.
    min_share_meeting_conditions : float, optional
        Smallest share of members that must meet a persona's conditions for it to be eligible,
        in [0, 1]. Default 0.5.

    Returns
    -------
    pandas.DataFrame, shape (k, len(NAMING_COLUMNS))
        Columns :data:`NAMING_COLUMNS`, sorted by ``cluster_id``: the key (a persona or
        ``segment_<id>``), ``is_fallback``, the persona's name, description and action (made
        from the medians for a fallback), ``value_rank`` (NaN for a fallback),
        ``eligible_persona_keys`` (comma-separated, in match order), ``naming_reason`` (the
        conditions met, with values and thresholds), ``runner_up_persona_key`` and
        ``runner_up_reason``.
    """
    personas = validate_personas(personas)
    pool = personas.loc[personas["assigned_by"] == "conditions"].reset_index(drop=True)
    if "cluster_id" in profiles.columns:
        profiles = profiles.set_index("cluster_id")
    profiles = profiles.sort_index()
    cluster_ids = profiles.index.to_numpy(dtype="int64")
    k, n_personas = len(profiles), len(pool)
    threshold = float(min_share_meeting_conditions)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(
            "min_share_meeting_conditions must lie between 0 and 1, "
            f"got {min_share_meeting_conditions!r}"
        )
    rules = [parse_rule(rule) for rule in pool["rule"]]
    results = [condition_results(profiles, rule, reference, settings) for rule in rules]
    median_meets = np.column_stack([met.all(axis=1) for met, _ in results])  # (k, n_personas)
    if shares is None:
        share = np.full(median_meets.shape, np.nan)
        eligible = median_meets
    else:
        share = shares.reindex(index=cluster_ids, columns=pool["persona_key"]).to_numpy(dtype=float)
        eligible = median_meets & (np.nan_to_num(share, nan=0.0) >= threshold)
    # Per persona, (k, n_conditions) log-ratio margins: > 0 inside a threshold, < 0 short of it.
    margins = [
        _margins(
            profiles[[c.measure for c in rule]].to_numpy(dtype=float),
            thresholds[None, :],
            [c.operator for c in rule],
        )
        for rule, (_, thresholds) in zip(rules, results, strict=True)
    ]
    margin = np.column_stack([m.clip(max=1.0).mean(axis=1) for m in margins])
    # Integer priority positions dominate; the margin term (in [0, 0.5 / k) per cluster, so
    # < 0.5 in total) only breaks ties; an ineligible pair costs more than any full assignment
    # of eligible pairs.
    tie_break = (0.5 / k) * np.clip(margin, 0, None) / (1.0 + np.clip(margin, 0, None))
    big = float(n_personas * k + 1)
    cost = np.where(eligible, np.arange(n_personas)[None, :] - tie_break, big)
    rows, cols = linear_sum_assignment(cost)
    assigned = {int(r): int(c) for r, c in zip(rows, cols, strict=True) if eligible[r, c]}
    owner = {c: r for r, c in assigned.items()}

    records = []
    for i, cluster_id in enumerate(cluster_ids):
        profile = profiles.iloc[i]
        met_keys = [str(pool.at[j, "persona_key"]) for j in range(n_personas) if eligible[i, j]]
        own = assigned.get(i)
        if own is not None:
            persona = pool.iloc[own]
            _, thresholds = results[own]
            texts = [
                describe_condition(c, float(profile[c.measure]), t)
                for c, t in zip(rules[own], thresholds, strict=True)
            ]
            members = (
                ""
                if np.isnan(share[i, own])
                else (f"; {share[i, own]:.0%} of its members meet all of them")
            )
            record = {
                "persona_key": str(persona["persona_key"]),
                "is_fallback": False,
                "persona_name": str(persona["display_name"]),
                "persona_description": str(persona["description"]),
                "persona_recommended_action": str(persona["recommended_action"]),
                "value_rank": float(persona["value_rank"]),
                "naming_reason": f"meets {persona['persona_key']}: " + "; ".join(texts) + members,
            }
        else:
            # The Hungarian assignment names a cluster whenever one of its eligible personas is
            # free, so every eligible persona of a fallback is another cluster's name.
            taken = [j for j in range(n_personas) if eligible[i, j] and j in owner]
            description = fallback_description(profile)
            action = (
                "No persona's conditions fit this segment: look at its customers before "
                "targeting it."
            )
            if taken:
                key, other = pool.at[taken[0], "persona_key"], cluster_ids[owner[taken[0]]]
                description += f"; meets {key}, the name of cluster {other}"
                action = f"Meets the conditions of {key} (cluster {other}): its action applies."
            record = {
                "persona_key": fallback_key(cluster_id),
                "is_fallback": True,
                "persona_name": f"Segment {int(cluster_id)}",
                "persona_description": description,
                "persona_recommended_action": action,
                "value_rank": np.nan,
                "naming_reason": (
                    "meets "
                    + ", ".join(
                        f"{pool.at[j, 'persona_key']} (given to cluster {cluster_ids[owner[j]]})"
                        for j in taken
                    )
                    + ", which fit other clusters better"
                    if taken
                    else "meets the conditions of no persona"
                    + _few_members(i, median_meets, share, threshold, pool)
                ),
            }
        record["runner_up_persona_key"], record["runner_up_reason"] = _runner_up(
            i,
            own,
            eligible,
            pool,
            rules,
            results,
            margins,
            profile,
            owner,
            cluster_ids,
            median_meets,
            share,
            threshold,
        )
        records.append(
            {"cluster_id": int(cluster_id), "eligible_persona_keys": ", ".join(met_keys), **record}
        )
    return pd.DataFrame(records, columns=list(NAMING_COLUMNS))


def _few_members(
    i: int, median_meets: np.ndarray, share: np.ndarray, threshold: float, pool: pd.DataFrame
) -> str:
    """Why a persona the median customer meets was not given: too few members meet it."""
    short = [j for j in range(len(pool)) if median_meets[i, j]]
    if not short:
        return ""
    return (
        "; its median customer meets "
        + ", ".join(
            f"{pool.at[j, 'persona_key']} but only {share[i, j]:.0%} of its members do"
            for j in short
        )
        + f" (at least {threshold:.0%} needed)"
    )


def _shortfall(margins: np.ndarray, met: np.ndarray, thresholds: np.ndarray) -> float:
    """Total log-ratio by which the failed conditions miss.

    A strict condition failed at equality (2 orders for ``frequency < 2``) misses by one unit of
    the measure, ``log((|t| + 2) / (|t| + 1))``, not by 0.
    """
    unit = np.log((np.abs(thresholds) + 2) / (np.abs(thresholds) + 1))
    at_equality = np.abs(margins) < 1e-12
    missing = np.where(~met, np.where(at_equality, unit, -margins), 0.0)
    return float(np.clip(missing, 0, 1e6).sum())


def _runner_up(
    i: int,
    own: int | None,
    eligible: np.ndarray,
    pool: pd.DataFrame,
    rules: list,
    results: list,
    margins: list[np.ndarray],
    profile: pd.Series,
    owner: dict[int, int],
    cluster_ids: np.ndarray,
    median_meets: np.ndarray,
    share: np.ndarray,
    threshold: float,
) -> tuple[str | None, str]:
    """The next eligible persona, or else the nearest miss, with a sentence saying why.

    The nearest miss is the persona whose failed conditions fall short by the least in total
    (:func:`_shortfall`), ties to the one tried first.
    """
    others = [j for j in range(len(pool)) if j != own]
    also = [j for j in others if eligible[i, j]]
    if own is not None and also:
        j = also[0]
        key = str(pool.at[j, "persona_key"])
        where = f", named after cluster {cluster_ids[owner[j]]}" if j in owner else ""
        return key, f"also meets {key}{where}"
    candidates = [j for j in others if not eligible[i, j]]
    if not candidates:
        return None, "no other persona"
    # A persona the median customer meets, given up for too few members, is the nearest miss.
    almost = [j for j in candidates if median_meets[i, j]]
    if almost:
        j = max(almost, key=lambda c: (np.nan_to_num(share[i, c]), -c))
        key = str(pool.at[j, "persona_key"])
        return key, (
            f"fails {key}: its median customer meets every condition but only "
            f"{share[i, j]:.0%} of its members do (at least {threshold:.0%} needed)"
        )
    shortfall = {j: _shortfall(margins[j][i], results[j][0][i], results[j][1]) for j in candidates}
    j = min(candidates, key=lambda c: (shortfall[c], c))
    key = str(pool.at[j, "persona_key"])
    met, thresholds = results[j]
    failed = [
        describe_condition(c, float(profile[c.measure]), t, met=False)
        for c, t, ok in zip(rules[j], thresholds, met[i], strict=True)
        if not ok
    ]
    return key, f"fails {key}: " + "; ".join(failed)
