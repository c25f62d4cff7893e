"""Personas: conditions in original units, the customer measures they read, and the references.

Every persona of the ``cluster_personas`` seed states, in its ``rule`` column, conditions that a
marketer can read and a machine can check, in original units (days, orders, currency)::

    frequency >= 2 and monetary >= median_monetary and recency_days > median_recency_days
        and gaps_since_last_purchase > late_purchase_gap_multiple

Grammar: conditions joined by ``and``; each is ``<measure> <operator> [<factor> *] <reference>``
with an operator among ``<``, ``<=``, ``>``, ``>=``, ``=`` and a reference that is

* a number (``2``);
* a setting of :class:`PersonaSettings` (``new_customer_max_tenure_days``, default 90;
  ``late_purchase_gap_multiple``, default 2), absolute whatever the data;
* a population statistic ``<statistic>_<measure>`` with statistic ``median``, ``p25``, ``p75`` or
  ``p90`` (``median_recency_days``, ``p75_monetary``): the quantile over the customers being
  segmented, so that "recent" and "big" mean the same thing on any retailer's data.

Measures (:func:`customer_measures`), per customer:

===========================  ========================================================================
measure                      definition
===========================  ========================================================================
recency_days                 days from the last purchase to the as-of date (mart column)
frequency                    purchase invoices before the as-of date (mart column)
monetary                     net revenue: purchases minus returns (mart column)
tenure_days                  days from the first purchase to the as-of date (mart column)
average_purchase_gap_days    (last - first purchase date) / (frequency - 1), in days; NaN for one
                             order. Equal to (tenure_days - recency_days) / (frequency - 1); taken
                             from the mart when it has the column.
gaps_since_last_purchase     recency_days / max(average_purchase_gap_days, 7): how many of their
                             usual gaps have passed since the last order (1 = on rhythm). NaN for
                             one order. The floor of a week (MIN_PURCHASE_GAP_DAYS): dates are
                             days and trade has weekly cycles, so a customer who orders daily is
                             not late after a long weekend, and two orders on one day stay finite.
===========================  ========================================================================

Why a customer's own rhythm: a wholesaler who orders weekly and has not ordered for 40 days is
late although 40 days is "recent" for the base; a customer who orders twice a year is not late
after 100 days. For a steady buyer whose gaps are roughly exponential, going more than twice the
usual gap without an order happens about one time in seven (``exp(-2)``): hence the default
``late_purchase_gap_multiple`` of 2. The population median of recency guards the other side: a
customer more recent than half the base is never called at risk.

Rule personas (``assigned_by = rule``: ``no_purchase``, ``refunded``) are judged per customer and
take the customer out of the clustering (:func:`rule_persona_keys`). Cluster personas
(``assigned_by = conditions``) are judged on the cluster's median customer
(:func:`median_profiles`) and on the share of members who meet them (:func:`member_shares`),
see :mod:`customer_segments.naming`.

Why activity is judged by rhythm for the active personas (``high_value``, ``loyal``,
``promising``, ``occasional``): "more recent than the median customer" is false for half of a
shop's weekly regulars when most of its customers bought in the last weeks, and true of a
customer gone for a year when most of the base has lapsed. Not late against their own rhythm,
and not among the quarter of customers who bought longest ago (``p75_recency_days``), holds on
both. The issue's definition of ``at_risk`` (recency above the median *and* late) is kept as
stated: the two guard each other.

Why ``occasional`` also has an absolute floor (``average_purchase_gap_days >= 30``): its other
conditions are relative, so in a base of B2B accounts that all order every few days the
accounts ordering less often than the median met them, and a cluster ordering 92 times a year
was called "buy now and then". A month or more between orders on average is what the name
promises whatever the base; a cluster that orders more often and meets nothing else gets a
descriptive ``segment_<n>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

__all__ = [
    "BASE_MEASURES",
    "MEASURES",
    "MIN_PURCHASE_GAP_DAYS",
    "PERSONA_COLUMNS",
    "REQUIRED_PERSONA_KEYS",
    "STATISTICS",
    "Condition",
    "PersonaSettings",
    "condition_results",
    "customer_measures",
    "describe_condition",
    "format_value",
    "median_profiles",
    "member_shares",
    "parse_rule",
    "persona_conditions_table",
    "population_reference",
    "rule_persona_keys",
    "validate_personas",
]

BASE_MEASURES: tuple[str, ...] = ("recency_days", "frequency", "monetary", "tenure_days")
MEASURES: tuple[str, ...] = (
    *BASE_MEASURES,
    "average_purchase_gap_days",
    "gaps_since_last_purchase",
)
# statistic name -> quantile of the segmented customers
STATISTICS: Mapping[str, float] = {"median": 0.5, "p25": 0.25, "p75": 0.75, "p90": 0.9}
OPERATORS: tuple[str, ...] = ("<=", ">=", "<", ">", "=")
# The usual gap between orders is taken as at least a week (see the module docstring).
MIN_PURCHASE_GAP_DAYS = 7.0
PERSONA_COLUMNS: tuple[str, ...] = (
    "persona_key",
    "match_priority",
    "value_rank",
    "assigned_by",
    "display_name",
    "description",
    "recommended_action",
    "rule",
    "conditions",
)
REQUIRED_PERSONA_KEYS: tuple[str, ...] = (
    "high_value",
    "at_risk",
    "occasional",
    "new",
    "refunded",
    "no_purchase",
)
_CONDITION = re.compile(
    r"^\s*(?P<measure>[a-z_][a-z0-9_]*)\s*(?P<operator><=|>=|<|>|=)\s*"
    r"(?:(?P<factor>[0-9]+(?:\.[0-9]+)?)\s*\*\s*)?(?P<reference>[A-Za-z0-9_.]+)\s*$"
)
_NUMBER = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")


@dataclass(frozen=True)
class PersonaSettings:
    """The absolute thresholds of the persona rules.

    Attributes
    ----------
    new_customer_max_tenure_days : int
        A customer whose first purchase is at most this many days before the as-of date is new.
        Default 90.
    late_purchase_gap_multiple : float
        A repeat customer is late when more than this many of their usual gaps between orders
        have passed since their last order. Default 2.
    """

    new_customer_max_tenure_days: int = 90
    late_purchase_gap_multiple: float = 2.0

    def __post_init__(self) -> None:
        days = self.new_customer_max_tenure_days
        if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1:
            raise ValueError(
                f"new_customer_max_tenure_days must be a whole number of days >= 1, got {days!r}"
            )
        multiple = self.late_purchase_gap_multiple
        if isinstance(multiple, bool) or not np.isfinite(float(multiple)) or float(multiple) <= 0:
            raise ValueError(f"late_purchase_gap_multiple must be > 0, got {multiple!r}")

    def as_dict(self) -> dict[str, float]:
        return {key: float(value) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class Condition:
    """One parsed condition ``measure operator [factor *] reference``."""

    measure: str
    operator: str
    factor: float
    reference: str

    @property
    def reference_text(self) -> str:
        """The right-hand side as written: ``'2 * new_customer_max_tenure_days'``."""
        factor = "" if self.factor == 1.0 else f"{format_value(self.factor)} * "
        return f"{factor}{self.reference}"

    @property
    def text(self) -> str:
        return f"{self.measure} {self.operator} {self.reference_text}"

    def threshold(self, reference: Mapping[str, float], settings: PersonaSettings) -> float:
        """The condition's threshold in the measure's units."""
        values = settings.as_dict()
        if _NUMBER.match(self.reference):
            base = float(self.reference)
        elif self.reference in values:
            base = values[self.reference]
        elif self.reference in reference:
            base = float(reference[self.reference])
        else:
            raise ValueError(
                f"condition {self.text!r} needs the population statistic {self.reference}, "
                "which was not computed"
            )
        return self.factor * base


def parse_rule(rule: str) -> tuple[Condition, ...]:
    """Parse a persona rule (module docstring grammar) into its conditions.

    Raises
    ------
    ValueError
        Naming the condition that does not parse or the unknown measure, setting or statistic.
    """
    if not isinstance(rule, str) or not rule.strip():
        raise ValueError(f"a persona rule must be non-empty text, got {rule!r}")
    settings = PersonaSettings().as_dict()
    references = {f"{s}_{m}" for s in STATISTICS for m in MEASURES}
    conditions = []
    for part in re.split(r"\s+and\s+", rule.strip()):
        match = _CONDITION.match(part)
        if match is None:
            raise ValueError(
                f"cannot read the condition {part!r}: write <measure> <op> [<factor> *] "
                "<reference>, e.g. 'recency_days > median_recency_days'"
            )
        measure, reference = match["measure"], match["reference"]
        if measure not in MEASURES:
            raise ValueError(
                f"unknown measure {measure!r} in {part!r}; known: {', '.join(MEASURES)}"
            )
        if not (_NUMBER.match(reference) or reference in settings or reference in references):
            raise ValueError(
                f"unknown reference {reference!r} in {part!r}: use a number, a setting "
                f"({', '.join(settings)}) or <statistic>_<measure> with statistic in "
                f"{', '.join(STATISTICS)}"
            )
        factor = float(match["factor"]) if match["factor"] else 1.0
        conditions.append(Condition(measure, match["operator"], factor, reference))
    return tuple(conditions)


def validate_personas(personas: pd.DataFrame) -> pd.DataFrame:
    """Check the personas table and return it sorted by ``match_priority``.

    Parameters
    ----------
    personas : pandas.DataFrame
        The ``cluster_personas`` seed, columns :data:`PERSONA_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        The same rows sorted by ``match_priority``, index reset.

    Raises
    ------
    ValueError
        Missing columns or required keys, duplicate keys, priorities or value ranks, an
        ``assigned_by`` other than ``conditions`` / ``rule``, or a rule that does not parse
        (rule personas may not use population statistics: they are judged per customer).
    """
    if not isinstance(personas, pd.DataFrame):
        raise ValueError(f"expected the personas as a DataFrame, got {type(personas).__name__}")
    missing = [c for c in PERSONA_COLUMNS if c not in personas.columns]
    if missing:
        raise ValueError(f"the personas table is missing column(s) {', '.join(missing)}")
    keys = personas["persona_key"]
    if keys.isna().any() or keys.duplicated().any():
        raise ValueError("persona_key must be unique and not null in the personas table")
    absent = [k for k in REQUIRED_PERSONA_KEYS if k not in set(keys)]
    if absent:
        raise ValueError(f"the personas table must define {', '.join(absent)}")
    for column in ("match_priority", "value_rank"):
        values = pd.to_numeric(personas[column], errors="coerce")
        if values.isna().any() or values.duplicated().any():
            raise ValueError(f"{column} must be a unique number for every persona")
    kinds = set(personas["assigned_by"])
    if not kinds <= {"conditions", "rule"}:
        unknown = sorted(kinds - {"conditions", "rule"})
        raise ValueError(f"assigned_by must be 'conditions' or 'rule', got {unknown}")
    for row in personas.itertuples():
        try:
            conditions = parse_rule(row.rule)
        except ValueError as error:
            raise ValueError(f"persona {row.persona_key}: {error}") from None
        if row.assigned_by == "rule" and any(
            not _NUMBER.match(c.reference) and c.reference not in PersonaSettings().as_dict()
            for c in conditions
        ):
            raise ValueError(
                f"persona {row.persona_key} is assigned by rule per customer and cannot use a "
                "population statistic"
            )
    return personas.sort_values("match_priority", kind="stable").reset_index(drop=True)


def _column(rfm: pd.DataFrame, name: str) -> np.ndarray:
    values = pd.to_numeric(rfm[name], errors="coerce").to_numpy(dtype=float)
    return values


def customer_measures(rfm: pd.DataFrame) -> pd.DataFrame:
    """Every measure of :data:`MEASURES` per customer, in original units.

    Parameters
    ----------
    rfm : pandas.DataFrame, shape (n_customers, ...)
        The RFM mart: ``recency_days``, ``frequency``, ``monetary``, ``tenure_days``, and
        optionally ``average_purchase_gap_days`` (used as is when present) and ``customer_id``
        (kept). A customer without a purchase has ``frequency`` 0 and may have NULL recency and
        tenure.

    Returns
    -------
    pandas.DataFrame, shape (n_customers, len(MEASURES) [+ 1])
        ``customer_id`` (when given) and the measures, rows in the input order. The gap measures
        are NaN for fewer than two orders.

    Raises
    ------
    ValueError
        A missing column; a NULL or negative frequency; a NULL monetary; a NULL or negative
        recency or tenure for a customer with a purchase; recency above tenure.
    """
    missing = [c for c in BASE_MEASURES if c not in rfm.columns]
    if missing:
        raise ValueError(f"the RFM table is missing column(s) {', '.join(missing)}")
    frequency = _column(rfm, "frequency")
    monetary = _column(rfm, "monetary")
    if not np.isfinite(frequency).all() or (frequency < 0).any():
        raise ValueError("column frequency must be a count >= 0 for every customer")
    if not np.isfinite(monetary).all():
        raise ValueError("column monetary has missing (NULL) or infinite values")
    bought = frequency >= 1
    recency = _column(rfm, "recency_days")
    tenure = _column(rfm, "tenure_days")
    for name, values in (("recency_days", recency), ("tenure_days", tenure)):
        bad = bought & ~(np.isfinite(values) & (values >= 0))
        if bad.any():
            raise ValueError(
                f"column {name} has {int(bad.sum())} missing or negative value(s) among "
                "customers with a purchase"
            )
    if (bought & (recency > tenure)).any():
        raise ValueError("recency_days exceeds tenure_days for some customers")
    repeat = frequency >= 2
    if "average_purchase_gap_days" in rfm.columns:
        gap = _column(rfm, "average_purchase_gap_days")
        if (repeat & ~(np.isfinite(gap) & (gap >= 0))).any():
            raise ValueError(
                "average_purchase_gap_days must be >= 0 for every customer with 2 or more orders"
            )
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            gap = (tenure - recency) / (frequency - 1)
    gap = np.where(repeat, gap, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        gaps_since = np.where(repeat, recency / np.maximum(gap, MIN_PURCHASE_GAP_DAYS), np.nan)
    table = pd.DataFrame(
        {
            "recency_days": np.where(bought, recency, np.nan),
            "frequency": frequency,
            "monetary": monetary,
            "tenure_days": np.where(bought, tenure, np.nan),
            "average_purchase_gap_days": gap,
            "gaps_since_last_purchase": gaps_since,
        },
        index=rfm.index,
    )
    if "customer_id" in rfm.columns:
        table.insert(0, "customer_id", rfm["customer_id"].to_numpy())
    return table


def population_reference(measures: pd.DataFrame) -> dict[str, float]:
    """Population statistics ``<statistic>_<measure>`` over the given customers.

    Parameters
    ----------
    measures : pandas.DataFrame
        Output of :func:`customer_measures` for the customers being segmented (NaN skipped: the
        gap statistics are over repeat customers).

    Returns
    -------
    dict of str to float
        One value per statistic of :data:`STATISTICS` and measure of :data:`MEASURES`; NaN when a
        measure has no value (e.g. no repeat customer).
    """
    reference = {}
    for measure in MEASURES:
        values = measures[measure].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        for name, q in STATISTICS.items():
            reference[f"{name}_{measure}"] = (
                float(np.quantile(values, q)) if len(values) else np.nan
            )
    return reference


def condition_results(
    values: pd.DataFrame,
    conditions: Sequence[Condition],
    reference: Mapping[str, float],
    settings: PersonaSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate conditions on rows of measures (customers or median profiles).

    Returns
    -------
    met : numpy.ndarray of bool, shape (n_rows, n_conditions)
        True where the row meets the condition; a NaN value or threshold never does.
    thresholds : numpy.ndarray of float, shape (n_conditions,)
        The resolved thresholds, in the measures' units.
    """
    thresholds = np.array([c.threshold(reference, settings) for c in conditions], dtype=float)
    met = np.zeros((len(values), len(conditions)), dtype=bool)
    for j, condition in enumerate(conditions):
        x = values[condition.measure].to_numpy(dtype=float)
        t = thresholds[j]
        with np.errstate(invalid="ignore"):
            met[:, j] = (
                {
                    "<": x < t,
                    "<=": x <= t,
                    ">": x > t,
                    ">=": x >= t,
                    "=": x == t,
                }[condition.operator]
                & np.isfinite(x)
                & np.isfinite(t)
            )
    return met, thresholds


def format_value(value: float) -> str:
    """A number as a marketer reads it: whole numbers without decimals, others with two."""
    if not np.isfinite(value):
        return "n/a"
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.2f}"


def describe_condition(
    condition: Condition, value: float, threshold: float, met: bool = True
) -> str:
    """The measured value against its bar, e.g. ``'recency_days 6 <= 99 (median_recency_days)'``.

    A condition not met reads ``'recency_days 50, not > 99 (median_recency_days)'``.
    """
    bar = format_value(threshold)
    if not _NUMBER.match(condition.reference):
        bar += f" ({condition.reference_text})"
    link = " " if met else ", not "
    return f"{condition.measure} {format_value(value)}{link}{condition.operator} {bar}"


def rule_persona_keys(rfm: pd.DataFrame, personas: pd.DataFrame) -> pd.Series:
    """The rule persona of each customer, or None for the customers that are clustered.

    Rule personas (``assigned_by = rule``) are tried in ``match_priority`` order, per customer.
    With the seed: ``no_purchase`` when ``frequency = 0`` (only returns before the as-of date)
    and ``refunded`` when ``frequency >= 1 and monetary <= 0``. In SQL::

        case when frequency = 0 then 'no_purchase' when monetary <= 0 then 'refunded' end

    Returns
    -------
    pandas.Series of object, index of ``rfm``
        Persona key, or None.
    """
    personas = validate_personas(personas)
    measures = customer_measures(rfm)
    keys = pd.Series([None] * len(rfm), index=rfm.index, dtype=object)
    for row in personas.loc[personas["assigned_by"] == "rule"].itertuples():
        met, _ = condition_results(measures, parse_rule(row.rule), {}, PersonaSettings())
        keys[met.all(axis=1) & keys.isna().to_numpy()] = row.persona_key
    return keys


def median_profiles(measures: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """The median customer of every cluster: the median of each measure over its members.

    Parameters
    ----------
    measures : pandas.DataFrame, shape (n_customers, ...)
        Output of :func:`customer_measures` for the clustered customers.
    labels : array-like of int, shape (n_customers,)
        Cluster of each customer.

    Returns
    -------
    pandas.DataFrame, index ``cluster_id`` (sorted)
        ``customer_count``, ``repeat_share`` (share with 2+ orders) and the median of every
        measure. The gap medians are over the members with 2+ orders (NaN when there are none).
    """
    frame = measures[list(MEASURES)].copy()
    frame["cluster_id"] = np.asarray(labels, dtype="int64")
    grouped = frame.groupby("cluster_id", sort=True)
    profiles = grouped[list(MEASURES)].median()
    profiles.insert(0, "repeat_share", grouped["frequency"].apply(lambda f: float((f >= 2).mean())))
    profiles.insert(0, "customer_count", grouped.size().astype("int64"))
    return profiles


def member_shares(
    measures: pd.DataFrame,
    labels: np.ndarray,
    personas: pd.DataFrame,
    reference: Mapping[str, float],
    settings: PersonaSettings = PersonaSettings(),
) -> pd.DataFrame:
    """Per cluster and cluster persona, the share of members who meet every condition themselves.

    Parameters
    ----------
    measures : pandas.DataFrame, shape (n_customers, ...)
        Output of :func:`customer_measures` for the clustered customers.
    labels : array-like of int, shape (n_customers,)
        Cluster of each customer.
    personas : pandas.DataFrame
        The ``cluster_personas`` seed.
    reference : mapping of str to float
        Population statistics (:func:`population_reference`).
    settings : PersonaSettings, optional

    Returns
    -------
    pandas.DataFrame, index ``cluster_id`` (sorted), one column per ``assigned_by = conditions``
        persona in ``match_priority`` order; values in [0, 1].
    """
    personas = validate_personas(personas)
    labels = np.asarray(labels, dtype="int64")
    clusters = np.unique(labels)
    columns = {}
    for row in personas.loc[personas["assigned_by"] == "conditions"].itertuples():
        met, _ = condition_results(measures, parse_rule(row.rule), reference, settings)
        everything = pd.Series(met.all(axis=1).astype(float))
        columns[row.persona_key] = everything.groupby(labels).mean().reindex(clusters).to_numpy()
    return pd.DataFrame(columns, index=pd.Index(clusters, name="cluster_id"))


def persona_conditions_table(
    personas: pd.DataFrame,
    reference: Mapping[str, float],
    settings: PersonaSettings = PersonaSettings(),
) -> pd.DataFrame:
    """One row per persona condition with its resolved threshold: the published rules.

    Returns
    -------
    pandas.DataFrame
        ``persona_key``, ``condition_position`` (0-based), ``measure``, ``operator``,
        ``factor``, ``reference`` (number, setting or statistic name), ``threshold`` (in the
        measure's units) and ``condition`` (the text). A SQL model can check any customer
        against its persona with these rows.
    """
    personas = validate_personas(personas)
    rows = []
    for persona in personas.itertuples():
        for position, condition in enumerate(parse_rule(persona.rule)):
            threshold = condition.threshold(reference, settings)
            rows.append(
                {
                    "persona_key": persona.persona_key,
                    "condition_position": position,
                    "measure": condition.measure,
                    "operator": condition.operator,
                    "factor": condition.factor,
                    "reference": condition.reference,
                    "threshold": threshold,
                    "condition": condition.text,
                }
            )
    return pd.DataFrame(rows)
