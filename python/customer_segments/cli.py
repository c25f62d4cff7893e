"""Command line: segment the customers of a DuckDB warehouse and write the result tables.

Example, from the project folder after ``dbt build``::

    customer-segments-cluster --duckdb segments.duckdb --k auto

reads ``main.fct_customer_rfm`` and ``seeds/cluster_personas.csv`` and writes the tables of
:data:`~customer_segments.clustering.TABLE_NAMES` (``cluster_feature_transform``,
``cluster_persona_conditions``, ``cluster_k_evaluation``, ``cluster_centroids``,
``customer_clusters``) into the schema given by ``--schema``, default ``segments_cli``: not
``main``, where dbt builds tables of the same names. Without a backtest snapshot the k rule falls
back to the geometric vote among reproducible candidates.

The command overwrites only tables that it wrote itself. Every table it writes carries a comment
starting with ``written by customer-segments-cluster``; an existing table or view of one of these
names without that comment (one dbt built, whose comment is the model's description or nothing,
or anyone else's) stops the command before anything is computed or written, with a message
naming the relations, unless ``--replace`` is given. The check and the writes use one
connection, and DuckDB lets only one process write a file, so nothing can slip in between. The
tables are written in one transaction: all or none.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from customer_segments.clustering import MIN_CUSTOMERS, TABLE_NAMES, run_segmentation
from customer_segments.selection import K_MAX, K_MIN

__all__ = ["build_parser", "main"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")

PROG = "customer-segments-cluster"
DEFAULT_SCHEMA = "segments_cli"
# Prefix of the comment on every table the command writes: what makes a table its own.
OWNER_COMMENT = f"written by {PROG}"


def _k_value(text: str) -> int | str:
    if text == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        message = f"expected 'auto' or an integer >= 2, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"k must be at least 2, got {value}")
    return value


def _int_at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``customer-segments-cluster``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Cluster the customers of the RFM mart with k-means, name the clusters after the "
            "personas whose conditions they meet and write these tables into the DuckDB file: "
            + ", ".join(TABLE_NAMES.values())
            + f". The command overwrites only tables it wrote itself (their comment starts "
            f"with '{OWNER_COMMENT}'); it stops, changing nothing, if one of these names is "
            "taken by any other table or view, such as those dbt builds in schema main, unless "
            "--replace is given."
        ),
    )
    parser.add_argument(
        "--duckdb",
        required=True,
        type=Path,
        metavar="PATH",
        help="DuckDB warehouse file built by dbt (must exist).",
    )
    parser.add_argument(
        "--rfm-table",
        default="main.fct_customer_rfm",
        metavar="TABLE",
        help="RFM mart to read, [schema.]table (default: %(default)s).",
    )
    parser.add_argument(
        "--personas",
        default="seeds/cluster_personas.csv",
        metavar="CSV_OR_TABLE",
        help="Personas: a CSV file, or a [schema.]table of the DuckDB file "
        "(default: %(default)s, relative to the current folder).",
    )
    parser.add_argument(
        "--k",
        default="auto",
        type=_k_value,
        metavar="auto|INT",
        help="Number of clusters, or 'auto' for the documented rule (default: %(default)s).",
    )
    parser.add_argument(
        "--k-min",
        default=K_MIN,
        type=_int_at_least(2),
        metavar="INT",
        help="Smallest candidate k for 'auto' (default: %(default)s).",
    )
    parser.add_argument(
        "--k-max",
        default=K_MAX,
        type=_int_at_least(2),
        metavar="INT",
        help="Largest candidate k for 'auto' (default: %(default)s).",
    )
    parser.add_argument(
        "--min-customers",
        default=MIN_CUSTOMERS,
        type=_int_at_least(3),
        metavar="INT",
        help="Fewest customers to cluster, the setting cluster_min_customers "
        "(default: %(default)s).",
    )
    parser.add_argument(
        "--random-state",
        default=42,
        type=int,
        metavar="INT",
        help="Seed of k-means++ and of the evaluation samples (default: %(default)s).",
    )
    parser.add_argument(
        "--n-init",
        default=10,
        type=int,
        metavar="INT",
        help="k-means++ restarts per fit (default: %(default)s).",
    )
    parser.add_argument(
        "--schema",
        default=DEFAULT_SCHEMA,
        metavar="SCHEMA",
        help="Schema to write the tables into, created if needed "
        "(default: %(default)s; dbt builds tables of the same names in "
        "main).",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="Overwrite tables or views of these names that this command did "
        "not write, e.g. dbt's in --schema main.",
    )
    return parser


def _quoted(name: str, what: str, catalog: str | None = None) -> str:
    """Quote a [catalog.][schema.]table name, refusing anything that is not plain identifiers.

    A schema-qualified name gets the ``catalog`` in front: a file called ``segments.duckdb`` is a
    catalog named ``segments``, which DuckDB would confuse with a schema of the same name.
    """
    parts = name.split(".")
    if not 1 <= len(parts) <= 3 or not all(_IDENTIFIER.match(p) for p in parts):
        raise ValueError(f"{what} {name!r} is not a valid [schema.]table name")
    if catalog is not None and len(parts) == 2:
        parts = [catalog, *parts]
    return ".".join(_identifier(p) for p in parts)


def _identifier(part: str) -> str:
    return '"' + part.replace('"', '""') + '"'


def _catalog(connection: duckdb.DuckDBPyConnection) -> str:
    return connection.execute("select current_database()").fetchall()[0][0]


def _read_table(
    connection: duckdb.DuckDBPyConnection, name: str, what: str, path: Path
) -> pd.DataFrame:
    try:
        return connection.sql(f"select * from {_quoted(name, what, _catalog(connection))}").df()
    except duckdb.CatalogException:
        raise ValueError(f"{what} {name} not found in {path}") from None


def _read_personas(connection: duckdb.DuckDBPyConnection, source: str, path: Path) -> pd.DataFrame:
    file = Path(source)
    if file.is_file():
        return pd.read_csv(file)
    if file.suffix.lower() == ".csv" or "/" in source or "\\" in source:
        raise ValueError(f"personas file not found: {source}")
    return _read_table(connection, source, "personas table", path)


def _existing_relations(
    connection: duckdb.DuckDBPyConnection, schema: str
) -> dict[str, tuple[str, str | None]]:
    """``name -> (kind, comment)`` of the tables and views in ``schema`` of the open file."""
    catalog = _catalog(connection)
    rows = connection.execute(
        "select table_name, 'table', comment from duckdb_tables() "
        "where database_name = ? and schema_name = ? "
        "union all "
        "select view_name, 'view', comment from duckdb_views() "
        "where database_name = ? and schema_name = ? and not internal",
        [catalog, schema, catalog, schema],
    ).fetchall()
    return {name: (kind, comment) for name, kind, comment in rows}


def _is_own(kind: str, comment: str | None) -> bool:
    """Whether a relation is a table this command wrote: its comment carries the mark."""
    return kind == "table" and (comment or "").startswith(OWNER_COMMENT)


def _foreign_relations(existing: dict[str, tuple[str, str | None]]) -> list[tuple[str, str]]:
    """``(name, kind)`` of the relations named like an output that this command did not write."""
    return [
        (name, existing[name][0])
        for name in TABLE_NAMES.values()
        if name in existing and not _is_own(*existing[name])
    ]


def _check_overwrite(connection: duckdb.DuckDBPyConnection, schema: str) -> None:
    """Raise if an output name in ``schema`` is taken by a relation this command did not write.

    Raises
    ------
    ValueError
        Naming every such table or view and the ``--replace`` flag.
    """
    foreign = _foreign_relations(_existing_relations(connection, schema))
    if foreign:
        named = ", ".join(f"{kind} {schema}.{name}" for name, kind in foreign)
        raise ValueError(
            f"refusing to overwrite {named}: not written by {PROG} (dbt builds tables of these "
            f"names in schema main); pass --replace to overwrite, or choose another --schema "
            f"(default: {DEFAULT_SCHEMA})"
        )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _write_tables(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    tables: dict[str, pd.DataFrame],
    comment: str,
) -> None:
    """Create or replace the tables in ``schema`` in one transaction, each with ``comment``.

    A view of the same name is dropped first (``create or replace table`` cannot replace one);
    whether it may be is :func:`_check_overwrite`'s question, asked before.
    """
    schema_sql = f"{_identifier(_catalog(connection))}.{_identifier(schema)}"
    connection.execute("begin transaction")
    try:
        connection.execute(f"create schema if not exists {schema_sql}")
        existing = _existing_relations(connection, schema)
        for key, frame in tables.items():
            name = TABLE_NAMES[key]
            table_sql = f"{schema_sql}.{_identifier(name)}"
            if existing.get(name, ("",))[0] == "view":
                connection.execute(f"drop view {table_sql}")
            connection.register("segment_table", frame)
            connection.execute(
                f"create or replace table {table_sql} as select * from segment_table"
            )
            connection.unregister("segment_table")
            connection.execute(f"comment on table {table_sql} is {_literal(comment)}")
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise


def _comment(args: argparse.Namespace) -> str:
    """The comment of the written tables: the ownership mark, then how they were made."""
    return (
        f"{OWNER_COMMENT} from {args.rfm_table} (k={args.k}, random_state={args.random_state}, "
        f"n_init={args.n_init})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit code (0 success, 1 error, 2 bad arguments)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help or a usage error, already printed by argparse
        return int(exit_.code or 0)
    try:
        if not args.duckdb.is_file():
            raise ValueError(f"DuckDB file not found: {args.duckdb}")
        if not _IDENTIFIER.match(args.schema):
            raise ValueError(f"schema {args.schema!r} is not a valid identifier")
        with duckdb.connect(str(args.duckdb)) as connection:
            if not args.replace:
                _check_overwrite(connection, args.schema)  # before minutes of clustering
            rfm = _read_table(connection, args.rfm_table, "RFM table", args.duckdb)
            personas = _read_personas(connection, args.personas, args.duckdb)
            tables = run_segmentation(
                rfm,
                personas,
                k=args.k,
                random_state=args.random_state,
                n_init=args.n_init,
                k_min=args.k_min,
                k_max=args.k_max,
                min_customers=args.min_customers,
            )
            _write_tables(connection, args.schema, tables, _comment(args))
    except (ValueError, duckdb.Error, OSError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    evaluation = tables["k_evaluation"]
    print(evaluation.loc[evaluation["is_chosen"], "reason"].iloc[0])
    for key, frame in tables.items():
        print(f"wrote {args.schema}.{TABLE_NAMES[key]} ({len(frame)} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
