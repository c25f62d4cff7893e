"""Build the warehouse in a work file and publish it with an atomic swap.

BI tools (Metabase, Superset, notebooks) hold the published DuckDB file open read-only while a
new build runs. Building straight into that file would either fail on DuckDB's lock or let a
reader see some marts of the new build beside marts of the old one. So ``dbt build`` writes a
work file next to the published one (``<name>.building``), and only when every model and test
has passed is the work file checkpointed and renamed over the published file (``os.replace``,
atomic on one file system). A reader that already has the old file open keeps reading the old
build until it reconnects; a new connection sees the new build; nobody sees a mix. A failed
build deletes its work file and leaves the published warehouse as it was.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb

__all__ = ["build_and_publish", "main", "work_file_for"]


def work_file_for(warehouse: Path) -> Path:
    """The file a build writes before it is published over ``warehouse``."""
    return warehouse.with_name(warehouse.name + ".building")


def _remove_database_files(database: Path) -> None:
    for path in (database, database.with_name(database.name + ".wal")):
        path.unlink(missing_ok=True)


def build_and_publish(
    warehouse: Path,
    dbt_args: Sequence[str] = (),
    project_dir: Path | None = None,
    dbt_executable: Path | None = None,
) -> int:
    """Run ``dbt build`` into a work file and swap it in when it succeeds.

    Parameters
    ----------
    warehouse : Path
        The published DuckDB file (``SEGMENTS_DUCKDB_PATH``).
    dbt_args : sequence of str
        Extra arguments for ``dbt build`` (``--vars ...``, ``--select ...``).
    project_dir : Path, optional
        The dbt project; default the current folder.
    dbt_executable : Path, optional
        The dbt command; default the one installed beside this Python.

    Returns
    -------
    int
        dbt's exit code: 0 when the new warehouse was published.
    """
    warehouse = warehouse.resolve()
    work = work_file_for(warehouse)
    _remove_database_files(work)
    dbt = dbt_executable or Path(sys.executable).with_name("dbt")
    env = {**os.environ, "SEGMENTS_DUCKDB_PATH": str(work)}
    completed = subprocess.run(
        [str(dbt), "build", *dbt_args], cwd=project_dir, env=env, check=False
    )
    if completed.returncode != 0:
        _remove_database_files(work)
        print(
            f"dbt build failed (exit {completed.returncode}); the published warehouse "
            f"{warehouse} was not changed.",
            file=sys.stderr,
        )
        return completed.returncode
    # Fold the write-ahead log into the file so that the rename moves the whole database.
    with duckdb.connect(str(work)) as connection:
        connection.execute("checkpoint")
    # A log left beside the published file belongs to the old database: never replay it on the new.
    warehouse.with_name(warehouse.name + ".wal").unlink(missing_ok=True)
    os.replace(work, warehouse)
    print(f"published {warehouse}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m customer_segments.publish",
        description=(
            "Run `dbt build` into a work file and atomically replace the published warehouse "
            "when every model and test passed. Arguments after -- go to dbt build."
        ),
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=Path(os.environ.get("SEGMENTS_DUCKDB_PATH", "segments.duckdb")),
        metavar="PATH",
        help="published DuckDB file (default: $SEGMENTS_DUCKDB_PATH or segments.duckdb)",
    )
    parser.add_argument("--project-dir", type=Path, default=None, metavar="DIR",
                        help="dbt project folder (default: current folder)")
    parser.add_argument("dbt_args", nargs=argparse.REMAINDER,
                        help="arguments for dbt build, after --")
    args = parser.parse_args(argv)
    dbt_args = args.dbt_args[1:] if args.dbt_args[:1] == ["--"] else args.dbt_args
    return build_and_publish(args.warehouse, dbt_args, args.project_dir)


if __name__ == "__main__":
    raise SystemExit(main())
