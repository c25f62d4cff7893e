"""The settings of one build, as the dbt project hands them to the Python models.

The dbt vars are checked by the project's setting macros and written as one row,
``int_segmentation_settings``; :meth:`SegmentationSettings.from_row` turns that row into typed
values for the library's functions. The snapshots the fits read come as one table,
``int_customer_purchase_snapshots``, with a ``snapshot_role`` per row: :func:`snapshot_customers`
takes one role's customers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from customer_segments.naming import MIN_SHARE_MEETING_CONDITIONS
from customer_segments.personas import PersonaSettings
from customer_segments.selection import K_MAX, K_MIN

__all__ = ["SNAPSHOT_ROLES", "SegmentationSettings", "snapshot_customers"]

# int_customer_purchase_snapshots.snapshot_role: the customers of the model, the backtest's
# customers (features as of the cutoff, outcome over the horizon after it), and those one horizon
# earlier (where the purchase probability of the backtest is trained).
SNAPSHOT_ROLES: tuple[str, ...] = ("as_of_date", "backtest_cutoff", "training_cutoff")


@dataclass(frozen=True)
class SegmentationSettings:
    """Typed settings of the segmentation (defaults are the dbt project's)."""

    k: int | Literal["auto"] = "auto"
    k_min: int = K_MIN
    k_max: int = K_MAX
    min_customers: int = 50
    random_state: int = 42
    n_init: int = 10
    persona: PersonaSettings = PersonaSettings()
    min_share_meeting_conditions: float = MIN_SHARE_MEETING_CONDITIONS
    prediction_horizon_days: int = 90

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SegmentationSettings:
        """Settings from a row of ``int_segmentation_settings`` (a mapping or a Series)."""
        k_text = str(row["cluster_k"]).strip().lower()
        return cls(
            k="auto" if k_text == "auto" else int(k_text),
            k_min=int(row["cluster_k_min"]),
            k_max=int(row["cluster_k_max"]),
            min_customers=int(row["cluster_min_customers"]),
            random_state=int(row["cluster_random_state"]),
            n_init=int(row["cluster_n_init"]),
            persona=PersonaSettings(
                new_customer_max_tenure_days=int(row["new_customer_max_tenure_days"]),
                late_purchase_gap_multiple=float(row["late_purchase_gap_multiple"]),
            ),
            min_share_meeting_conditions=float(row["cluster_min_share_meeting_conditions"]),
            prediction_horizon_days=int(row["prediction_horizon_days"]),
        )

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> SegmentationSettings:
        """Settings from the one-row ``int_segmentation_settings`` table."""
        if len(table) != 1:
            raise ValueError(f"the settings table must have exactly one row, got {len(table)}")
        return cls.from_row(table.iloc[0])


def snapshot_customers(snapshots: pd.DataFrame, role: str) -> pd.DataFrame | None:
    """The customers of one ``snapshot_role``, or None when the build has no such snapshot
    (a history shorter than the cutoff: no customer had a kept line before it).

    Decimal columns arrive as Python ``Decimal`` from some engines; they are made floats. Rows
    come sorted by ``customer_id``: an engine returns a table's rows in any order (DuckDB's
    parallel scans, Spark's partitions), and k-means++ seeding, samples and cross-validation
    folds follow row order, so the fits see the same order on every run and every engine.
    """
    if role not in SNAPSHOT_ROLES:
        raise ValueError(f"unknown snapshot_role {role!r}; expected one of {SNAPSHOT_ROLES}")
    if "snapshot_role" not in snapshots.columns:
        raise ValueError("the snapshots table needs the column snapshot_role")
    rows = snapshots.loc[snapshots["snapshot_role"] == role].drop(columns="snapshot_role")
    if rows.empty:
        return None
    for column in rows.columns:
        if (
            rows[column].dtype == object
            and rows[column].map(type).astype(str).str.contains("Decimal").any()
        ):
            rows[column] = rows[column].astype(float)
    if "customer_id" in rows.columns:
        rows = rows.sort_values("customer_id", kind="mergesort")
    return rows.reset_index(drop=True)
