"""Issue 5: BI tools read the marts (SQLAlchemy, read-only DuckDB, Parquet); docs build offline."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy

from customer_segments.export import BI_MARTS, export_marts

from .conftest import DbtRun, run_dbt

ANALYSIS = "at_risk_customers_worth_winning_back"


@pytest.fixture(scope="module")
def readme_query(tmp_path_factory) -> str:
    """The README's query as `dbt compile` writes it (the analysis uses ref())."""
    work = tmp_path_factory.mktemp("compile")
    run = run_dbt(["compile", "--select", ANALYSIS], work)
    assert run.returncode == 0, run.output[-3000:]
    return next((work / "target" / "compiled").rglob(f"{ANALYSIS}.sql")).read_text()


def test_marts_read_through_sqlalchemy_read_only(default_build: DbtRun, readme_query: str):
    # The way Superset and other SQLAlchemy-based BI tools connect.
    engine = sqlalchemy.create_engine(
        f"duckdb:///{default_build.warehouse}", connect_args={"read_only": True}
    )
    with engine.connect() as connection:
        summary = pd.read_sql(sqlalchemy.text("select * from main.fct_segment_summary"), connection)
        at_risk = pd.read_sql(sqlalchemy.text(readme_query), connection)
        customers = connection.execute(
            sqlalchemy.text("select count(*) from main.dim_customer_segments")
        ).scalar_one()
    engine.dispose()
    assert summary["customer_count"].sum() == customers
    assert {"occasional", "high_value", "at_risk", "new"} <= set(summary["persona_key"])
    # The README query answers the question: at-risk big spenders, biggest first.
    assert len(at_risk) > 0
    assert at_risk["monetary"].is_monotonic_decreasing
    direct = default_build.query(
        "select count(*) as n from main.dim_customer_segments "
        "where persona_key = 'at_risk' and monetary_score >= 4"
    )["n"][0]
    assert len(at_risk) == direct


def test_parquet_copies_equal_the_marts(default_build: DbtRun, tmp_path: Path):
    paths = export_marts(default_build.warehouse, tmp_path / "exports")
    assert [path.stem for path in paths] == list(BI_MARTS)
    for path in paths:
        from_parquet = duckdb.sql(f"select * from read_parquet('{path}') order by all").df()
        from_warehouse = default_build.query(f"select * from main.{path.stem} order by all")
        pd.testing.assert_frame_equal(from_parquet, from_warehouse)
    assert not list((tmp_path / "exports").glob(".*partial"))


@pytest.fixture(scope="module")
def docs_target(default_data, default_build: DbtRun, tmp_path_factory) -> Path:
    """`dbt docs generate` against a copy of the default build: dbt opens its warehouse for
    writing (and its hook registers the raw file), which the shared build must not see."""
    work = tmp_path_factory.mktemp("docs")
    default_build.copy_warehouse(work / default_build.warehouse.name)
    run = run_dbt(["docs", "generate"], work, default_data[0])
    assert run.returncode == 0, run.output[-3000:]
    return work / "target"


def test_dbt_docs_generate_works_offline(docs_target: Path):
    catalog = (docs_target / "catalog.json").read_text()
    index = (docs_target / "index.html").read_text()
    assert "dim_customer_segments" in catalog and "fct_segment_summary" in catalog
    assert len(index) > 1000


def test_every_model_and_column_is_described(docs_target: Path):
    import json

    manifest = json.loads((docs_target / "manifest.json").read_text())
    catalog = json.loads((docs_target / "catalog.json").read_text())
    undocumented = []
    for unique_id, node in {**manifest["nodes"], **manifest["sources"]}.items():
        if node["resource_type"] not in {"model", "seed", "source"}:
            continue
        if not node["description"].strip():
            undocumented.append(unique_id)
        built = {**catalog["nodes"], **catalog["sources"]}.get(unique_id)
        for column in (built or {}).get("columns", {}):
            documented = {name.lower(): c for name, c in node["columns"].items()}
            if not documented.get(column.lower(), {}).get("description", "").strip():
                undocumented.append(f"{unique_id}.{column}")
    assert not undocumented, undocumented


def test_report_from_the_default_build_has_every_figure(default_build: DbtRun, tmp_path: Path):
    from customer_segments.report import FIGURE_IDS
    from customer_segments.report import main as report_main

    out = tmp_path / "segments.html"
    assert report_main(["--duckdb", str(default_build.warehouse), "--out", str(out)]) == 0
    html = out.read_text()
    # The default data has a backtest and a history of 12 months: every figure is there.
    expected = [
        "fig-k-selection",
        "fig-segment-sizes",
        "fig-snake-plot",
        "fig-recency-monetary",
        "fig-rfm-grid",
        "fig-backtest-gains",
        "fig-backtest-calibration",
        "fig-history-persona-sizes",
        "fig-history-transitions",
        "fig-history-psi",
    ]
    assert list(FIGURE_IDS) == expected
    for section_id in [
        *expected,
        "persona-table",
        "backtest",
        "backtest-persona-table",
        "purchase-model-table",
        "history",
    ]:
        assert f'id="{section_id}"' in html, section_id
    assert html.count("data:image/png;base64,") == 10
    assert "Backtest: not computed" not in html and "History: one snapshot only" not in html
    assert "http://" not in html and "https://" not in html
    summary = default_build.query("select persona_name from main.fct_segment_summary")
    for name in summary["persona_name"]:
        assert name in html


def test_a_process_that_holds_the_old_file_open_sees_the_old_build_until_it_closes_it(
    tmp_path: Path,
):
    """What the README says about reconnecting: DuckDB caches one database instance per file and
    process, so a new connection in a process that still holds one to the replaced file gets the
    old build; once every such connection is closed, the next one opens the new file."""
    import os

    published, building = tmp_path / "segments.duckdb", tmp_path / "segments.duckdb.building"
    for path, build in [(published, 1), (building, 2)]:
        with duckdb.connect(str(path)) as connection:
            connection.execute(f"create table t as select {build} as build")
    held = duckdb.connect(str(published), read_only=True)
    os.replace(building, published)  # what the publish step does
    again = duckdb.connect(str(published), read_only=True)
    assert again.sql("select build from t").fetchall() == [(1,)]
    again.close()
    held.close()
    with duckdb.connect(str(published), read_only=True) as fresh:
        assert fresh.sql("select build from t").fetchall() == [(2,)]
