"""Fixtures shared by every test folder: the default data, written once per test run.

`make test` runs the tests in two processes (pytest-xdist, one per core). A session fixture
would then run once per process; what is expensive and read-only (the default data, the default
build) is made once per test run instead, by the first process that needs it, and read by the
others (:func:`once_per_run`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from online_retail_generator import generate
from run_once import once_per_run

DEFAULT_SEED = 42


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under integration/ build the dbt project: marked `integration`, left out of the
    fast lane (`make test-fast`), except the dbt unit tests (marked `dbt_unit`)."""
    for item in items:
        if "integration" in item.path.parts and not item.get_closest_marker("dbt_unit"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def default_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The embedded default data set and its planted personas, written by the generator's CLI
    exactly as `make data` writes them (seed 42, 541,909 lines). Read-only for every test."""

    def write(folder: Path) -> list[str]:
        lines, personas = folder / f"online_retail_{DEFAULT_SEED}.csv", folder / "personas.csv"
        arguments = ["--out", str(lines), "--personas-out", str(personas)]
        assert generate.main(["--seed", str(DEFAULT_SEED), *arguments]) == 0
        return [str(lines), str(personas)]

    lines, personas = once_per_run(tmp_path_factory, "default_data", write)
    return Path(lines), Path(personas)
