"""Build the whole project on a local Spark session with one command, then publish the exports.

dbt-spark runs Python models only by submitting them to Databricks, never in a local
``session``. But the session method starts its SparkSession in this Python process
(``SparkSession.builder.getOrCreate()``), so between two invocations of dbt's programmatic runner
the same session is at hand here. The job alternates two kinds of steps until every node is
built, in one process and one Spark session:

1. **dbt** builds every model, seed and data test (and, with ``--unit-tests``, unit test) that
   no pending Python model is upstream of: one ``dbt build`` with the nodes listed by name;
2. **Python** runs each dbt Python model whose parents are all built: its code from the
   manifest, its ``model(dbt, session)`` called with a stand-in ``dbt``
   (:class:`PythonModelContext`) whose ``ref(name).df()`` reads the Spark table into pandas, typed
   as dbt-duckdb types it (:func:`customer_segments.spark_io.read_frame`); the frame it returns
   is written to the node's relation as a Parquet table.

A Python model's data tests run in the dbt step after it, before anything downstream of it, as
``dbt build`` orders them. Then the marts' Parquet copies and the audiences are written, read
from the Spark tables, into a folder beside ``--exports`` that is renamed over it: the same files
and columns as ``python -m customer_segments.export`` writes from DuckDB.

A failed step stops the job with a message naming the step, exit code 1, and nothing is
published: the exports folder is left as it was (the Spark tables that earlier steps rebuilt
stay rebuilt, as after a failed ``dbt build``).

Usage: ``python -m customer_segments.spark_runner [--exports DIR] [-- extra dbt arguments]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from customer_segments.dbt_invoke import invoke_dbt

__all__ = [
    "PythonModelContext",
    "Step",
    "StepFailed",
    "build_on_spark",
    "main",
    "missing_spark_requirements",
    "plan_steps",
    "publish_folder",
    "run_python_model",
]


class StepFailed(Exception):
    """One step of the job failed; ``step`` names it and the message says why."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"step '{step}' failed: {reason}")
        self.step = step


# ------------------------------------------------------------------------------------------------
# The `dbt` object of a dbt Python model
# ------------------------------------------------------------------------------------------------


class _Ref:
    """What ``dbt.ref(name)`` returns: ``.df()`` reads the table when called."""

    def __init__(self, read: Callable[[], pd.DataFrame]) -> None:
        self._read = read

    def df(self) -> pd.DataFrame:
        """The table as a pandas frame."""
        return self._read()


class _Config:
    """``dbt.config(...)`` (ignored: the YAML config is in the manifest) and ``dbt.config.get``."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config

    def __call__(self, **_: Any) -> None:
        """Accept and ignore ``dbt.config(materialized=...)``."""
        return None

    def get(self, key: str, default: Any = None) -> Any:
        """A config value of the node, or ``default``."""
        value = self._config.get(key)
        return default if value is None else value


class PythonModelContext:
    """The part of the ``dbt`` object of a dbt Python model that this project's models use.

    Parameters
    ----------
    read : callable
        ``read(name)`` returns the model or seed ``name`` as a pandas frame.
    config : mapping, optional
        The node's config (``dbt.config.get``).
    this : str, optional
        The node's relation (``dbt.this``).
    """

    def __init__(
        self,
        read: Callable[[str], pd.DataFrame],
        config: Mapping[str, Any] | None = None,
        this: str = "",
    ) -> None:
        self._read = read
        self.config = _Config(config or {})
        self.this = this

    def ref(self, name: str, *_: Any, **__: Any) -> _Ref:
        """The model or seed ``name`` (read when ``.df()`` is called)."""
        return _Ref(lambda: self._read(name))


def run_python_model(
    code: str, path: str, context: PythonModelContext, session: Any = None
) -> pd.DataFrame:
    """Run the code of a dbt Python model and return the frame its ``model()`` returns.

    Parameters
    ----------
    code : str
        The model file's source (the manifest's ``raw_code``).
    path : str
        The file's path, for tracebacks.
    context : PythonModelContext
        The ``dbt`` argument.
    session : pyspark.sql.SparkSession, optional
        The ``session`` argument (this project's models do not use it).

    Raises
    ------
    TypeError
        When ``model()`` returns something else than a pandas frame.
    """
    namespace: dict[str, Any] = {"__name__": f"dbt_python_model_{Path(path).stem}"}
    exec(compile(code, path, "exec"), namespace)
    frame = namespace["model"](context, session)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{path}: model() returned {type(frame).__name__}, not a pandas DataFrame")
    return frame


# ------------------------------------------------------------------------------------------------
# The plan: dbt steps and Python steps
# ------------------------------------------------------------------------------------------------


_KINDS = {
    "seed": "seed",
    "model": "model",
    "snapshot": "snapshot",
    "test": "data test",
    "unit_test": "unit test",
}


@dataclass(frozen=True)
class Step:
    """One step: ``kind`` "dbt" (nodes built by one ``dbt build``) or "python" (one model)."""

    kind: str
    nodes: tuple[Any, ...]

    @property
    def name(self) -> str:
        """What the step builds, for the log and the failure message."""
        if self.kind == "python":
            return f"python model {self.nodes[0].name}"
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[str(node.resource_type)] = counts.get(str(node.resource_type), 0) + 1
        summary = ", ".join(
            f"{counts[kind]} {label}{'' if counts[kind] == 1 else 's'}"
            for kind, label in _KINDS.items()
            if kind in counts
        )
        return f"dbt build ({summary})"


def _parents(node: Any) -> list[str]:
    """The nodes a node depends on (a seed depends on macros only)."""
    return list(getattr(node.depends_on, "nodes", []) or [])


def _is_python_model(node: Any) -> bool:
    """True for a dbt Python model."""
    return str(node.resource_type) == "model" and str(node.language).endswith("python")


def plan_steps(manifest: Any, unit_tests: bool = False) -> list[Step]:
    """The job's steps in order: dbt steps and one Python step per Python model.

    Every enabled model, seed, snapshot and data test (and unit test when ``unit_tests``) is in
    exactly one dbt step: the first after every Python model upstream of it has run. Python
    models run as soon as all their parents are built, those of one level in name order.

    Raises
    ------
    ValueError
        When some node can never run (a dependency that is not built by the project).
    """
    nodes = dict(manifest.nodes)
    if unit_tests:
        nodes.update(getattr(manifest, "unit_tests", {}) or {})
    buildable = {
        unique_id: node
        for unique_id, node in nodes.items()
        if str(node.resource_type) in ("model", "seed", "snapshot", "test", "unit_test")
        and getattr(node.config, "enabled", True)
    }
    python = {unique_id for unique_id, node in buildable.items() if _is_python_model(node)}
    upstream_python: dict[str, frozenset[str]] = {}

    def python_above(unique_id: str) -> frozenset[str]:
        if unique_id not in upstream_python:
            found: set[str] = set()
            upstream_python[unique_id] = frozenset()  # a cycle ends here
            for parent in _parents(buildable[unique_id]):
                if parent in buildable:
                    found |= python_above(parent) | ({parent} & python)
            upstream_python[unique_id] = frozenset(found)
        return upstream_python[unique_id]

    pending_python = set(python)
    pending_sql = set(buildable) - python
    steps: list[Step] = []
    while pending_sql or pending_python:
        ready = sorted(uid for uid in pending_sql if not python_above(uid) & pending_python)
        if ready:
            steps.append(Step("dbt", tuple(buildable[uid] for uid in ready)))
            pending_sql -= set(ready)
        runnable = sorted(
            (
                uid
                for uid in pending_python
                if all(
                    parent not in buildable or parent not in pending_sql | pending_python
                    for parent in _parents(buildable[uid])
                )
            ),
            key=lambda uid: buildable[uid].name,
        )
        if not ready and not runnable:
            stuck = sorted(buildable[uid].name for uid in pending_sql | pending_python)
            raise ValueError(f"these nodes can never run: {', '.join(stuck[:10])}")
        steps.extend(Step("python", (buildable[uid],)) for uid in runnable)
        pending_python -= set(runnable)
    return steps


# ------------------------------------------------------------------------------------------------
# Running the plan
# ------------------------------------------------------------------------------------------------


def _selector(node: Any) -> str:
    """A selector that picks exactly this node: its fully qualified name."""
    return "fqn:" + ".".join(node.fqn)


def _one_line(text: str, limit: int) -> str:
    """``text`` on one line (its lines joined), at most ``limit`` characters."""
    joined = " ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return joined if len(joined) <= limit else joined[: limit - 3] + "..."


def _failures(invocation: Any) -> str:
    """What failed in a dbt invocation, for the message."""
    if invocation.exception is not None:
        # dbt's first line names the operation (a hook), the next ones say what went wrong.
        return _one_line(str(invocation.exception), 1500)
    failed = [
        f"{result.node.resource_type} {result.node.name} ({result.status}"
        + (f": {_one_line(str(result.message), 300)}" if result.message else "")
        + ")"
        for result in getattr(invocation.result, "results", [])
        if str(result.status) in ("error", "fail", "runtime error")
    ]
    if not failed:
        return "dbt reported a failure (see its output above)"
    more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
    return "; ".join(failed[:5]) + more


def _spark_session(common_args: Sequence[str]) -> Any:
    """The session dbt-spark started in this process, with the profile's settings.

    dbt-spark starts it on its first query; when no dbt step has run yet, a one-row ``dbt show``
    does (a session started here would lack the profile's metastore and warehouse).
    """
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if SparkContext._active_spark_context is None:
        started = invoke_dbt(["show", "--inline", "select 1 as ok", "--limit", "1", *common_args])
        if not started.success or SparkContext._active_spark_context is None:
            raise StepFailed("spark session", _failures(started))
    return SparkSession.builder.getOrCreate()


def _relations(manifest: Any) -> dict[str, str]:
    """Model and seed name -> ``schema.table`` on this target."""
    return {
        node.name: f"{node.schema}.{node.alias}"
        for node in manifest.nodes.values()
        if str(node.resource_type) in ("model", "seed")
    }


def publish_folder(partial: Path, final: Path) -> None:
    """Rename the complete folder ``partial`` over ``final`` (same file system).

    The previous ``final`` is renamed aside first and removed after; a reader sees the old
    folder or the new one, never a mix (for an instant, neither).
    """
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(partial, final)
    shutil.rmtree(old, ignore_errors=True)


def _write_exports(session: Any, manifest: Any, out_dir: Path) -> tuple[int, int]:
    """Write every export into a folder beside ``out_dir``, then rename it over ``out_dir``."""
    from customer_segments.export import SparkMarts, export_build

    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        marts, audiences = export_build(SparkMarts(session, _relations(manifest)), partial)
        publish_folder(partial, out_dir)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return len(marts), len(audiences)


def _run_python_step(session: Any, node: Any, relations: Mapping[str, str]) -> int:
    """Run one dbt Python model on ``session`` and write its table; return its row count."""
    from customer_segments.spark_io import read_frame, write_frame

    def read(name: str) -> pd.DataFrame:
        if name not in relations:
            raise KeyError(f"ref({name!r}): no such model or seed")
        return read_frame(session, relations[name])

    context = PythonModelContext(read, node.config.to_dict(), relations[node.name])
    frame = run_python_model(node.raw_code, node.original_file_path, context, session)
    write_frame(session, frame, relations[node.name])
    return len(frame)


def _log(message: str) -> None:
    """Print a progress line of the job."""
    print(f"[spark_runner] {message}", flush=True)


def build_on_spark(
    dbt_args: Sequence[str] = (),
    target: str = "spark",
    *,
    exports: Path | None = Path("exports"),
    unit_tests: bool = False,
    manifest: Any = None,
) -> None:
    """Run every step, then write the exports; raise :class:`StepFailed` at the first failure.

    Parameters
    ----------
    dbt_args : sequence of str
        More dbt arguments for every invocation (``--project-dir``, ``--vars``...).
    target : str
        The dbt target (``spark``).
    exports : Path or None
        Folder replaced by the marts' Parquet copies and the audiences; None writes none.
    unit_tests : bool
        Also run dbt's unit tests (as ``make test`` does on DuckDB; ``make build`` does not).
    manifest : dbt Manifest, optional
        A manifest parsed for this target (spares the parse).
    """
    common = ["--target", target, *dbt_args]
    started = time.monotonic()
    if manifest is None:
        parsed = invoke_dbt(["parse", *common])
        if not parsed.success:
            raise StepFailed("dbt parse", _failures(parsed))
        manifest = parsed.result
    try:
        steps = plan_steps(manifest, unit_tests)
    except ValueError as error:
        raise StepFailed("plan", str(error)) from None
    relations = _relations(manifest)
    session = None
    for number, step in enumerate(steps, start=1):
        began = time.monotonic()
        label = f"{number}/{len(steps)} {step.name}"
        _log(f"step {label} ...")
        if step.kind == "dbt":
            invocation = invoke_dbt(
                [
                    "build",
                    "--select",
                    *(_selector(node) for node in step.nodes),
                    "--indirect-selection",
                    "empty",
                    *common,
                ],
                manifest=manifest,
            )
            if not invocation.success:
                raise StepFailed(step.name, _failures(invocation))
        else:
            node = step.nodes[0]
            session = session or _spark_session(common)
            try:
                rows = _run_python_step(session, node, relations)
            except Exception as error:  # any error of the model's code stops the job, named
                raise StepFailed(step.name, f"{type(error).__name__}: {error}") from error
            _log(f"{node.name}: {rows:,} rows -> {relations[node.name]}")
        _log(f"step {label} done in {time.monotonic() - began:.1f} s")
    if exports is not None:
        began = time.monotonic()
        session = session or _spark_session(common)
        try:
            marts, audiences = _write_exports(session, manifest, exports)
        except Exception as error:  # a half-written export folder is never published
            raise StepFailed("exports", f"{type(error).__name__}: {error}") from error
        _log(
            f"wrote {marts} Parquet files and {audiences} audiences to {exports} "
            f"in {time.monotonic() - began:.1f} s"
        )
    _log(f"whole job in {time.monotonic() - started:.1f} s")


def missing_spark_requirements() -> list[str]:
    """What this machine lacks to start a Spark session for dbt, each with how to get it.

    Checked before any step, so that a machine without the ``spark`` extra or without Java hears
    that, not dbt's "Could not find adapter type spark!" or a JVM stack trace.
    """
    missing = []
    for module, package in (("dbt.adapters.spark", "dbt-spark[session]"), ("pyspark", "pyspark")):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # a parent package (dbt.adapters) is not there either
            found = False
        if not found:
            missing.append(
                f"the Python package {package} (the spark extra: make spark-install, "
                'or pip install -e ".[spark]")'
            )
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing.append("Java 17 (apt-get install -y openjdk-17-jre-headless, or set JAVA_HOME)")
    return missing


def main(argv: list[str] | None = None) -> int:
    """The command line; 0 when every step passed, 1 when one failed or when the machine lacks
    the ``spark`` extra or Java (nothing is started then)."""
    parser = argparse.ArgumentParser(
        prog="python -m customer_segments.spark_runner",
        description=(
            "Build the whole project on Spark (dbt for the SQL, the dbt Python models in this "
            "process), then replace the exports folder. Arguments after -- go to every dbt "
            "invocation."
        ),
    )
    parser.add_argument("--target", default="spark", help="dbt target (default: spark)")
    parser.add_argument(
        "--exports",
        type=Path,
        default=Path("exports"),
        metavar="DIR",
        help="folder for the marts' Parquet copies and the audiences (default: exports)",
    )
    parser.add_argument("--no-exports", action="store_true", help="write no exports")
    parser.add_argument(
        "--unit-tests", action="store_true", help="also run dbt's unit tests (as CI does)"
    )
    parser.add_argument("dbt_args", nargs=argparse.REMAINDER, help="more dbt arguments, after --")
    args = parser.parse_args(argv)
    dbt_args = args.dbt_args[1:] if args.dbt_args[:1] == ["--"] else args.dbt_args
    missing = missing_spark_requirements()
    if missing:
        print(
            "spark build not started: this machine lacks " + "; and ".join(missing) + ".",
            file=sys.stderr,
        )
        return 1
    try:
        build_on_spark(
            dbt_args,
            args.target,
            exports=None if args.no_exports else args.exports,
            unit_tests=args.unit_tests,
        )
    except StepFailed as error:
        print(
            f"spark build failed: {error}. Nothing was published"
            + ("" if args.no_exports else f" ({args.exports} is unchanged)")
            + ".",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
