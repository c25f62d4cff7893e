"""Make something once per test run, however many test processes pytest-xdist starts."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

__all__ = ["once_per_run"]


def once_per_run(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], Any]
) -> Any:
    """``make(folder)`` run once per test run, whatever the number of xdist processes.

    The first process to ask takes a lock, runs ``make`` in a folder shared by every process of
    the run and stores its JSON result; the others wait for the lock and read the result. A
    ``make`` that fails stores nothing, so the next process tries again (and fails the same way,
    in its own tests).
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each process's own
    folder = root / f"once-{name}"
    with open(root / f"once-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = folder / "result.json"
        if result.exists():
            return json.loads(result.read_text())
        folder.mkdir(exist_ok=True)
        value = make(folder)
        result.write_text(json.dumps(value))
        return value
