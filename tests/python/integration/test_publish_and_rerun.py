"""Issue 7: reruns give identical marts; BI readers never block a build nor see a mix of builds."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pandas as pd

from customer_segments.dbt_invoke import scoped_environment
from customer_segments.publish import build_and_publish, dbt_build

from .conftest import PROJECT_DIR, SmallBuild, project_manifest, run_dbt

MARTS = [
    "fct_order_line_audit",
    "fct_customer_rfm",
    "cluster_feature_transform",
    "cluster_persona_conditions",
    "cluster_k_evaluation",
    "cluster_centroids",
    "customer_clusters",
    "dim_customer_segments",
    "fct_segment_summary",
    "fct_persona_rfm_contingency",
    "fct_persona_rfm_agreement",
    "fct_segment_backtest",
    "fct_backtest_summary",
    "fct_backtest_calibration",
    "fct_backtest_gains",
    "fct_purchase_model_comparison",
    "fct_customer_rfm_history",
    "fct_customer_segment_history",
    "fct_segment_transitions",
    "fct_segment_movements_latest",
    "fct_segment_drift",
]

# One query reads several marts; in one build they agree with each other.
SNAPSHOT_SQL = """
select
    (select count(*) from main.dim_customer_segments) as customers,
    (select sum(customer_count) from main.fct_segment_summary) as summarised_customers,
    (select count(*) from main.fct_customer_rfm) as rfm_customers,
    (select min(as_of_date) from main.dim_customer_segments) as segments_as_of,
    (select max(as_of_date) from main.fct_customer_rfm) as rfm_as_of
"""

# mode "hold": one connection open for the whole test, as Metabase or Superset keep a pool;
# mode "reconnect": a new read-only connection for every query, as a notebook or a cron job.
READER = textwrap.dedent(
    """
    import json, sys, time, duckdb
    warehouse, stop_file, out_file, sql, mode = sys.argv[1:6]
    snapshots, errors = [], []
    held = duckdb.connect(warehouse, read_only=True) if mode == "hold" else None
    while True:
        try:
            if held is not None:
                snapshots.append([str(v) for v in held.execute(sql).fetchall()[0]])
            else:
                with duckdb.connect(warehouse, read_only=True) as connection:
                    snapshots.append([str(v) for v in connection.execute(sql).fetchall()[0]])
        except Exception as error:  # a reader must never fail; record it for the test
            errors.append(repr(error))
        if __import__("os").path.exists(stop_file):
            break
        time.sleep(0.2)
    json.dump({"snapshots": snapshots, "errors": errors}, open(out_file, "w"))
    """
)


def _publish_here(warehouse: Path, data: Path, *dbt_args: str) -> int:
    """Publish in this process, on the test run's parsed manifest (no parse per publish)."""
    args = [
        *dbt_args,
        "--project-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(warehouse.parent / "target"),
        "--log-path",
        str(warehouse.parent / "logs"),
    ]
    with scoped_environment({"RAW_ORDERS_PATH": str(data)}):
        return build_and_publish(warehouse, build=dbt_build(args, manifest=project_manifest()))


def _marts(warehouse: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return {m: connection.sql(f"select * from main.{m} order by all").df() for m in MARTS}


def test_rerun_gives_identical_marts_and_readers_see_whole_builds(
    small_build: SmallBuild, tmp_path: Path
):
    # The published warehouse: the shared build of the small file (a plain `dbt build`, which a
    # publish of the same file and settings must reproduce exactly).
    warehouse = small_build.build.copy_warehouse(tmp_path / "published" / "segments.duckdb")
    small_data = small_build.data
    before = _marts(warehouse)

    stop_file = tmp_path / "stop"
    readers = {
        mode: subprocess.Popen(
            [
                sys.executable,
                "-c",
                READER,
                str(warehouse),
                str(stop_file),
                str(tmp_path / f"{mode}.json"),
                SNAPSHOT_SQL,
                mode,
            ]
        )
        for mode in ("hold", "reconnect")
    }
    time.sleep(1)
    try:
        # Same input, same settings: identical marts, labels included.
        assert _publish_here(warehouse, small_data) == 0
        after = _marts(warehouse)
        for mart in MARTS:
            # Labels, counts and pennies exactly; sums of doubles up to their last bits, which
            # DuckDB's parallel aggregation adds in any order.
            pd.testing.assert_frame_equal(
                after[mart], before[mart], obj=mart, check_exact=False, rtol=1e-12, atol=1e-12
            )
        # Another as_of_date: the readers must see one build or the other, never a mix.
        assert _publish_here(warehouse, small_data, "--vars", "{as_of_date: '2011-09-01'}") == 0
        # A build that fails halfway leaves the published marts intact and readable.
        assert _publish_here(warehouse, small_data, "--vars", "{cluster_k: 5000}") == 1
        time.sleep(1)
    finally:
        stop_file.touch()
        for reader in readers.values():
            reader.wait(timeout=60)

    seen_as_of = {}
    for mode in readers:
        reads = json.loads((tmp_path / f"{mode}.json").read_text())
        assert reads["errors"] == [], mode
        assert len(reads["snapshots"]) > 10, mode
        for customers, summarised, rfm_customers, segments_as_of, rfm_as_of in reads["snapshots"]:
            assert customers == summarised == rfm_customers, mode
            assert segments_as_of == rfm_as_of, mode
        seen_as_of[mode] = {snapshot[3] for snapshot in reads["snapshots"]}
    # The held connection keeps reading the build it opened; a new connection sees the new one.
    default_as_of = str(pd.Timestamp(before["fct_customer_rfm"]["as_of_date"].max()).date())
    assert seen_as_of["hold"] == {default_as_of}
    assert seen_as_of["reconnect"] == {default_as_of, "2011-09-01"}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        published = connection.sql("select max(as_of_date) from main.fct_customer_rfm").fetchall()
    assert str(published[0][0]) == "2011-09-01"


def test_an_unchanged_raw_file_is_not_copied_again_and_a_changed_one_is(
    small_build: SmallBuild, tmp_path: Path
):
    raw_file = tmp_path / "orders.csv"
    raw_file.write_bytes(small_build.data.read_bytes())
    work = tmp_path / "work"
    reused = "is unchanged since it was loaded"
    # The raw hook runs whatever is selected: the audit (raw lines = kept + excluded) suffices.
    audit = [
        "--select",
        "+fct_order_line_audit",
        "--indirect-selection",
        "cautious",
        "--exclude-resource-type",
        "unit_test",
    ]

    first = run_dbt(["build", *audit], work, raw_file)
    assert first.returncode == 0, first.output[-3000:]
    assert reused not in first.output
    lines = first.query("select sum(line_count) as n from main.fct_order_line_audit")["n"].item()

    # `dbt test` on the same file reuses the copy (and still passes).
    again = run_dbt(["test", *audit], work, raw_file)
    assert again.returncode == 0, again.output[-3000:]
    assert reused in again.output

    # One more line: the file changed, so it is copied again and the audit counts the line.
    with raw_file.open("ab") as handle:
        handle.write(
            b"581587,22138,BAKING SET 9 PIECE RETROSPOT ,3,12/9/2011 12:50,4.95,12680,France\n"
        )
    changed = run_dbt(["build", *audit], work, raw_file)
    assert changed.returncode == 0, changed.output[-3000:]
    assert reused not in changed.output
    assert (
        changed.query("select sum(line_count) as n from main.fct_order_line_audit")["n"].item()
        == lines + 1
    )

    # --full-refresh copies whatever the file.
    refreshed = run_dbt(
        ["run", "--full-refresh", "--select", "stg_online_retail__order_lines"], work, raw_file
    )
    assert refreshed.returncode == 0, refreshed.output[-3000:]
    assert reused not in refreshed.output


def _start_publish(warehouse: Path, data: Path, as_of: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "customer_segments.publish",
            "--warehouse",
            str(warehouse),
            "--project-dir",
            str(PROJECT_DIR),
            "--",
            "--vars",
            f"{{as_of_date: '{as_of}'}}",
            "--target-path",
            str(warehouse.parent / f"target-{as_of}"),
            "--log-path",
            str(warehouse.parent / f"logs-{as_of}"),
        ],
        cwd=PROJECT_DIR,
        env={**__import__("os").environ, "RAW_ORDERS_PATH": str(data)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_real_publishes_at_the_same_moment_publish_one_complete_build(
    small_build: SmallBuild, tmp_path: Path
):
    # The defect of issue 14: the loser's clean-up deleted the winner's work file and an empty
    # database was published. Now the second publish finds the lock and does nothing.
    warehouse = small_build.build.copy_warehouse(tmp_path / "published" / "segments.duckdb")
    small_data = small_build.data
    before = _marts(warehouse)
    publishes = {
        as_of: _start_publish(warehouse, small_data, as_of)
        # Both dates leave the small file enough customers before the training cutoff (55 and
        # 61, at least cluster_min_customers = 50) for a backtest, so every mart has rows.
        for as_of in ("2011-11-01", "2011-12-01")
    }
    results = {as_of: (p.wait(timeout=600), *p.communicate()) for as_of, p in publishes.items()}
    codes = sorted(code for code, _, _ in results.values())
    assert codes == [0, 75], results
    winner = next(as_of for as_of, (code, _, _) in results.items() if code == 0)
    loser_err = next(err for code, _, err in results.values() if code == 75)
    assert "another build of this warehouse is running (pid" in loser_err
    after = _marts(warehouse)
    for mart in MARTS:
        assert len(after[mart]) > 0, mart
    assert str(after["fct_customer_rfm"]["as_of_date"].max().date()) == winner
    assert len(after["cluster_feature_transform"]) == len(before["cluster_feature_transform"])
    assert not list(warehouse.parent.glob(".segments.duckdb.build*"))


def test_a_file_rewritten_with_its_size_and_time_kept_is_copied_again(
    small_build: SmallBuild, tmp_path: Path
):
    """Size and modification time do not prove the content unchanged: plain `dbt build` reads the
    file as it is now, while `dbt test` (which rebuilds nothing) may still reuse the copy."""
    import os

    raw_file = tmp_path / "orders.csv"
    raw_file.write_bytes(small_build.data.read_bytes())
    work = tmp_path / "work"
    staging = [
        "--select",
        "stg_online_retail__order_lines",
        "--indirect-selection",
        "cautious",
        "--exclude-resource-type",
        "unit_test",
    ]
    first = run_dbt(["build", *staging], work, raw_file)
    assert first.returncode == 0, first.output[-3000:]
    country_sql = (
        "select country from main_staging.stg_online_retail__order_lines where raw_row_number = 1"
    )
    before = first.query(country_sql)["country"].item()

    # Rewrite the first data line's country with another of the same length, and put the
    # modification time back: same path, same size, same time, different content.
    stat = raw_file.stat()
    header, first_line, rest = raw_file.read_bytes().split(b"\n", 2)
    changed_country = before[:-1] + ("z" if before[-1] != "z" else "y")
    first_line = first_line[: -len(before)] + changed_country.encode("latin-1")
    raw_file.write_bytes(b"\n".join([header, first_line, rest]))
    os.utime(raw_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert raw_file.stat().st_size == stat.st_size
    assert raw_file.stat().st_mtime_ns == stat.st_mtime_ns

    again = run_dbt(["build", *staging], work, raw_file)
    assert again.returncode == 0, again.output[-3000:]
    assert "is unchanged since it was loaded" not in again.output
    assert again.query(country_sql)["country"].item() == changed_country
