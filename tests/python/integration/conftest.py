"""Fixtures that run the real dbt project on generated files, each in its own warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[3]
DBT = Path(sys.executable).with_name("dbt")
DEFAULT_SEED = 42


@dataclass
class DbtRun:
    """A finished dbt invocation: its exit code, its output and the warehouse it wrote."""

    returncode: int
    output: str
    warehouse: Path

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.sql(sql).df()


def run_dbt(
    args: list[str],
    work_dir: Path,
    raw_orders_path: Path | None = None,
    extra_env: dict[str, str] | None = None,
    profiles_dir: Path = PROJECT_DIR,
) -> DbtRun:
    """Run dbt on the project with the warehouse, target and logs inside `work_dir`.

    Only the documented settings change between runs: RAW_ORDERS_PATH and SEGMENTS_DUCKDB_PATH
    (and, for tests of the profile itself, the folder of profiles.yml).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    warehouse = work_dir / "segments.duckdb"
    env = {**os.environ, "SEGMENTS_DUCKDB_PATH": str(warehouse)}
    if raw_orders_path is not None:
        env["RAW_ORDERS_PATH"] = str(raw_orders_path)
    env.update(extra_env or {})
    command = [
        str(DBT),
        *args,
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(profiles_dir),
        "--target-path", str(work_dir / "target"),
        "--log-path", str(work_dir / "logs"),
    ]
    completed = subprocess.run(
        command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )
    return DbtRun(completed.returncode, completed.stdout + completed.stderr, warehouse)


def generate(
    out_dir: Path, seed: int, suffix: str = "csv", lines: int | None = None
) -> tuple[Path, Path]:
    """Write the generator's order lines and planted personas for `seed` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    order_lines = out_dir / f"online_retail_{seed}.{suffix}"
    personas = out_dir / f"online_retail_{seed}_personas.csv"
    subprocess.run(
        [
            sys.executable, "-m", "customer_segments.generate",
            "--seed", str(seed), "--out", str(order_lines), "--personas-out", str(personas),
            *(["--format", "parquet"] if suffix == "parquet" else []),
            *(["--lines", str(lines)] if lines else []),
        ],
        check=True,
        cwd=PROJECT_DIR,
    )
    return order_lines, personas


@pytest.fixture(scope="session")
def default_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The embedded default data set (generator seed 42), as `make data` writes it."""
    return generate(tmp_path_factory.mktemp("default_data"), DEFAULT_SEED)


@pytest.fixture(scope="session")
def default_build(default_data: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """`dbt build` of the whole project on the default data."""
    run = run_dbt(["build"], tmp_path_factory.mktemp("default_build"), default_data[0])
    assert run.returncode == 0, run.output[-5000:]
    return run
