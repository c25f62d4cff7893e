"""The dbt unit tests (`unit_tests:` in the models' YAML), on their own: the fast lane's check of
the SQL logic. Their parent models are built first (the persona matches' parents include the
clustering step's cluster_persona_conditions, the segment backtest's the backtest's Python
step), because dbt reads the parents' column types
from the warehouse: on a small file rather than `--empty`, because an empty build stops, rightly,
at int_as_of_date (no purchase line at all)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import generate, project_manifest, run_dbt

pytestmark = pytest.mark.dbt_unit


def test_every_dbt_unit_test_passes(tmp_path: Path):
    raw, _ = generate(tmp_path / "data", seed=3, lines=10_000)
    parents = run_dbt(
        [
            "build",
            "--select",
            "+fct_customer_rfm",
            "+int_customer_persona_matches",
            "+fct_segment_backtest",
            "--exclude-resource-type",
            "unit_test",
            "test",
        ],
        tmp_path / "build",
        raw,
    )
    assert parents.returncode == 0, parents.output[-3000:]
    run = run_dbt(["test", "--select", "test_type:unit"], tmp_path / "build", raw)
    assert run.returncode == 0, run.output[-5000:]
    unit_tests = project_manifest().unit_tests
    assert len(unit_tests) >= 7
    for unit_test in unit_tests.values():
        assert f"PASS {unit_test.model}::{unit_test.name}" in run.output, unit_test.name
