"""The project's own generic tests (macros/generic_tests) pass on good data and fail on bad."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb

from customer_segments.dbt_invoke import invoke_dbt

from .conftest import PROJECT_DIR


def _project(tmp_path: Path, rows: str) -> Path:
    project = tmp_path / "project"
    (project / "seeds").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        textwrap.dedent(f"""
        name: generic_tests_check
        version: "1.0"
        config-version: 2
        profile: generic_tests_check
        macro-paths: ["{PROJECT_DIR / "macros" / "generic_tests"}"]
        flags:
          send_anonymous_usage_stats: false
        dispatch:
          - macro_namespace: dbt
            search_order: ["generic_tests_check", "dbt"]
        data_tests:
          +store_failures: true
    """)
    )
    (project / "profiles.yml").write_text(
        textwrap.dedent(f"""
        generic_tests_check:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: "{tmp_path / "check.duckdb"}"
              threads: 1
    """)
    )
    (project / "seeds" / "grid.csv").write_text("r,f,amount,line\n" + rows)
    (project / "seeds" / "_seeds.yml").write_text(
        textwrap.dedent("""
        seeds:
          - name: grid
            data_tests:
              - unique_combination_of_columns:
                  arguments:
                    combination_of_columns: ["r", "f"]
            columns:
              - name: amount
                data_tests:
                  - expression_is_true:
                      arguments:
                        expression: "amount >= 0"
              - name: line
                data_tests:
                  - unique
    """)
    )
    return project


def _build(project: Path):
    return invoke_dbt(
        [
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(project / "target"),
            "--log-path",
            str(project / "logs"),
        ]
    )


def test_generic_tests_pass_on_good_rows(tmp_path: Path):
    run = _build(_project(tmp_path, "1,1,10,3\n1,2,0,1\n2,1,5,2\n"))
    assert run.success, run.output[-3000:]
    assert "PASS=4" in run.output


def test_generic_tests_fail_on_a_duplicate_pair_and_a_false_expression(tmp_path: Path):
    run = _build(_project(tmp_path, "1,1,10,7\n1,1,3,7\n2,1,-5,7\n3,1,1,8\n3,2,1,\n4,1,1,\n"))
    assert not run.success
    assert "FAIL 1 unique_combination_of_columns_grid_r__f" in run.output
    assert "FAIL 1 expression_is_true_grid_amount__amount_0" in run.output
    # The project's unique (sort and compare, see macros/generic_tests/test_unique.sql) ran and
    # reports what dbt's own does: each repeated value once with its count; NULLs are ignored.
    assert "FAIL 1 unique_grid_line" in run.output
    with duckdb.connect(str(tmp_path / "check.duckdb"), read_only=True) as connection:
        failures = connection.execute(
            "select unique_field, n_records from main_dbt_test__audit.unique_grid_line"
        ).fetchall()
    assert failures == [(7, 3)]
    compiled_dir = tmp_path / "project" / "target" / "compiled"
    compiled = next(compiled_dir.rglob("unique_grid_line.sql")).read_text()
    assert "previous_value" in compiled
