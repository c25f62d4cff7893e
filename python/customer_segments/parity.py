"""Compare two builds of the project table by table: every row, every column, to the penny.

A build is a DuckDB warehouse (``duckdb:segments.duckdb``) or a Spark warehouse folder
(``spark:target/spark-warehouse``, its tables' Parquet files read directly, no Spark needed).
By default the tables compared are every model and seed of the dbt manifest
(:func:`tables_from_manifest`), matched by name whatever their schema (``main_staging`` on
DuckDB is ``segments_staging`` on Spark). Two tables are equal when they have the same columns,
the same column types once written (Spark's string is DuckDB's varchar) and the same multiset of
rows: text, integers, dates, booleans and decimals exactly.

Floating-point values are compared exactly too, except the few columns of
:data:`FLOAT_TOLERANCES`, where the two engines provably compute a double differently, and
which are compared row by row (on the table's unique key, from its ``unique`` tests) within
``tolerance x max(1, |value|)``:

* values that go through ``ln()``: Spark's ``ln`` is Java's ``StrictMath.log`` (fdlibm), DuckDB's
  the C library's ``log``; each is within one unit in the last place of the exact logarithm, but
  they differ in that last bit for about 4% of inputs (measured on 400,000 values; ``sqrt``,
  ``+ - * /`` are exact IEEE operations and agree to the bit);
* averages of doubles over a group: each engine adds the rows in the order its partitions
  (Spark) or threads (DuckDB) deliver them, and floating-point addition is not associative.

Everything else that differed between the engines was fixed in the models (see docs/spark.md).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

__all__ = [
    "FLOAT_TOLERANCES",
    "FloatTolerance",
    "TableDiff",
    "TableSpec",
    "compare_builds",
    "format_report",
    "main",
    "tables_from_manifest",
]


@dataclass(frozen=True)
class TableSpec:
    """A table to compare: its name and its unique key (empty when it has none)."""

    name: str
    key: tuple[str, ...] = ()


@dataclass(frozen=True)
class FloatTolerance:
    """Floating-point columns compared within ``tolerance x max(1, |value|)``, and why."""

    tables: tuple[str, ...]
    columns: tuple[str, ...]
    tolerance: float
    reason: str


_LN = (
    "ln(): Spark's is Java's StrictMath.log (fdlibm), DuckDB's the C library's log; they differ "
    "in the last bit for about 4% of inputs"
)
_SUM_ORDER = (
    "avg() of doubles: each engine adds a group's rows in the order its partitions or threads "
    "deliver them, and floating-point addition is not associative"
)

FLOAT_TOLERANCES: tuple[FloatTolerance, ...] = (
    # The SQL assignment standardises log1p features with ln() before taking distances.
    FloatTolerance(
        tables=(
            "customer_clusters",
            "dim_customer_segments",
            "fct_customer_segment_history",
        ),
        columns=("distance_to_centroid", "margin_to_next_centroid"),
        tolerance=1e-12,
        reason=_LN,
    ),
    # PSI = sum of (q - p) x ln(q / p) over the bins (and the bins' sum is an aggregate).
    FloatTolerance(
        tables=("fct_segment_drift",),
        columns=("drift_value", "max_feature_psi"),
        tolerance=1e-12,
        reason=_LN + "; " + _SUM_ORDER,
    ),
    # The mean predicted probability of each decile (and the gap to the observed rate), and
    # the gap's standard error, the root of a sum of p x (1 - p) over the decile (and the z).
    FloatTolerance(
        tables=("fct_backtest_calibration",),
        columns=("mean_predicted", "gap", "gap_standard_error", "gap_z_score"),
        tolerance=1e-12,
        reason=_SUM_ORDER,
    ),
)


@dataclass(frozen=True)
class TableDiff:
    """How one table differs between the two builds (all zero/empty when equal).

    Attributes
    ----------
    table : str
        The table's name.
    rows_left, rows_right : int
        Row counts of each build.
    only_left, only_right : int
        Rows of one build that the other lacks, compared on every column but the tolerated ones
        (a multiset difference: a row twice on the left and once on the right counts once).
    column_problems : tuple of str
        Columns missing on one side or typed differently, and why a comparison was impossible.
    tolerated_columns : tuple of str
        The columns compared within :data:`FLOAT_TOLERANCES`.
    beyond_tolerance : int
        Rows (matched by key) whose tolerated columns differ by more than the tolerance.
    largest_difference : float
        The largest ``|left - right| / max(1, |left|)`` seen in the tolerated columns.
    samples : tuple of str
        A few differing rows, for the report.
    """

    table: str
    rows_left: int
    rows_right: int
    only_left: int
    only_right: int
    column_problems: tuple[str, ...]
    tolerated_columns: tuple[str, ...] = ()
    beyond_tolerance: int = 0
    largest_difference: float = 0.0
    samples: tuple[str, ...] = field(default=(), compare=False)

    @property
    def equal(self) -> bool:
        """True when the table is the same in both builds (within the documented tolerance)."""
        return (
            not self.column_problems
            and self.rows_left == self.rows_right
            and self.only_left == 0
            and self.only_right == 0
            and self.beyond_tolerance == 0
        )

    @property
    def exact(self) -> bool:
        """True when equal to the bit, tolerated columns included."""
        return self.equal and self.largest_difference == 0.0


def tables_from_manifest(manifest_path: Path) -> tuple[TableSpec, ...]:
    """Every model and seed of a dbt manifest that is a table, with its unique key.

    The key is the column of a ``unique`` test, or the columns of a
    ``unique_combination_of_columns`` test, on the node (the first one declared); empty when the
    node has neither (one-row tables).

    Parameters
    ----------
    manifest_path : Path
        ``target/manifest.json`` of a parse or build of the project (either target).

    Returns
    -------
    tuple of TableSpec
        Sorted by name.
    """
    manifest = json.loads(Path(manifest_path).read_text())
    keys: dict[str, tuple[str, ...]] = {}
    tests = sorted(
        (node for node in manifest["nodes"].values() if node["resource_type"] == "test"),
        key=lambda node: node["unique_id"],
    )
    for test in tests:
        metadata = test.get("test_metadata") or {}
        parent = test.get("attached_node")
        if not parent or parent in keys:
            continue
        arguments = metadata.get("kwargs") or {}
        if metadata.get("name") == "unique" and arguments.get("column_name"):
            keys[parent] = (str(arguments["column_name"]),)
        elif metadata.get("name") == "unique_combination_of_columns":
            keys[parent] = tuple(str(column) for column in arguments["combination_of_columns"])
    specs = {
        node["alias"] or node["name"]: TableSpec(
            node["alias"] or node["name"], keys.get(unique_id, ())
        )
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed")
        and node["config"].get("enabled", True)
        and node["config"].get("materialized") not in ("ephemeral", "view")
    }
    return tuple(specs[name] for name in sorted(specs))


def _quote_literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _attach(connection: duckdb.DuckDBPyConnection, side: str, alias: str) -> dict[str, str]:
    """Make the tables of one build readable; return table name -> SQL relation."""
    kind, _, location = side.partition(":")
    if kind == "duckdb":
        if not Path(location).is_file():
            raise FileNotFoundError(f"no DuckDB warehouse at {location}")
        connection.execute(f"attach {_quote_literal(location)} as {alias} (read_only)")
        rows = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = ? and table_type = 'BASE TABLE'",
            [alias],
        ).fetchall()
        tables: dict[str, str] = {}
        for schema, name in rows:
            if name in tables:
                raise ValueError(f"{side}: table {name} is in two schemas; compare by name fails")
            tables[name] = f"{alias}.{_quote_identifier(schema)}.{_quote_identifier(name)}"
        return tables
    if kind == "spark":
        if not Path(location).is_dir():
            raise FileNotFoundError(f"no Spark warehouse folder at {location}")
        tables = {}
        for folder in sorted(Path(location).glob("*.db/*")):
            if folder.is_dir() and any(folder.glob("*.parquet")):
                if folder.name in tables:
                    raise ValueError(f"{side}: table {folder.name} is in two schemas")
                pattern = _quote_literal(str(folder / "*.parquet"))
                tables[folder.name] = f"read_parquet({pattern})"
        return tables
    raise ValueError(f"a build is duckdb:PATH or spark:WAREHOUSE_DIR, not {side!r}")


def _columns(connection: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column name -> type of a relation, timestamps compared as UTC wall time."""
    described = connection.execute(f"describe select * from {relation}").fetchall()
    # Spark writes timestamps as instants (UTC); compare them as the UTC wall time they show.
    return {
        row[0].lower(): "TIMESTAMP" if row[1] == "TIMESTAMP WITH TIME ZONE" else row[1]
        for row in described
    }


def _tolerance_of(table: str, column: str, tolerances: Iterable[FloatTolerance]) -> float | None:
    """The tolerance of a column of a table, or None when it compares exactly."""
    for rule in tolerances:
        if table in rule.tables and column in rule.columns:
            return rule.tolerance
    return None


def _same(left: object, right: object) -> bool:
    """Equal values, NULL equal to NULL and NaN to NaN."""
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float) and isinstance(right, float) and left != left and right != right:
        return True  # both NaN
    return left == right


def _sample(
    connection: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    columns: Sequence[str],
    left_rows: str,
    right_rows: str,
) -> list[str]:
    """A few rows that differ: by key, the columns that differ; without a key, whole rows."""
    lines = []
    keyed = bool(spec.key) and set(spec.key) <= set(columns)
    for label, first, second in (("left", left_rows, right_rows), ("right", right_rows, left_rows)):
        rows = connection.execute(f"select * from ({first} except all {second}) limit 3").fetchall()
        for row in rows:
            if not keyed:
                lines.append(f"{spec.name} only {label}: {row}")
                continue
            values = dict(zip(columns, row, strict=True))
            key = tuple(values[name] for name in spec.key)
            where = " and ".join(
                f"{_quote_identifier(name)} is not distinct from ?" for name in spec.key
            )
            other = connection.execute(
                f"select * from ({second}) where {where} limit 1", list(key)
            ).fetchall()
            shown = f"{spec.name} {', '.join(spec.key)} = {', '.join(map(str, key))}"
            if not other:
                lines.append(f"{shown}: only on the {label}")
            elif label == "left":
                differing = [
                    f"{name} {values[name]!r} (left) vs {theirs!r} (right)"
                    for name, theirs in zip(columns, other[0], strict=True)
                    if not _same(values[name], theirs)
                ]
                lines.append(f"{shown}: " + "; ".join(differing))
    return lines


def _compare_table(
    connection: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    left: str,
    right: str,
    tolerances: Sequence[FloatTolerance],
) -> TableDiff:
    """Compare one table of the two builds (relations ``left`` and ``right``)."""
    left_columns = _columns(connection, left)
    right_columns = _columns(connection, right)
    problems = [
        f"{name}: {left_columns.get(name, '-')} vs {right_columns.get(name, '-')}"
        for name in sorted(set(left_columns) | set(right_columns))
        if left_columns.get(name) != right_columns.get(name)
    ]
    shared = [name for name in left_columns if name in right_columns]
    tolerated = [
        name
        for name in shared
        if left_columns[name] in ("DOUBLE", "FLOAT")
        and _tolerance_of(spec.name, name, tolerances) is not None
    ]
    if tolerated and not (spec.key and set(spec.key) <= set(shared) - set(tolerated)):
        problems.append(f"no unique key to compare {', '.join(tolerated)} within the tolerance")
        tolerated = []
    exact = [name for name in shared if name not in tolerated]

    def rows_of(relation: str, columns: Sequence[str]) -> str:
        select_list = ", ".join(
            f"cast({_quote_identifier(name)} as timestamp) as {_quote_identifier(name)}"
            if left_columns[name] == "TIMESTAMP"
            else _quote_identifier(name)
            for name in columns
        )
        return f"select {select_list} from {relation}"

    left_rows, right_rows = rows_of(left, exact), rows_of(right, exact)
    rows_left, rows_right, only_left, only_right = connection.execute(
        f"select (select count(*) from {left}), (select count(*) from {right}), "
        f"(select count(*) from ({left_rows} except all {right_rows})), "
        f"(select count(*) from ({right_rows} except all {left_rows}))"
    ).fetchone()
    samples = (
        _sample(connection, spec, exact, left_rows, right_rows) if only_left or only_right else []
    )

    beyond, largest = 0, 0.0
    if tolerated:
        join = " and ".join(
            f"l.{_quote_identifier(name)} = r.{_quote_identifier(name)}" for name in spec.key
        )
        # Per tolerated column: |left - right| / max(1, |left|), 0 when both are NULL and
        # infinite when only one is.
        relative = [
            f"coalesce(abs(l.{column} - r.{column}) / greatest(1.0, abs(l.{column})), "
            f"case when l.{column} is null and r.{column} is null then cast(0 as double) "
            "else cast('infinity' as double) end)"
            for column in map(_quote_identifier, tolerated)
        ]
        limits = [_tolerance_of(spec.name, name, tolerances) for name in tolerated]
        beyond_sql = " or ".join(
            f"({value}) > {limit}" for value, limit in zip(relative, limits, strict=True)
        )
        beyond, largest = connection.execute(
            f"select count(*) filter (where {beyond_sql}), "
            f"coalesce(max(greatest({', '.join(relative)})), 0) "
            f"from {left} as l inner join {right} as r on {join}"
        ).fetchone()
        if beyond:
            key_list = ", ".join(f"l.{_quote_identifier(name)}" for name in spec.key)
            value_list = ", ".join(
                f"l.{_quote_identifier(name)}, r.{_quote_identifier(name)}" for name in tolerated
            )
            for row in connection.execute(
                f"select {key_list}, {value_list} from {left} as l inner join {right} as r "
                f"on {join} where {beyond_sql} limit 3"
            ).fetchall():
                samples.append(f"{spec.name} beyond tolerance (key, left/right values): {row}")
    return TableDiff(
        spec.name,
        rows_left,
        rows_right,
        only_left,
        only_right,
        tuple(problems),
        tuple(tolerated),
        int(beyond),
        float(largest if largest is not None and not math.isnan(largest) else math.inf),
        tuple(samples),
    )


def compare_builds(
    left: str,
    right: str,
    tables: Sequence[TableSpec | str],
    tolerances: Sequence[FloatTolerance] = FLOAT_TOLERANCES,
) -> list[TableDiff]:
    """Compare ``tables`` of two builds; see the module docstring.

    Parameters
    ----------
    left, right : str
        ``duckdb:PATH`` or ``spark:WAREHOUSE_DIR``.
    tables : sequence of TableSpec or str
        What to compare (a plain name has no key: its floats compare exactly);
        :func:`tables_from_manifest` gives every table of the project.
    tolerances : sequence of FloatTolerance, optional
        The floating-point columns compared within a tolerance (default
        :data:`FLOAT_TOLERANCES`; empty: everything exactly).

    Returns
    -------
    list of TableDiff
        One per table, in the order given.
    """
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    try:
        left_tables = _attach(connection, left, "left_build")
        right_tables = _attach(connection, right, "right_build")
        diffs = []
        for table in tables:
            spec = table if isinstance(table, TableSpec) else TableSpec(table)
            missing = [
                side
                for side, found in (("left", left_tables), ("right", right_tables))
                if spec.name not in found
            ]
            if missing:
                diffs.append(
                    TableDiff(spec.name, 0, 0, 0, 0, (f"missing on the {' and '.join(missing)}",))
                )
                continue
            diffs.append(
                _compare_table(
                    connection, spec, left_tables[spec.name], right_tables[spec.name], tolerances
                )
            )
        return diffs
    finally:
        connection.close()


def format_report(diffs: Sequence[TableDiff]) -> str:
    """One line per table, the differing rows' samples, and a summary line."""
    lines = []
    for diff in diffs:
        if not diff.equal:
            status = "DIFFERENT"
        elif diff.exact:
            status = "equal"
        else:
            status = "equal~"
        line = (
            f"{diff.table:36} {status:9} rows {diff.rows_left:>9,} / {diff.rows_right:>9,}"
            f"  only left {diff.only_left:,}  only right {diff.only_right:,}"
        )
        if diff.tolerated_columns:
            line += (
                f"  within tolerance: {', '.join(diff.tolerated_columns)} "
                f"(largest relative difference {diff.largest_difference:.1e}"
                f"{f', {diff.beyond_tolerance:,} rows beyond' if diff.beyond_tolerance else ''})"
            )
        lines.append(line)
        lines.extend(f"  column {problem}" for problem in diff.column_problems)
        lines.extend(f"  {sample}" for sample in diff.samples)
    different = sum(not diff.equal for diff in diffs)
    within = sum(diff.equal and not diff.exact for diff in diffs)
    lines.append(
        f"{len(diffs)} tables: {len(diffs) - different} equal "
        f"({len(diffs) - different - within} to the bit, {within} within the float tolerance), "
        f"{different} different"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command line; 0 when every table is equal, 1 when one differs, 2 on a usage error."""
    parser = argparse.ArgumentParser(
        prog="python -m customer_segments.parity",
        description=(
            "Compare two builds table by table (rows, columns, types, every value). "
            "Exit code 1 when any table differs."
        ),
    )
    parser.add_argument("left", help="duckdb:PATH or spark:WAREHOUSE_DIR")
    parser.add_argument("right", help="duckdb:PATH or spark:WAREHOUSE_DIR")
    parser.add_argument(
        "--manifest",
        type=Path,
        default=Path("target/manifest.json"),
        metavar="PATH",
        help="dbt manifest whose models and seeds are compared (default: target/manifest.json)",
    )
    parser.add_argument(
        "--tables",
        default=None,
        help="comma-separated table names (default: every model and seed of the manifest)",
    )
    args = parser.parse_args(argv)
    known: dict[str, TableSpec] = {}
    if args.manifest.is_file():
        known = {spec.name: spec for spec in tables_from_manifest(args.manifest)}
    elif not args.tables:
        parser.exit(2, f"error: no manifest at {args.manifest}: run `dbt parse` first\n")
    names = args.tables.split(",") if args.tables else list(known)
    tables = [known.get(name, TableSpec(name)) for name in names]
    try:
        diffs = compare_builds(args.left, args.right, tables)
    except (FileNotFoundError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    print(format_report(diffs))
    return 1 if any(not diff.equal for diff in diffs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
