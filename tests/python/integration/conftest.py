"""Fixtures that run the real dbt project on generated files, each build in its own warehouse.

dbt runs in the test process through dbt's programmatic runner, on a manifest parsed once per
test run: a build pays for its nodes, not for dbt's start-up and a parse of the project (about
4 s and 12 s of CPU as a subprocess). Vars and the documented environment variables
(RAW_ORDERS_PATH, SEGMENTS_DUCKDB_PATH) reach dbt at execution time, so one manifest serves every
test. Every warehouse file is called segments.duckdb (in its own folder), because the manifest
holds the catalog name DuckDB derives from the file name.
"""

from __future__ import annotations

import functools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from customer_segments.dbt_invoke import invoke_dbt, parse_project
from online_retail_generator import generate as generator
from run_once import once_per_run

PROJECT_DIR = Path(__file__).resolve().parents[3]
WAREHOUSE_NAME = "segments.duckdb"


# `dbt build` of the RFM mart and what it needs, with their data tests (not the dbt unit tests,
# which do not read the file: test_dbt_unit_tests runs them once).
RFM_ONLY = [
    "build",
    "--select",
    "+fct_customer_rfm",
    "--indirect-selection",
    "cautious",
    "--exclude-resource-type",
    "unit_test",
]


@dataclass
class DbtRun:
    """A finished dbt invocation: its exit code, its output and the warehouse it wrote."""

    returncode: int
    output: str
    warehouse: Path

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.sql(sql).df()

    def copy_warehouse(self, destination: Path) -> Path:
        """A private copy of the warehouse, for a test that writes to it or hands it to a tool
        that opens it for writing (a shared build is read-only for every test)."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.warehouse, destination)
        return destination


@functools.cache
def project_manifest(parse_dir: Path | None = None) -> Any:
    """The project's manifest, parsed once per test run (into a folder of its own)."""
    import tempfile

    folder = parse_dir or Path(tempfile.mkdtemp(prefix="segments-parse-"))
    return parse_project(
        PROJECT_DIR,
        profiles_dir=PROJECT_DIR,
        target_path=folder / "target",
        env={"SEGMENTS_DUCKDB_PATH": str(folder / WAREHOUSE_NAME)},
    )


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
    warehouse = work_dir / WAREHOUSE_NAME
    env: dict[str, str | None] = {"SEGMENTS_DUCKDB_PATH": str(warehouse)}
    if raw_orders_path is not None:
        env["RAW_ORDERS_PATH"] = str(raw_orders_path)
    env.update(extra_env or {})
    command = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(profiles_dir),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    invocation = invoke_dbt(command, env=env, manifest=project_manifest())
    return DbtRun(0 if invocation.success else 1, invocation.output, warehouse)


def generate(
    out_dir: Path, seed: int, suffix: str = "csv", lines: int | None = None
) -> tuple[Path, Path]:
    """Write the generator's order lines and true customer states for `seed` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    order_lines = out_dir / f"online_retail_{seed}.{suffix}"
    personas = out_dir / f"online_retail_{seed}_personas.csv"
    generator.write_dataset(
        order_lines,
        personas,
        lines or generator.DEFAULT_LINES,
        seed,
        "parquet" if suffix == "parquet" else "csv",
    )
    return order_lines, personas


@pytest.fixture(scope="session")
def default_build(
    default_data: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> DbtRun:
    """`dbt build` of the whole project on the default data, made once per test run and shared
    read-only by the tests (and by the test processes)."""

    def build(folder: Path) -> dict:
        run = run_dbt(["build"], folder, default_data[0])
        assert run.returncode == 0, run.output[-5000:]
        return {"returncode": run.returncode, "output": run.output, "warehouse": str(run.warehouse)}

    built = once_per_run(tmp_path_factory, "default_build", build)
    return DbtRun(built["returncode"], built["output"], Path(built["warehouse"]))


@dataclass
class SmallBuild:
    """A small generated file and the build of it that the tests compare their own builds with."""

    data: Path
    build: DbtRun


@pytest.fixture(scope="session")
def small_build(tmp_path_factory: pytest.TempPathFactory) -> SmallBuild:
    """10,000 generated lines (seed 11) and `dbt build` of every model and data test on them (the
    dbt unit tests do not read the file: test_dbt_unit_tests runs them once), made once per test
    run and shared read-only: the bad-input cases and the publish tests start from it."""

    def build(folder: Path) -> dict:
        data, _ = generate(folder / "data", seed=11, lines=10_000)
        run = run_dbt(["build", "--exclude-resource-type", "unit_test"], folder / "build", data)
        assert run.returncode == 0, run.output[-5000:]
        return {"data": str(data), "output": run.output, "warehouse": str(run.warehouse)}

    built = once_per_run(tmp_path_factory, "small_build", build)
    return SmallBuild(Path(built["data"]), DbtRun(0, built["output"], Path(built["warehouse"])))


@pytest.fixture(scope="session", autouse=True)
def _shared_builds_made_side_by_side(request: pytest.FixtureRequest) -> None:
    """With two or more test processes, the first builds the default warehouse while the second
    builds the small one, instead of both waiting for one build and then for the other."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None or int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) < 2:
        return
    if not any(item.get_closest_marker("integration") for item in request.session.items):
        return  # the fast lane: only the dbt unit tests, which need neither build
    order = (
        ["default_build", "small_build"] if worker == "gw0" else ["small_build", "default_build"]
    )
    request.getfixturevalue(order[0])
