"""How much does the automatic k move when one customer is added? (README, "Segments")

Run from the project folder after ``make build`` (not collected by pytest)::

    .venv/bin/python tests/python/evaluate_k_sensitivity.py [segments.duckdb]

Reads the inputs of ``int_cluster_k_evaluation`` from a built warehouse and runs that dbt
Python model's own code on them (as the Spark runner does): as built, then nine times with one
more customer: a copy, under a new id, of one of nine customers spread over the
base. Prints each run's chosen k and, per candidate k, the range of the two figures the rule
reads (label stability and backtest AUC) over the ten runs. Markdown on stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd

from customer_segments.spark_runner import PythonModelContext, run_python_model

PROJECT = Path(__file__).resolve().parents[2]
MODEL = PROJECT / "models" / "intermediate" / "segmentation" / "int_cluster_k_evaluation.py"
# The model's refs and where the built warehouse holds them.
RELATIONS = {
    "int_segmentation_settings": "main_intermediate.int_segmentation_settings",
    "int_customer_purchase_snapshots": "main_intermediate.int_customer_purchase_snapshots",
    "cluster_feature_transform": "main.cluster_feature_transform",
    "cluster_personas": "main_reference.cluster_personas",
}
RUNS_WITH_ONE_MORE = 9


def main(argv: list[str]) -> int:
    warehouse = Path(argv[0] if argv else "segments.duckdb")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {name: con.sql(f"select * from {rel}").df() for name, rel in RELATIONS.items()}
    snapshots = tables["int_customer_purchase_snapshots"]

    def evaluate(snaps: pd.DataFrame) -> pd.DataFrame:
        """The dbt model's own code, on these snapshots."""
        refs = {**tables, "int_customer_purchase_snapshots": snaps}
        context = PythonModelContext(lambda name: refs[name].copy())
        return run_python_model(MODEL.read_text(), str(MODEL), context)

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
