"""The product's side of the benchmark, checked on the test run's default build (no build of its
own): the runner reads the build's phases from its run_results, its command is the build it
times, and the product computes the baselines' RFM and, at the same k, their labels."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import shutil
import sys
from pathlib import Path

import pandas as pd

from .conftest import PROJECT_DIR, DbtRun, project_manifest

sys.path.insert(0, str(PROJECT_DIR))

from bench import run as bench_run
from bench.baseline_duckdb import compute_rfm as duckdb_rfm
from bench.common import segment


def test_the_phases_of_a_build_are_read_from_its_run_results(default_build: DbtRun, tmp_path: Path):
    # The runner reads target/run_results.json, target/manifest.json (the models' folders)
    # and the time the process started, written beside them.
    target = tmp_path / "target"
    target.mkdir()
    shutil.copy(default_build.warehouse.parent / "target" / "run_results.json", target)
    nodes = {
        unique_id: {"original_file_path": node.original_file_path}
        for unique_id, node in project_manifest().nodes.items()
    }
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    results = json.loads((target / "run_results.json").read_text())["results"]
    first_start = min(
        dt.datetime.fromisoformat(timing["started_at"].replace("Z", "+00:00"))
        for result in results
        for timing in result["timing"]
    )
    (tmp_path / "process_started_at").write_text(
        (first_start - dt.timedelta(seconds=4)).isoformat()
    )
    executed = sum(result["execution_time"] for result in results)
    process_seconds = 4 + executed + 2

    phases, node_seconds = bench_run.dbt_phases(tmp_path, process_seconds)

    assert set(phases) == set(bench_run.PHASES)
    assert abs(phases["startup"] - 4) < 0.01
    for phase in ("load+seeds", "cleaning", "rfm", "clustering", "backtest", "history", "tests"):
        assert phases[phase] > 0, phase
    # Every second of the process is in exactly one phase.
    assert abs(sum(phases.values()) - process_seconds) < 0.05
    models = {name for name in node_seconds if ":" not in name}
    built = {
        node.name for node in project_manifest().nodes.values() if node.resource_type == "model"
    }
    assert models == built
    by_phase = {
        name: bench_run._phase_of(unique_id, "/" + node.original_file_path)
        for unique_id, node in project_manifest().nodes.items()
        if node.resource_type == "model"
        for name in [node.name]
    }
    assert by_phase["int_cluster_k_evaluation"] == "clustering"
    assert by_phase["int_purchase_probabilities"] == "backtest"
    assert by_phase["fct_segment_transitions"] == "history"
    assert by_phase["fct_customer_rfm"] == "rfm"
    assert by_phase["dim_customer_segments"] == "marts"
    assert by_phase["int_order_lines_cleaned"] == "cleaning"


def test_the_timed_command_is_the_build_with_its_variant(tmp_path: Path):
    data = tmp_path / "lines.csv"
    command = bench_run.side_command("dbt", data, tmp_path, "--vars '{history_months: 0}'")
    assert command[:2] == [str(bench_run.BIN_DIR / "dbt"), "build"]
    assert command[-2:] == ["--vars", "{history_months: 0}"]
    assert shlex.join(command).count(str(tmp_path)) == 3  # profiles, target and logs
    baseline = bench_run.side_command("duckdb", data, tmp_path, "--vars '{history_months: 0}'")
    assert "--vars" not in baseline and str(data) in baseline


def test_the_product_computes_the_baseline_rfm_and_labels(default_build: DbtRun, default_data):
    product = default_build.query(
        "select customer_id, recency_days, frequency, monetary, tenure_days "
        "from main.fct_customer_rfm order by customer_id"
    )
    baseline = duckdb_rfm(default_data[0]).sort_values("customer_id").reset_index(drop=True)
    assert baseline["customer_id"].astype("int64").tolist() == product["customer_id"].tolist()
    for column in ["recency_days", "frequency", "tenure_days"]:
        assert baseline[column].astype("int64").tolist() == product[column].tolist(), column
    gap = (baseline["monetary"].astype(float) - product["monetary"].astype(float)).abs().max()
    assert gap < 0.005
    # The baselines' clustering call (no backtest: the vote chooses k) at the product's k gives
    # the product's labels: both sides do the same clustering work on the same RFM.
    k = int(default_build.query("select k from main.cluster_k_evaluation where is_chosen")["k"][0])
    labels = segment(baseline, k=k)["customer_clusters"][["customer_id", "persona_key"]]
    found = default_build.query("select customer_id, persona_key from main.customer_clusters")
    merged = found.merge(labels, on="customer_id", suffixes=("_product", "_baseline"))
    assert len(merged) == len(labels) > 0
    mismatched = merged[merged["persona_key_product"] != merged["persona_key_baseline"]]
    assert mismatched.empty, pd.crosstab(
        merged["persona_key_product"], merged["persona_key_baseline"]
    )
