"""How much does the automatic k move when one customer is added? (README, "Segments")

Run from the project folder after ``make build`` (not collected by pytest)::

    .venv/bin/python tests/python/evaluate_k_sensitivity.py [segments.duckdb]

Reads the inputs of ``int_cluster_k_evaluation`` from a built warehouse and runs the same
library call (``customer_segments.clustering.build_k_evaluation``) on them as built, then nine
times with one more customer: a copy, under a new id, of one of nine customers spread over the
base. Prints each run's chosen k and, per candidate k, the range of the two figures the rule
reads (label stability and backtest AUC) over the ten runs. Markdown on stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd

from customer_segments.clustering import build_k_evaluation
from customer_segments.settings import SegmentationSettings, snapshot_customers

RUNS_WITH_ONE_MORE = 9


def main(argv: list[str]) -> int:
    warehouse = Path(argv[0] if argv else "segments.duckdb")
    with duckdb.connect(str(warehouse), read_only=True) as con:

        def table(name: str) -> pd.DataFrame:
            return con.sql(f"select * from {name}").df()

        settings = SegmentationSettings.from_table(
            table("main_intermediate.int_segmentation_settings")
        )
        snapshots = table("main_intermediate.int_customer_purchase_snapshots")
        transform = table("main.cluster_feature_transform")
        personas = table("main_reference.cluster_personas")

    def evaluate(snaps: pd.DataFrame) -> pd.DataFrame:
        return build_k_evaluation(
            snapshot_customers(snaps, "as_of_date"),
            transform,
            personas,
            k=settings.k,
            k_min=settings.k_min,
            k_max=settings.k_max,
            backtest_rfm=snapshot_customers(snaps, "backtest_cutoff"),
            random_state=settings.random_state,
            n_init=settings.n_init,
            min_customers=settings.min_customers,
            settings=settings.persona,
            min_share_meeting_conditions=settings.min_share_meeting_conditions,
        )

    ids = snapshots["customer_id"].drop_duplicates().sort_values().to_numpy()
    step = max(1, len(ids) // RUNS_WITH_ONE_MORE)
    runs = {"as built": evaluate(snapshots)}
    for source in ids[::step][:RUNS_WITH_ONE_MORE]:
        copy = snapshots.loc[snapshots["customer_id"] == source].assign(customer_id=ids.max() + 1)
        runs[f"+ a copy of {source}"] = evaluate(pd.concat([snapshots, copy], ignore_index=True))

    print("| run | chosen k |")
    print("| --- | ---: |")
    for name, evaluation in runs.items():
        print(f"| {name} | {int(evaluation.loc[evaluation['is_chosen'], 'k'].iloc[0])} |")
    every = pd.concat(runs.values())
    print()
    print("| k | stability ARI (min-max) | backtest AUC (min-max) | times chosen |")
    print("| ---: | --- | --- | ---: |")
    for k, rows in every.groupby("k"):
        print(
            f"| {k} | {rows['stability_ari'].min():.3f}-{rows['stability_ari'].max():.3f} "
            f"| {rows['backtest_auc'].min():.3f}-{rows['backtest_auc'].max():.3f} "
            f"| {int(rows['is_chosen'].sum())} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
