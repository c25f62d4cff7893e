"""Audiences a CRM can load: one list per persona, per first match and per downgrade move.

Read from the published warehouse (read-only): ``dim_customer_segments`` gives every customer's
current persona, ``fct_segment_movements_latest`` the customers whose persona changed between the
last two snapshots of the history. Written to ``<out>/audiences/``:

* ``persona_<persona_key>.csv`` (and ``.parquet``): the persona's current members;
* ``matched_<persona_key>.csv`` (and ``.parquet``): the customers whose first match this
  persona is, whatever their cluster (``matched_persona_key``: the first persona in the seed's
  priority order whose conditions the customer meets themselves). One list per customer; for
  ``new``, first in priority, it is every customer whose first purchase is recent, where
  ``persona_new.csv`` holds the one cluster named ``new``;
* ``downgrade_<from>_to_<to>.csv`` (and ``.parquet``): the customers of one downgrade move
  (for example ``downgrade_high_value_to_at_risk.csv``, the win-back list).

Every file has a header row and the columns of :data:`AUDIENCE_COLUMNS`
(``meets_persona_conditions``, ``matched_persona_key`` and ``next_purchase_probability`` only
when the warehouse has them), plain CSV in UTF-8, customers
sorted by net revenue, highest first. A persona's list holds every member of its cluster, as the
marts do; ``meets_persona_conditions`` marks the members who meet the persona's conditions
themselves (a cluster is named when most of them do), for a list that keeps the name's promise
to the letter. The folder is written whole beside the old one and swapped in, so a reader never finds a
mix of two builds' lists, and a persona that no longer exists leaves no stale file behind.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd

__all__ = ["AUDIENCE_COLUMNS", "audience_frames", "export_audiences", "write_audiences"]

AUDIENCE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "country",
    "persona_key",
    "persona_name",
    "meets_persona_conditions",
    "matched_persona_key",
    "moved_from_persona",
    "is_downgrade",
    "monetary",
    "recency_days",
    "next_purchase_probability",
)

_SAFE_NAME = re.compile(r"[^a-z0-9_]+")


def _file_stem(*parts: str) -> str:
    return "_".join(_SAFE_NAME.sub("_", str(part).lower()).strip("_") for part in parts)


def audience_frames(customers: pd.DataFrame, movements: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The audiences, by file stem.

    Parameters
    ----------
    customers : pandas.DataFrame
        ``dim_customer_segments``: one row per customer with ``customer_id``, ``country``,
        ``persona_key``, ``persona_name``, ``monetary``, ``recency_days`` and, when present,
        ``meets_persona_conditions``, ``matched_persona_key`` and ``next_purchase_probability``.
    movements : pandas.DataFrame
        ``fct_segment_movements_latest``: ``customer_id``, ``from_persona``, ``to_persona``,
        ``is_downgrade``, one row per customer whose persona changed in the last period.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``persona_<key>`` for every current persona, ``matched_<key>`` for every persona some
        customer matches (when ``matched_persona_key`` is given) and ``downgrade_<from>_to_<to>``
        for every downgrade move, each sorted by ``monetary`` (highest first), then
        ``customer_id``.
    """
    moves = movements[["customer_id", "from_persona", "is_downgrade"]].rename(
        columns={"from_persona": "moved_from_persona"}
    )
    table = customers.merge(moves, on="customer_id", how="left", validate="one_to_one")
    table["is_downgrade"] = table["is_downgrade"].fillna(False).astype(bool)
    columns = [c for c in AUDIENCE_COLUMNS if c in table.columns]
    table = table.sort_values(["monetary", "customer_id"], ascending=[False, True], kind="stable")
    audiences = {
        _file_stem("persona", key): members[columns].reset_index(drop=True)
        for key, members in table.groupby("persona_key", sort=True)
    }
    if "matched_persona_key" in table.columns:
        for key, members in table.groupby("matched_persona_key", sort=True):
            audiences[_file_stem("matched", key)] = members[columns].reset_index(drop=True)
    downgrades = table.loc[table["is_downgrade"]]
    for (origin, target), members in downgrades.groupby(["moved_from_persona", "persona_key"]):
        audiences[_file_stem("downgrade", origin, "to", target)] = members[columns].reset_index(
            drop=True
        )
    return audiences


def export_audiences(warehouse: Path, out_dir: Path, schema: str = "main") -> list[Path]:
    """Write the audiences into ``out_dir/audiences`` (CSV and Parquet); return the CSV paths.

    Reads the two tables from a DuckDB warehouse, then :func:`write_audiences`.

    Raises
    ------
    FileNotFoundError
        If the warehouse file does not exist.
    ValueError
        If ``dim_customer_segments`` or ``fct_segment_movements_latest`` is missing.
    """
    if not warehouse.exists():
        raise FileNotFoundError(f"warehouse {warehouse} not found: run `make build` first")
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        frames = {}
        for table in ("dim_customer_segments", "fct_segment_movements_latest"):
            try:
                frames[table] = connection.sql(f'select * from "{schema}"."{table}"').df()
            except duckdb.CatalogException:
                raise ValueError(
                    f"warehouse {warehouse} has no table {schema}.{table}: run `make build` first"
                ) from None
    return write_audiences(
        frames["dim_customer_segments"], frames["fct_segment_movements_latest"], out_dir
    )


def write_audiences(customers: pd.DataFrame, movements: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write the audiences of :func:`audience_frames` into ``out_dir/audiences``.

    The folder is written whole beside the old one and swapped in.

    Parameters
    ----------
    customers, movements : pandas.DataFrame
        ``dim_customer_segments`` and ``fct_segment_movements_latest``, as
        :func:`audience_frames` takes them.
    out_dir : Path
        The exports folder (created if missing).

    Returns
    -------
    list of Path
        The CSV files written (each has a Parquet twin).
    """
    audiences = audience_frames(customers, movements)
    out_dir.mkdir(parents=True, exist_ok=True)
    final, partial, old = (
        out_dir / name for name in ("audiences", ".audiences.partial", ".audiences.old")
    )
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    written = []
    for stem, frame in audiences.items():
        frame.to_csv(partial / f"{stem}.csv", index=False, encoding="utf-8")
        frame.to_parquet(partial / f"{stem}.parquet", index=False)
        written.append(final / f"{stem}.csv")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(partial, final)
    shutil.rmtree(old, ignore_errors=True)
    return written
