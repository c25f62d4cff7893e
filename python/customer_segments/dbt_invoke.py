"""Run dbt inside this Python process through dbt's programmatic runner.

Starting dbt as a subprocess costs an interpreter, dbt's imports (about 3.5 s) and a parse of the
project every time. ``dbtRunner`` runs in this process and can reuse a manifest that was parsed
once (``parse_project``): a build whose vars or environment change then starts in well under a
second. Vars reach the SQL at execution time, so they need no new parse; settings that dbt reads
while parsing (a model's ``config``) do, which is why the project passes its vars to the Python
models through the ``int_segmentation_settings`` model rather than through ``config``.

Two things this module takes care of:

* The environment variables the project reads (``SEGMENTS_DUCKDB_PATH``, ``RAW_ORDERS_PATH``...)
  are process-wide: :func:`invoke_dbt` sets them for the duration of one invocation and puts the
  previous values back.
* dbt-duckdb keeps its DuckDB database open in a class attribute after the invocation, so this
  process could neither rename the file nor open it read-only. :func:`release_duckdb` closes it;
  :func:`invoke_dbt` calls it when the invocation ends.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DbtInvocation",
    "held_duckdb_connection",
    "invoke_dbt",
    "parse_project",
    "release_duckdb",
    "scoped_environment",
]


@dataclass
class DbtInvocation:
    """What one dbt invocation did.

    Attributes
    ----------
    success : bool
        dbt's verdict: True when every selected node succeeded.
    result : Any
        dbt's result object (``RunExecutionResult`` for build/run/test, ``Manifest`` for parse).
    exception : BaseException or None
        The exception that stopped dbt before it ran the nodes (a failing on-run-start hook, a
        compilation error, an interrupt), if any.
    messages : list of str
        Every message dbt logged during the invocation, in order (what the CLI would print).
    inspected : Any
        What the ``inspect`` callback of :func:`invoke_dbt` returned (None without one).
    """

    success: bool
    result: Any = None
    exception: BaseException | None = None
    messages: list[str] = field(default_factory=list)
    inspected: Any = None

    @property
    def output(self) -> str:
        """The messages and the exception as one text, for error reports and tests."""
        tail = [str(self.exception)] if self.exception is not None else []
        return "\n".join([*self.messages, *tail])


@contextlib.contextmanager
def scoped_environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set environment variables (None unsets one) and restore the previous values on exit."""
    previous = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = str(value)
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def held_duckdb_connection() -> Any:
    """The DuckDB connection dbt-duckdb still holds after an invocation, or None.

    Reads through it see exactly the database dbt wrote to, even if its file was renamed or
    deleted meanwhile: the independent witness the publish step checks the file against.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return None
    environment = DuckDBConnectionManager._ENV
    return getattr(environment, "conn", None) if environment is not None else None


def release_duckdb() -> None:
    """Close the DuckDB database that dbt-duckdb keeps open after an invocation (if any)."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb not installed: nothing is held
        return
    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if environment is not None:
            environment.close()
    gc.collect()  # drop cursors that still reference the database instance


def invoke_dbt(
    args: Sequence[str],
    *,
    env: Mapping[str, str | None] | None = None,
    manifest: Any = None,
    inspect: Callable[[Any], Any] | None = None,
) -> DbtInvocation:
    """Run one dbt command in this process.

    Parameters
    ----------
    args : sequence of str
        The command line after ``dbt``, e.g. ``["build", "--vars", "{cluster_k: 4}"]``.
    env : mapping of str to str or None, optional
        Environment variables for this invocation only (None unsets one).
    manifest : dbt Manifest, optional
        A manifest from :func:`parse_project`: dbt then skips parsing. Project files changed
        since it was parsed are not seen.
    inspect : callable, optional
        Called with dbt's result object after a successful invocation, while dbt-duckdb still
        holds its database open (see :func:`held_duckdb_connection`); its return value is
        ``DbtInvocation.inspected``.

    Returns
    -------
    DbtInvocation
    """
    from dbt.cli.main import dbtRunner

    messages: list[str] = []

    def collect(event: Any) -> None:
        if event.info.level in ("info", "warn", "error") and event.info.msg:
            messages.append(str(event.info.msg))

    inspected = None
    with scoped_environment(env or {}):
        try:
            outcome = dbtRunner(manifest=manifest, callbacks=[collect]).invoke(list(args))
            if outcome.success and inspect is not None:
                inspected = inspect(outcome.result)
        finally:
            release_duckdb()
    return DbtInvocation(outcome.success, outcome.result, outcome.exception, messages, inspected)


def parse_project(
    project_dir: Path,
    *,
    profiles_dir: Path | None = None,
    target_path: Path | None = None,
    env: Mapping[str, str | None] | None = None,
) -> Any:
    """Parse the project once and return its manifest for :func:`invoke_dbt`.

    Raises
    ------
    RuntimeError
        When the project does not parse, with dbt's message.
    """
    args = ["parse", "--quiet", "--project-dir", str(project_dir)]
    if profiles_dir is not None:
        args += ["--profiles-dir", str(profiles_dir)]
    if target_path is not None:
        args += ["--target-path", str(target_path)]
    parsed = invoke_dbt(args, env=env)
    if not parsed.success:
        raise RuntimeError(f"dbt parse failed:\n{parsed.output}")
    return parsed.result
