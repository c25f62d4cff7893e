"""What every side of the benchmark shares: project paths, the rule lookups and the clustering call.

The cleaning rules that live in seeds (non-product stock codes) and the personas are read from the
project's seed files, so a baseline cannot drift from the product when a seed changes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

PROJECT_DIR = Path(__file__).resolve().parents[1]
SEEDS_DIR = PROJECT_DIR / "seeds"
BIN_DIR = Path(sys.executable).parent

# The RFM columns every side must agree on (names of the product's fct_customer_rfm).
RFM_COLUMNS = ["customer_id", "recency_days", "frequency", "monetary", "tenure_days"]


def non_product_codes() -> tuple[list[str], list[str]]:
    """Upper-cased exact codes and prefixes of ``seeds/non_product_stock_codes.csv``."""
    seed = pd.read_csv(SEEDS_DIR / "non_product_stock_codes.csv", dtype=str)
    codes = seed["stock_code"].str.strip().str.upper()
    exact = sorted(set(codes[seed["match_type"] == "exact"]))
    prefixes = sorted(set(codes[seed["match_type"] == "prefix"]))
    return exact, prefixes


def personas() -> pd.DataFrame:
    """The ``cluster_personas`` seed, as the dbt models read it."""
    return pd.read_csv(SEEDS_DIR / "cluster_personas.csv")


def segment(rfm: pd.DataFrame, k: int | str = "auto") -> dict[str, pd.DataFrame]:
    """The one clustering call, with the settings the dbt project uses by default.

    dbt_project.yml: ``cluster_k: auto`` (candidates 3..10), ``cluster_random_state: 42``,
    ``cluster_n_init: 10``. The baselines have no backtest snapshot, so with ``k="auto"`` the
    geometric vote chooses k; the product's k also weighs the backtest.
    """
    from customer_segments.clustering import run_segmentation

    columns = [c for c in [*RFM_COLUMNS, "average_purchase_gap_days"] if c in rfm.columns]
    # In customer order, as the product's Python models read their input (k-means++ seeding
    # and the evaluation samples follow row order).
    rfm = rfm[columns].sort_values("customer_id", kind="mergesort").reset_index(drop=True)
    return run_segmentation(rfm, personas(), k=k, random_state=42, n_init=10)


def write_outputs(out_dir: Path | None, rfm: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> None:
    """Persist the RFM and the customer labels (the product persists them in its warehouse)."""
    if out_dir is None:
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    rfm.to_parquet(out_dir / "rfm.parquet", index=False)
    tables["customer_clusters"].to_parquet(out_dir / "customer_clusters.parquet", index=False)
    tables["centroids"].to_parquet(out_dir / "cluster_centroids.parquet", index=False)


def run_side(compute_rfm: Callable[[], pd.DataFrame], out_dir: Path | None) -> int:
    """Time one baseline: its RFM, then the shared clustering call and the outputs.

    Prints the line the runner reads: ``customers=... k=... rfm_seconds=... total_seconds=...``.
    """
    started = time.perf_counter()
    rfm = compute_rfm()
    rfm_seconds = time.perf_counter() - started
    tables = segment(rfm)
    write_outputs(out_dir, rfm, tables)
    k = int(tables["k_evaluation"].loc[lambda t: t["is_chosen"], "k"].iloc[0])
    print(
        f"customers={len(rfm)} k={k} rfm_seconds={rfm_seconds:.2f} "
        f"total_seconds={time.perf_counter() - started:.2f}"
    )
    return 0
