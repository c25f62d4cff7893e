"""The publish step: atomic swap, one build per warehouse, nothing left behind by a dead one.

The build itself is a stand-in (a function that writes a small warehouse), so these tests run in
seconds; the integration suite publishes real dbt builds the same way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from customer_segments.export import export_marts
from customer_segments.publish import (
    ANOTHER_BUILD_EXIT_CODE,
    BuildFailed,
    build_and_publish,
    memory_limit_problem,
    work_folder_for,
)
from customer_segments.publish import main as publish_main

ROWS = 1000


def _builder(value: int, rows: int = ROWS, fail: bool = False, claim: int | None = None):
    """A build that writes table main.marker (``rows`` rows holding ``value``)."""

    def build(work: Path) -> dict[str, int]:
        with duckdb.connect(str(work)) as connection:
            connection.execute(
                f"create table main.marker as select {value} as build from range({rows})"
            )
        if fail:
            raise BuildFailed("dbt build failed")
        return {"main.marker": rows if claim is None else claim}

    return build


def _published(warehouse: Path) -> tuple[int, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute("select min(build), count(*) from main.marker").fetchall()[0]


def _leftovers(warehouse: Path) -> list[Path]:
    return sorted(warehouse.parent.glob(f".{warehouse.name}.build*"))


def test_success_publishes_and_leaves_no_work_folder(tmp_path: Path):
    warehouse = tmp_path / "segments.duckdb"
    assert build_and_publish(warehouse, build=_builder(1)) == 0
    assert _published(warehouse) == (1, ROWS)
    assert _leftovers(warehouse) == []


def test_every_publish_builds_in_the_same_folder_so_dbt_can_parse_partially(tmp_path: Path):
    # dbt re-parses the whole project when its profile changes, and the profile holds the work
    # file's path: one folder per warehouse (the lock makes it the running publish's own).
    warehouse = tmp_path / "segments.duckdb"
    seen = []

    def build(work: Path):
        seen.append(work)
        return _builder(len(seen))(work)

    assert build_and_publish(warehouse, build=build) == 0
    assert build_and_publish(warehouse, build=build) == 0
    assert seen[0] == seen[1] == work_folder_for(warehouse) / warehouse.name
    assert _published(warehouse) == (2, ROWS)


def test_work_folders_of_older_versions_are_removed(tmp_path: Path, capsys):
    warehouse = tmp_path / "segments.duckdb"
    assert build_and_publish(warehouse, build=_builder(1)) == 0
    legacy = tmp_path / ".segments.duckdb.build-4242"
    legacy.mkdir()
    (legacy / "segments.duckdb").write_bytes(b"half a database")
    assert build_and_publish(warehouse, build=_builder(2)) == 0
    assert not legacy.exists() and _leftovers(warehouse) == []
    assert "removed " in capsys.readouterr().out


def test_failure_keeps_the_published_warehouse(tmp_path: Path):
    warehouse = tmp_path / "segments.duckdb"
    build_and_publish(warehouse, build=_builder(1))
    assert build_and_publish(warehouse, build=_builder(2, fail=True)) == 1
    assert _published(warehouse) == (1, ROWS)
    assert _leftovers(warehouse) == []


def test_a_work_file_that_lacks_what_the_build_made_is_not_published(tmp_path: Path, capsys):
    warehouse = tmp_path / "segments.duckdb"
    build_and_publish(warehouse, build=_builder(1))
    # The build says it made 1,500 rows, the file holds 1,000: something lost them.
    assert build_and_publish(warehouse, build=_builder(2, claim=1500)) == 1
    assert "main.marker (1000 rows, the build made 1500)" in capsys.readouterr().err
    assert _published(warehouse) == (1, ROWS)


def test_a_missing_folder_is_created(tmp_path: Path):
    warehouse = tmp_path / "new" / "folder" / "segments.duckdb"
    assert build_and_publish(warehouse, build=_builder(3)) == 0
    assert _published(warehouse) == (3, ROWS)


def test_open_reader_keeps_its_snapshot_and_new_readers_see_the_new_build(tmp_path: Path):
    warehouse = tmp_path / "segments.duckdb"
    build_and_publish(warehouse, build=_builder(1))
    with duckdb.connect(str(warehouse), read_only=True) as reader:
        assert build_and_publish(warehouse, build=_builder(2)) == 0
        assert reader.execute("select min(build) from main.marker").fetchall()[0][0] == 1
    assert _published(warehouse) == (2, ROWS)


def test_export_names_a_missing_warehouse_and_a_missing_mart(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.duckdb"):
        export_marts(tmp_path / "nothing.duckdb", tmp_path / "out")
    warehouse = tmp_path / "segments.duckdb"
    build_and_publish(warehouse, build=_builder(1))
    with pytest.raises(ValueError, match=r"main\.dim_customer_segments"):
        export_marts(warehouse, tmp_path / "out")
    written = export_marts(warehouse, tmp_path / "out", marts=["marker"])
    assert duckdb.sql(f"select count(*) from read_parquet('{written[0]}')").fetchall() == [(ROWS,)]


# A publish in its own process, with a stand-in build that takes `seconds`; it waits for the
# file `go` to appear before starting, so that two of them start at the same moment.
PUBLISHER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import duckdb
    from customer_segments.publish import build_and_publish

    warehouse, value, seconds, go = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]

    def build(work):
        with duckdb.connect(str(work)) as connection:
            connection.execute(f"create table main.marker as select {value} as build from range(1000)")
        time.sleep(seconds)
        return {"main.marker": 1000}

    while not os.path.exists(go):
        time.sleep(0.001)
    sys.exit(build_and_publish(warehouse, build=build))
    """
)


def _start(warehouse: Path, value: int, seconds: float, go: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, str(warehouse), str(value), str(seconds), str(go)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# Thirty processes racing in pairs: part of the full suite, not of the development lane.
@pytest.mark.integration
def test_two_publishes_at_the_same_moment_never_lose_the_warehouse(tmp_path: Path):
    warehouse = tmp_path / "segments.duckdb"
    assert build_and_publish(warehouse, build=_builder(0)) == 0
    outcomes = set()
    for attempt in range(1, 16):
        go = tmp_path / f"go-{attempt}"
        first, second = (
            _start(warehouse, 2 * attempt, 0.3, go),
            _start(warehouse, 2 * attempt + 1, 0.3, go),
        )
        time.sleep(0.5)  # both are waiting for the signal
        go.touch()
        results = [(p.wait(timeout=60), *p.communicate()) for p in (first, second)]
        codes = sorted(code for code, _, _ in results)
        outcomes.add(tuple(codes))
        build, rows = _published(warehouse)
        assert rows == 1000 and build in {2 * attempt, 2 * attempt + 1}, (attempt, results)
        assert codes in ([0, 0], [0, ANOTHER_BUILD_EXIT_CODE]), results
        for code, out, err in results:
            if code == ANOTHER_BUILD_EXIT_CODE:
                assert "another build of this warehouse is running (pid" in err
                assert "nothing was done" in err and "published" not in out
        assert _leftovers(warehouse) == []
    assert (0, ANOTHER_BUILD_EXIT_CODE) in outcomes  # the race really happened


def test_a_killed_publish_leaves_nothing_the_next_one_does_not_clean(tmp_path: Path):
    warehouse = tmp_path / "segments.duckdb"
    assert build_and_publish(warehouse, build=_builder(1)) == 0
    go = tmp_path / "go"
    go.touch()
    victim = _start(warehouse, 2, 30, go)
    deadline = time.monotonic() + 30
    while not _leftovers(warehouse) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert [p.name for p in _leftovers(warehouse)] == [work_folder_for(warehouse).name]
    assert _published(warehouse) == (1, ROWS)
    assert build_and_publish(warehouse, build=_builder(3)) == 0
    assert _leftovers(warehouse) == []
    assert _published(warehouse) == (3, ROWS)


def test_a_terminated_publish_cleans_up_and_says_so(tmp_path: Path):
    warehouse = tmp_path / "segments.duckdb"
    assert build_and_publish(warehouse, build=_builder(1)) == 0
    go = tmp_path / "go"
    go.touch()
    victim = _start(warehouse, 2, 30, go)
    deadline = time.monotonic() + 30
    while not _leftovers(warehouse) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    victim.send_signal(signal.SIGTERM)
    code = victim.wait(timeout=30)
    _, err = victim.communicate()
    assert code == 130 and "interrupted" in err and "was not changed" in err
    assert _leftovers(warehouse) == []
    assert _published(warehouse) == (1, ROWS)
    assert os.path.exists(f"{warehouse}.lock")


def test_a_full_disk_at_the_final_checkpoint_says_so_and_leaves_nothing(
    tmp_path: Path, monkeypatch, capsys
):
    # Issue 14: a full disk at the checkpoint printed a traceback and left the work file on the
    # full disk. Now: one line naming the error, no work folder, the old warehouse published.
    import customer_segments.publish as publish

    warehouse = tmp_path / "segments.duckdb"
    assert build_and_publish(warehouse, build=_builder(1)) == 0

    def full_disk(work: Path) -> None:
        raise duckdb.IOException(f'Could not write file "{work}": No space left on device')

    monkeypatch.setattr(publish, "_checkpoint", full_disk)
    assert build_and_publish(warehouse, build=_builder(2)) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "was not changed" in err
    assert "Traceback" not in err
    assert _leftovers(warehouse) == []
    assert _published(warehouse) == (1, ROWS)


@pytest.mark.parametrize("value", ["lots", "500", "4 gigs", ""])
def test_a_bad_memory_limit_stops_before_dbt_naming_the_variable(
    value, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("SEGMENTS_DUCKDB_MEMORY_LIMIT", value)
    warehouse = tmp_path / "segments.duckdb"
    assert publish_main(["--warehouse", str(warehouse)]) == 2
    error = capsys.readouterr().err
    assert "SEGMENTS_DUCKDB_MEMORY_LIMIT must be an amount" in error and repr(value) in error
    assert not warehouse.exists()


@pytest.mark.parametrize("value", ["4GB", "500MB", "80%", "1.5GB", "2GiB", "100 MB"])
def test_duckdb_memory_limits_are_accepted(value):
    assert memory_limit_problem(value) is None
    duckdb.connect(config={"memory_limit": value}).close()  # and DuckDB takes them
