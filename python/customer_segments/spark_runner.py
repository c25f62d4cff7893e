"""Build the whole project on a local Spark session with one command (a prototype).

dbt-spark runs Python models only by submitting them to Databricks, never in a local
``session``. But the session method starts its SparkSession in this Python process
(``SparkSession.builder.getOrCreate()``), so after dbt's programmatic runner has run, the same
session is at hand here. The job is then three steps in one process, one Spark session:

1. dbt builds everything that does not depend on a Python model (models, seeds, tests);
2. each Python model runs here, in dependency order: its code from the manifest, its
   ``model(dbt, session)`` called with a stand-in ``dbt`` whose ``ref(name).df()`` reads the
   Spark table into pandas and whose ``config.get`` reads the node's config; the frame it
   returns is written to the node's relation as a Parquet table;
3. dbt runs the Python models' tests, then builds everything downstream with its tests.

A failing step stops the job: what later steps would have built is left as it was.
Usage: ``python -m customer_segments.spark_runner [-- extra dbt arguments, e.g. --vars ...]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["build_on_spark", "main"]


class _Ref:
    def __init__(self, session: Any, relation: str) -> None:
        self._session, self._relation = session, relation

    def df(self):
        from pyspark.sql import functions
        from pyspark.sql.types import DecimalType

        # As dbt-duckdb's .df(): decimals as float64 (Spark gives Python Decimal objects).
        table = self._session.table(self._relation)
        return table.select(
            *(
                functions.col(field.name).cast("double").alias(field.name)
                if isinstance(field.dataType, DecimalType)
                else functions.col(field.name)
                for field in table.schema.fields
            )
        ).toPandas()


class _Config:
    """``dbt.config(...)`` (ignored: the YAML config is in the manifest) and ``dbt.config.get``."""

    def __init__(self, node: Any) -> None:
        self._node = node

    def __call__(self, **_: Any) -> None:
        return None

    def get(self, key: str, default: Any = None) -> Any:
        value = self._node.config.get(key)
        return default if value is None else value


class _Dbt:
    """The part of the ``dbt`` object of a dbt Python model that this project's models use."""

    def __init__(self, node: Any, manifest: Any, session: Any) -> None:
        self._manifest, self._session = manifest, session
        self.config = _Config(node)
        self.this = node.relation_name

    def ref(self, name: str, *_: Any, **__: Any) -> _Ref:
        for node in self._manifest.nodes.values():
            if node.name == name and node.resource_type in ("model", "seed"):
                return _Ref(self._session, node.relation_name)
        raise KeyError(f"ref({name!r}): no such model or seed")


def _python_models(manifest: Any) -> list[Any]:
    """The Python model nodes, each after the Python models it depends on."""
    pending = {
        unique_id: node
        for unique_id, node in manifest.nodes.items()
        if node.resource_type == "model" and str(node.language).endswith("python")
    }
    ordered: list[Any] = []
    while pending:
        ready = [
            unique_id
            for unique_id, node in pending.items()
            if not set(node.depends_on.nodes) & set(pending)
        ]
        ordered.extend(pending.pop(unique_id) for unique_id in sorted(ready))
    return ordered


def _run_python_model(node: Any, manifest: Any, session: Any) -> int:
    namespace: dict[str, Any] = {"__name__": f"dbt_python_model_{node.name}"}
    exec(compile(node.raw_code, node.original_file_path, "exec"), namespace)
    frame = namespace["model"](_Dbt(node, manifest, session), session)
    session.createDataFrame(frame).write.format("parquet").mode("overwrite").saveAsTable(
        node.relation_name
    )
    return len(frame)


def build_on_spark(
    dbt_args: Sequence[str] = (), target: str = "spark", skip_first_step: bool = False
) -> int:
    """Run the three steps (the first unless ``skip_first_step``); 0 on success, else 1."""
    from dbt.cli.main import dbtRunner
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    common = ["--target", target, *dbt_args]
    parsed = dbtRunner().invoke(["parse", *common])
    if not parsed.success:
        return 1
    manifest = parsed.result
    runner = dbtRunner(manifest=manifest)
    python_models = _python_models(manifest)
    names = [node.name for node in python_models]
    python_ids = {node.unique_id for node in python_models}
    tests = [
        node
        for node in manifest.nodes.values()
        if node.resource_type == "test" and set(node.depends_on.nodes) & python_ids
    ]
    downstream = {
        unique_id
        for unique_id, node in manifest.nodes.items()
        if node.resource_type == "model"
        and unique_id not in python_ids
        and set(node.depends_on.nodes) & python_ids
    }

    started = time.monotonic()
    # Everything but the Python models and what depends on them (tests with such a parent too).
    if (
        not skip_first_step
        and not runner.invoke(
            ["build", "--exclude", *(f"{name}+" for name in names), *common]
        ).success
    ):
        return 1
    print(
        f"[spark_runner] SQL before the Python models built in {time.monotonic() - started:.1f} s",
        flush=True,
    )

    if SparkContext._active_spark_context is None:
        # A new session here would lack the profile's settings (metastore, warehouse): let
        # dbt-spark start it, as its first query does.
        runner.invoke(["debug", *common])
    session = SparkSession.builder.getOrCreate()  # the session dbt-spark started
    for node in python_models:
        began = time.monotonic()
        rows = _run_python_model(node, manifest, session)
        print(
            f"[spark_runner] python model {node.name}: {rows} rows -> {node.relation_name} "
            f"in {time.monotonic() - began:.1f} s",
            flush=True,
        )

    # Tests of the Python models alone (or with upstream parents), then the rest.
    downstream_ids = set(downstream)
    while True:
        more = {
            unique_id
            for unique_id, node in manifest.nodes.items()
            if node.resource_type == "model" and set(node.depends_on.nodes) & downstream_ids
        }
        if more <= downstream_ids:
            break
        downstream_ids |= more
    own_tests = [test.name for test in tests if not set(test.depends_on.nodes) & downstream_ids]
    mixed_tests = [test.name for test in tests if set(test.depends_on.nodes) & downstream_ids]
    if own_tests and not runner.invoke(["test", "--select", *own_tests, *common]).success:
        return 1
    downstream_names = [manifest.nodes[unique_id].name for unique_id in sorted(downstream)]
    step = runner.invoke(
        ["build", "--select", *(f"{name}+" for name in downstream_names), *mixed_tests, *common]
    )
    if not step.success:
        return 1
    print(f"[spark_runner] whole build in {time.monotonic() - started:.1f} s", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m customer_segments.spark_runner",
        description="Build the project on Spark, running the dbt Python models in-process.",
    )
    parser.add_argument("--target", default="spark", help="dbt target (default: spark)")
    parser.add_argument(
        "--skip-first-step",
        action="store_true",
        help="start at the Python models (the SQL before them is built)",
    )
    parser.add_argument("dbt_args", nargs=argparse.REMAINDER, help="more dbt arguments, after --")
    args = parser.parse_args(argv)
    dbt_args = args.dbt_args[1:] if args.dbt_args[:1] == ["--"] else args.dbt_args
    return build_on_spark(dbt_args, args.target, args.skip_first_step)


if __name__ == "__main__":
    sys.exit(main())
