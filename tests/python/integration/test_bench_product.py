"""The product's side of the benchmark runner: a real `dbt build` process, timed by phase, whose
RFM is the baselines' on the same file, and whose labels their clustering call gives at the same
k (the product also runs the backtest, which chooses its k)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from .conftest import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR))

from bench import run as bench_run
from bench.baseline_duckdb import compute_rfm as duckdb_rfm
from bench.common import segment
from bench.data import ensure_dataset

LINES = 20_000


@pytest.fixture(scope="module")
def product_run(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("bench")
    code = bench_run.main(
        [
            "--sizes",
            "20k",
            "--sides",
            "dbt",
            "--runs",
            "1",
            "--keep",
            "--data-dir",
            str(out / "data"),
            "--results-log",
            str(out / "results.jsonl"),
            "--results-md",
            str(out / "RESULTS.md"),
        ]
    )
    assert code == 0
    record = json.loads((out / "results.jsonl").read_text().splitlines()[0])
    yield out, record
    shutil.rmtree(record["kept_dir"], ignore_errors=True)


def _query(record: dict, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(Path(record["kept_dir"]) / "segments.duckdb"), read_only=True) as con:
        return con.sql(sql).df()


def test_the_product_side_runs_and_its_phases_are_reported(product_run):
    out, record = product_run
    assert record["status"] == "ok" and record["peak_rss_mb"] > 0
    phases = record["phases"]
    assert phases["startup"] > 0 and phases["clustering"] > 0 and phases["tests"] > 0
    assert "cluster_k_evaluation" in record["node_seconds"]
    table = (out / "RESULTS.md").read_text()
    assert f"| 20k | {bench_run.SIDE_NAMES['dbt']} | csv | 1 |" in table
    assert "| 20k | csv | - |" in table  # the phases row


def test_the_product_computes_the_baseline_rfm_and_labels(product_run):
    out, record = product_run
    product = _query(
        record,
        "select customer_id, recency_days, frequency, monetary, tenure_days "
        "from main.fct_customer_rfm order by customer_id",
    )
    baseline = duckdb_rfm(ensure_dataset(LINES, "csv", data_dir=out / "data"))
    baseline = baseline.sort_values("customer_id").reset_index(drop=True)
    assert baseline["customer_id"].astype("int64").tolist() == product["customer_id"].tolist()
    for column in ["recency_days", "frequency", "tenure_days"]:
        assert baseline[column].astype("int64").tolist() == product[column].tolist(), column
    assert (
        baseline["monetary"].astype(float) - product["monetary"].astype(float)
    ).abs().max() < 0.005
    # The baselines' clustering call (no backtest: the vote chooses k) at the product's k gives
    # the product's labels: both sides do the same clustering work on the same RFM.
    k = int(_query(record, "select k from main.cluster_k_evaluation where is_chosen")["k"][0])
    labels = segment(baseline, k=k)["customer_clusters"][["customer_id", "persona_key"]]
    found = _query(record, "select customer_id, persona_key from main.customer_clusters")
    merged = found.merge(labels, on="customer_id", suffixes=("_product", "_baseline"))
    assert len(merged) == len(labels)
    assert (merged["persona_key_product"] == merged["persona_key_baseline"]).all()
