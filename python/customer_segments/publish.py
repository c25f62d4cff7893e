"""Build the warehouse in a work file and publish it with an atomic swap, one build at a time.

BI tools (Metabase, Superset, notebooks) hold the published DuckDB file open read-only while a
new build runs. Building straight into that file would either fail on DuckDB's lock or let a
reader see some marts of the new build beside marts of the old one. So a publish:

1. **takes the warehouse's lock** (``<warehouse>.lock``, an exclusive ``flock`` held for the
   whole publish and released by the kernel when the process ends, however it ends). A second
   publish of the same warehouse stops at once with "another build of this warehouse is
   running (pid ...)" and touches nothing;
2. **removes what a dead publish left behind** (its work folder), which is safe because the
   lock proves no other publish of this warehouse is running;
3. **builds into the warehouse's work folder**, ``.<warehouse name>.build/`` beside the
   warehouse (same file system, so the final rename is atomic; the work file keeps the
   warehouse's name, so its DuckDB catalog name is the published one). The lock makes it this
   publish's own, and its path is the same on every run, so dbt's profile is too and dbt parses
   only what changed since the last build (a new path would force a full parse: about 11 s).
   ``dbt build`` runs in this process through dbt's programmatic runner: there is no child
   process to orphan;
4. **checks the work file** after the checkpoint: every model the build reported as built must
   be in the file on disk with the row count the build saw (a file deleted or emptied under the
   build would fail here);
5. **swaps it in** with ``os.replace``. A reader that already has the old file open keeps
   reading the old build until it reconnects; a new connection (from a process that does not
   hold the old file open) sees the new build; nobody sees a mix.

A failed build, a failed check, a full disk or an interrupt (Ctrl-C, SIGTERM) removes the work
folder and leaves the published warehouse as it was.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import os
import re
import shutil
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from customer_segments.dbt_invoke import held_duckdb_connection, invoke_dbt

__all__ = [
    "ANOTHER_BUILD_EXIT_CODE",
    "AnotherBuildRunning",
    "BuildFailed",
    "build_and_publish",
    "dbt_build",
    "main",
    "memory_limit_problem",
    "warehouse_lock",
    "work_folder_for",
]

# Exit code of a publish that found another build of the same warehouse running (EX_TEMPFAIL).
ANOTHER_BUILD_EXIT_CODE = 75

# A build: writes a warehouse at the given path and returns {"schema.table": row count} of what
# it built (the tables the check must find in the file), or raises BuildFailed.
Builder = Callable[[Path], Mapping[str, int]]


class BuildFailed(Exception):
    """The build (or the check of its result) failed; the message says why."""


class AnotherBuildRunning(Exception):
    """Another publish holds the warehouse's lock."""


def work_folder_for(warehouse: Path) -> Path:
    """The folder a publish of ``warehouse`` builds in, beside it (one publish at a time)."""
    return warehouse.with_name(f".{warehouse.name}.build")


def _lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextlib.contextmanager
def warehouse_lock(warehouse: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``warehouse`` or raise :class:`AnotherBuildRunning`.

    The lock file stays on disk between builds (removing it would race with a publish that is
    opening it); it holds the process id of the publish that holds the lock.
    """
    path = _lock_path(warehouse)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(descriptor, 64, 0).decode(errors="replace").strip() or "unknown"
            raise AnotherBuildRunning(
                f"another build of this warehouse is running (pid {holder}; lock {path}): "
                f"nothing was done and the published warehouse {warehouse} was not changed. "
                "Wait for it to finish, then run again."
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # closing the last descriptor releases the lock


def _remove_leftovers(warehouse: Path) -> list[Path]:
    """Delete the work folders (and files of older versions) of publishes that died.

    Only called while holding the warehouse's lock: no other publish of this warehouse runs, so
    every work folder found belongs to a dead one.
    """
    removed = []
    patterns = [
        work_folder_for(warehouse).name,
        f".{warehouse.name}.build-*",  # one folder per process id, before 2026-12
        f"{warehouse.name}.building",
        f"{warehouse.name}.building.wal",
    ]
    for pattern in patterns:
        for path in warehouse.parent.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _table_counts(connection: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> dict[str, int]:
    """Row counts of ``tables`` ("schema.table") in the current database; -1 for a missing one."""
    present = {
        f"{schema}.{name}"
        for schema, name in connection.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database()"
        ).fetchall()
    }
    counts = {}
    for table in tables:
        if table not in present:
            counts[table] = -1
            continue
        schema, name = table.split(".", 1)
        counts[table] = connection.execute(f'select count(*) from "{schema}"."{name}"').fetchall()[
            0
        ][0]
    return counts


def _check_work_file(work: Path, expected: Mapping[str, int]) -> None:
    """Raise :class:`BuildFailed` unless ``work`` holds every expected table with its count."""
    if not work.is_file():
        raise BuildFailed(f"the build left no warehouse file at {work}")
    with duckdb.connect(str(work), read_only=True) as connection:
        found = _table_counts(connection, list(expected))
    wrong = [
        f"{table} ({'missing' if found[table] < 0 else f'{found[table]} rows'}, "
        f"the build made {count})"
        for table, count in expected.items()
        if found[table] != count
    ]
    if wrong:
        raise BuildFailed(
            "the work file does not hold what the build made: "
            + "; ".join(wrong[:5])
            + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else "")
        )


def _checkpoint(work: Path) -> None:
    """Fold the write-ahead log into the file, so the rename moves the whole database."""
    with duckdb.connect(str(work)) as connection:
        connection.execute("checkpoint")


def dbt_build(
    dbt_args: Sequence[str] = (), project_dir: Path | None = None, manifest: Any = None
) -> Builder:
    """The real build: ``dbt build`` in this process, into the path it is given, without dbt's
    unit tests (they run in development and CI; every data test still runs and gates the swap).

    The returned function runs dbt with ``SEGMENTS_DUCKDB_PATH`` set to the work file and returns
    the row count of every table model dbt reported as built, counted through dbt's own
    connection (the database dbt wrote, whatever happened to its file meanwhile). A parsed
    ``manifest`` (see :func:`customer_segments.dbt_invoke.parse_project`) spares the parse.
    """

    def built_tables(result) -> dict[str, int]:
        tables = [
            f"{node_result.node.schema}.{node_result.node.alias}"
            for node_result in getattr(result, "results", [])
            if node_result.node.resource_type == "model"
            and node_result.node.config.materialized in ("table", "incremental")
            and str(node_result.status) == "success"
        ]
        connection = held_duckdb_connection()
        if connection is None:
            raise BuildFailed("dbt finished but its DuckDB connection is gone: cannot check")
        return _table_counts(connection, tables)

    def build(work: Path) -> Mapping[str, int]:
        # dbt's advice: unit tests belong to development and CI (`make test` runs them all),
        # not to the production build; the data tests still gate the publish.
        args = [
            "build",
            "--exclude-resource-type",
            "unit_test",
            *(["--project-dir", str(project_dir)] if project_dir else []),
            *dbt_args,
        ]
        invocation = invoke_dbt(
            args, env={"SEGMENTS_DUCKDB_PATH": str(work)}, manifest=manifest, inspect=built_tables
        )
        if isinstance(invocation.exception, KeyboardInterrupt):
            raise invocation.exception
        if not invocation.success:
            reason = f": {invocation.exception}" if invocation.exception else ""
            raise BuildFailed(f"dbt build failed{reason}")
        return invocation.inspected

    return build


@contextlib.contextmanager
def _interrupt_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so that clean-up runs as it does for Ctrl-C."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def build_and_publish(
    warehouse: Path,
    dbt_args: Sequence[str] = (),
    project_dir: Path | None = None,
    *,
    build: Builder | None = None,
) -> int:
    """Build into a work file and swap it in when the build and the check succeed.

    Parameters
    ----------
    warehouse : Path
        The published DuckDB file (``SEGMENTS_DUCKDB_PATH``).
    dbt_args : sequence of str
        Extra arguments for ``dbt build`` (``--vars ...``, ``--select ...``).
    project_dir : Path, optional
        The dbt project; default the current folder.
    build : callable, optional
        Stand-in for the dbt build (tests): writes a warehouse at the path it is given and
        returns ``{"schema.table": rows}`` of what it made.

    Returns
    -------
    int
        0 when the new warehouse was published, :data:`ANOTHER_BUILD_EXIT_CODE` when another
        publish of this warehouse was running, 1 when the build or its check failed, 130 when
        interrupted.
    """
    warehouse = warehouse.resolve()
    build = build or dbt_build(dbt_args, project_dir)
    try:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        with warehouse_lock(warehouse), _interrupt_on_sigterm():
            for path in _remove_leftovers(warehouse):
                print(f"removed {path}, left behind by a publish that did not finish")
            folder = work_folder_for(warehouse)
            folder.mkdir()
            work = folder / warehouse.name
            try:
                expected = build(work)
                _checkpoint(work)
                _check_work_file(work, expected)
                # A log beside the published file belongs to the old database: never replay it.
                warehouse.with_name(warehouse.name + ".wal").unlink(missing_ok=True)
                os.replace(work, warehouse)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    except AnotherBuildRunning as error:
        print(str(error), file=sys.stderr)
        return ANOTHER_BUILD_EXIT_CODE
    except KeyboardInterrupt:
        print(f"interrupted: the published warehouse {warehouse} was not changed.", file=sys.stderr)
        return 130
    except (BuildFailed, duckdb.Error, OSError) as error:
        print(f"{error}; the published warehouse {warehouse} was not changed.", file=sys.stderr)
        return 1
    print(f"published {warehouse}")
    return 0


# DuckDB's memory_limit: an amount with its unit, or a share of the RAM (profiles.yml).
MEMORY_LIMIT_PATTERN = re.compile(r"\s*[0-9]+(\.[0-9]+)?\s*(%|[KMGT]i?B|B|bytes)\s*", re.IGNORECASE)


def memory_limit_problem(value: str | None) -> str | None:
    """Why ``SEGMENTS_DUCKDB_MEMORY_LIMIT`` cannot be DuckDB's memory cap, or None when it can.

    DuckDB's own messages for a bad value ("Memory must have a number (e.g. 1GB)", "Unknown unit
    for memory: ''") do not name the environment variable, and come after dbt has started.
    """
    if value is None or MEMORY_LIMIT_PATTERN.fullmatch(value):
        return None
    return (
        "The environment variable SEGMENTS_DUCKDB_MEMORY_LIMIT must be an amount with its unit "
        "or a share of the RAM, for example 4GB, 500MB or 80% (DuckDB's memory cap; unset = 80%); "
        f"got: {value[:80]!r}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m customer_segments.publish",
        description=(
            "Run `dbt build` into a work file and atomically replace the published warehouse "
            "when every model and test passed. One build per warehouse at a time. Arguments "
            "after -- go to dbt build."
        ),
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=Path(os.environ.get("SEGMENTS_DUCKDB_PATH", "segments.duckdb")),
        metavar="PATH",
        help="published DuckDB file (default: $SEGMENTS_DUCKDB_PATH or segments.duckdb)",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="dbt project folder (default: current folder)",
    )
    parser.add_argument(
        "dbt_args", nargs=argparse.REMAINDER, help="arguments for dbt build, after --"
    )
    args = parser.parse_args(argv)
    problem = memory_limit_problem(os.environ.get("SEGMENTS_DUCKDB_MEMORY_LIMIT"))
    if problem:
        print(problem, file=sys.stderr)
        return 2
    dbt_args = args.dbt_args[1:] if args.dbt_args[:1] == ["--"] else args.dbt_args
    return build_and_publish(args.warehouse, dbt_args, args.project_dir)


if __name__ == "__main__":
    raise SystemExit(main())
