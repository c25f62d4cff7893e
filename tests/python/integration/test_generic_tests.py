"""The project's own generic tests (macros/generic_tests) pass on good data and fail on bad."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

from .conftest import DBT, PROJECT_DIR


def _project(tmp_path: Path, rows: str) -> Path:
    project = tmp_path / "project"
    (project / "seeds").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(textwrap.dedent(f"""
        name: generic_tests_check
        version: "1.0"
        config-version: 2
        profile: generic_tests_check
        macro-paths: ["{PROJECT_DIR / 'macros' / 'generic_tests'}"]
        flags:
          send_anonymous_usage_stats: false
    """))
    (project / "profiles.yml").write_text(textwrap.dedent(f"""
        generic_tests_check:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: "{tmp_path / 'check.duckdb'}"
              threads: 1
    """))
    (project / "seeds" / "grid.csv").write_text("r,f,amount\n" + rows)
    (project / "seeds" / "_seeds.yml").write_text(textwrap.dedent("""
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
    """))
    return project


def _build(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DBT), "build", "--project-dir", str(project), "--profiles-dir", str(project)],
        cwd=project, capture_output=True, text=True, check=False,
        env={**os.environ, "DBT_LOG_PATH": str(project / "logs")},
    )


def test_generic_tests_pass_on_good_rows(tmp_path: Path):
    run = _build(_project(tmp_path, "1,1,10\n1,2,0\n2,1,5\n"))
    assert run.returncode == 0, run.stdout[-3000:]
    assert "PASS=3" in run.stdout


def test_generic_tests_fail_on_a_duplicate_pair_and_a_false_expression(tmp_path: Path):
    run = _build(_project(tmp_path, "1,1,10\n1,1,3\n2,1,-5\n"))
    assert run.returncode != 0
    assert "FAIL 1 unique_combination_of_columns_grid_r__f" in run.stdout
    assert "FAIL 1 expression_is_true_grid_amount__amount_0" in run.stdout
