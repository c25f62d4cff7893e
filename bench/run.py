"""Time the three sides of the benchmark as whole processes and write ``bench/RESULTS.md``.

Sides:

* ``notebook`` -- baseline A, pandas + scikit-learn (``bench/baseline_notebook.py``), CSV only;
* ``duckdb``   -- baseline B, one DuckDB query + the same clustering (``bench/baseline_duckdb.py``);
* ``dbt``      -- the product: ``dbt build`` end to end in a fresh temporary folder (warehouse,
  target and logs), with its phases taken from ``target/run_results.json``.

Each run is one process wrapped in ``/usr/bin/time -v`` (peak resident memory of the process;
dbt runs its Python models in-process). The runner also polls the resident memory of the whole
process tree, prints progress every 30 s, stops a run at ``--timeout`` seconds (reported as
"over N min") and at ``--memory-guard-gb`` (reported as OOM, as is a kill by the kernel).

Every run is appended to ``bench/results.jsonl`` (committed: the record behind RESULTS.md);
RESULTS.md is rendered from the newest series of each (side, format, size, memory limit, dbt
arguments), so sizes and variants can be measured in separate invocations::

    .venv/bin/python -m bench.run --sizes 0.5M,5M --sides notebook,duckdb,dbt --runs 3
    .venv/bin/python -m bench.run --sizes 50M --sides duckdb,dbt --runs 1
    .venv/bin/python -m bench.run --sizes 100M --sides dbt --runs 1 --memory-limit 4GB
    .venv/bin/python -m bench.run --sizes 5M --sides dbt --dbt-args "" \\
        --dbt-args "--vars '{history_months: 0}'"

``--dbt-args`` adds arguments to the product's ``dbt build``: a variant (no history, no backtest,
no unit tests) is its own series, so what a feature costs is the difference between two rows.
Several ``--dbt-args`` take turns run after run, so that a drift in the machine's speed hits every
variant alike.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from bench.common import BIN_DIR, PROJECT_DIR
from bench.data import DATA_DIR, ensure_dataset, parse_size, size_label

OUT_DIR = PROJECT_DIR / "bench" / "out"
RESULTS_MD = PROJECT_DIR / "bench" / "RESULTS.md"
RESULTS_LOG = PROJECT_DIR / "bench" / "results.jsonl"
SIDES = ("notebook", "duckdb", "dbt", "spark")
SIDE_NAMES = {
    "notebook": "A: pandas notebook",
    "duckdb": "B: one DuckDB query",
    "dbt": "product: dbt build",
    "spark": "product on Spark: spark_runner, local[2]",
}
PRODUCT_SIDES = ("dbt", "spark")  # the sides that run the project, and so take --dbt-args
TIME_BIN = Path("/usr/bin/time")

# dbt phases: resource type / model path -> phase. Start-up is the time from process start to
# the first node; load+seeds is the on-run-start hooks (checking and loading the raw file) and the
# seeds; "other" is what remains (dbt's own work between nodes, writing artifacts, exit).
PHASES = (
    "startup",
    "load+seeds",
    "cleaning",
    "rfm",
    "clustering",
    "backtest",
    "history",
    "marts",
    "tests",
    "other",
)


@dataclass
class Run:
    """One timed process."""

    side: str
    fmt: str
    lines: int
    memory_limit: str | None
    run: int
    status: str  # ok | timeout | oom | error
    seconds: float
    peak_rss_mb: float | None
    phases: dict[str, float] = field(default_factory=dict)
    node_seconds: dict[str, float] = field(default_factory=dict)
    command: str = ""
    invocation: str = ""
    detail: str = ""
    measured_at: str = ""
    kept_dir: str = ""
    code: str = ""  # digest of the product's code (models, macros, seeds, library) at the start
    dbt_args: str = ""  # extra arguments of the product's dbt build (a variant), as typed
    rows: dict[str, int] = field(default_factory=dict)  # row counts of the product's marts


# ------------------------------------------------------------------------------------------------
# Process tree measurement
# ------------------------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (from /proc)."""
    total_kb, stack, seen = 0, [pid], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
                        break
        except (FileNotFoundError, ProcessLookupError):
            continue
        stack += _children(current)
    return total_kb / 1024


def _time_v_peak_mb(path: Path) -> float | None:
    try:
        for line in path.read_text().splitlines():
            if "Maximum resident set size" in line:
                return int(line.rsplit(":", 1)[1]) / 1024
    except FileNotFoundError:
        pass
    return None


def run_process(
    command: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    timeout: float,
    memory_guard_mb: float,
    label: str,
    progress_every: float = 30.0,
) -> tuple[str, float, float | None, str]:
    """Run ``command`` under /usr/bin/time -v; return (status, seconds, peak MB, detail)."""
    time_file = log_path.with_suffix(".time")
    wrapped = ([str(TIME_BIN), "-v", "-o", str(time_file)] if TIME_BIN.exists() else []) + command
    polled_peak = 0.0
    status, detail = "ok", ""
    with open(log_path, "w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            wrapped,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a stop reaches every child
        )
        next_report = started + progress_every
        while process.poll() is None:
            time.sleep(0.1)
            now = time.perf_counter()
            rss = tree_rss_mb(process.pid)
            polled_peak = max(polled_peak, rss)
            if now - started > timeout:
                status, detail = "timeout", f"stopped after {timeout:.0f} s"
            elif rss > memory_guard_mb:
                status, detail = "oom", f"stopped at {rss / 1024:.1f} GB resident (guard)"
            if status != "ok":
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                break
            if now >= next_report:
                print(
                    f"    ... {label}: {now - started:.0f} s, {rss / 1024:.1f} GB resident",
                    flush=True,
                )
                next_report += progress_every
        seconds = time.perf_counter() - started
    peak = _time_v_peak_mb(time_file) if status == "ok" else None
    peak = max(peak or 0.0, polled_peak) or None
    if status == "ok" and process.returncode != 0:
        text = log_path.read_text(errors="replace")
        killed = process.returncode in (-9, 137) or "Command terminated by signal 9" in text
        if killed or "MemoryError" in text or "Out of Memory Error" in text:
            status, detail = "oom", f"exit {process.returncode}"
        else:
            status, detail = "error", f"exit {process.returncode}; see {log_path}"
    return status, seconds, peak, detail


# ------------------------------------------------------------------------------------------------
# The sides
# ------------------------------------------------------------------------------------------------
def write_profiles(work_dir: Path, memory_limit: str | None) -> Path:
    """A copy of the project's profiles.yml, with DuckDB's memory_limit added when asked."""
    profiles = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    if memory_limit:
        for profile in profiles.values():
            for output in profile.get("outputs", {}).values():
                output.setdefault("settings", {})["memory_limit"] = memory_limit
    (work_dir / "profiles.yml").write_text(yaml.safe_dump(profiles, sort_keys=False))
    return work_dir


def dbt_command(work_dir: Path, profiles_dir: Path, dbt_args: str = "") -> list[str]:
    return [
        str(BIN_DIR / "dbt"),
        "build",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(profiles_dir),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        *shlex.split(dbt_args),
    ]


def spark_command(work_dir: Path, dbt_args: str = "") -> list[str]:
    """The product on a local Spark session: every model, seed and data test, as `make
    build-spark` runs them but without writing exports (the DuckDB side writes none either)."""
    return [
        sys.executable,
        "-m",
        "customer_segments.spark_runner",
        "--no-exports",
        "--",
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        *shlex.split(dbt_args),
    ]


def side_command(side: str, data: Path, work_dir: Path, dbt_args: str = "") -> list[str]:
    if side == "dbt":
        return dbt_command(work_dir, work_dir, dbt_args)
    if side == "spark":
        return spark_command(work_dir, dbt_args)
    module = {"notebook": "bench.baseline_notebook", "duckdb": "bench.baseline_duckdb"}[side]
    return [sys.executable, "-m", module, str(data), "--out-dir", str(work_dir / "out")]


def _phase_of(unique_id: str, node_path: str) -> str:
    """The phase a node's time counts in, by its kind and its folder (models/<layer>/<area>/).

    rfm includes the RFM of every snapshot date (int_customer_rfm_snapshots): what the history
    and the backtest add there shows in a run without them (``--dbt-args``), not here.
    """
    kind = unique_id.split(".", 1)[0]
    if kind in ("test", "unit_test"):
        return "tests"
    if kind in ("operation", "seed"):
        return "load+seeds"
    if kind == "model":
        area = node_path.rsplit("/", 2)[-2] if node_path.count("/") >= 2 else ""
        if area in ("clustering", "segmentation"):
            return "clustering"
        if area == "backtest":
            return "backtest"
        if area == "history" or unique_id.endswith(".fct_customer_rfm_history"):
            return "history"
        if area == "rfm":
            return "rfm"
        if area == "segments":
            return "marts"
        return "cleaning"  # staging, order lines, the audit
    return "other"


def dbt_phases(work_dir: Path, process_seconds: float) -> tuple[dict, dict]:
    """Phases (s) of one dbt build and the execution time of every model, from run_results."""
    results = json.loads((work_dir / "target" / "run_results.json").read_text())
    manifest_path = work_dir / "target" / "manifest.json"
    paths = {}
    if manifest_path.exists():
        nodes = json.loads(manifest_path.read_text()).get("nodes", {})
        paths = {uid: node.get("original_file_path", "") for uid, node in nodes.items()}
    phases = dict.fromkeys(PHASES, 0.0)
    node_seconds = {}
    first_start = None
    for result in results["results"]:
        uid = result["unique_id"]
        phase = _phase_of(uid, "/" + paths.get(uid, ""))
        phases[phase] += result["execution_time"]
        if uid.startswith("model."):
            node_seconds[uid.split(".")[-1]] = round(result["execution_time"], 3)
        elif result["execution_time"] >= 1.0:  # heavy tests and hooks, kept for profiling
            kind = "hook" if uid.startswith("operation.") else "test"
            node_seconds[f"{kind}:" + uid.split(".")[2]] = round(result["execution_time"], 3)
        for timing in result.get("timing", []):
            started = dt.datetime.fromisoformat(timing["started_at"].replace("Z", "+00:00"))
            first_start = started if first_start is None else min(first_start, started)
    # Start-up: from the process start (recorded beside run_results) to the first node.
    process_started = dt.datetime.fromisoformat(
        (work_dir / "process_started_at").read_text().strip()
    )
    if first_start is not None:
        phases["startup"] = max(0.0, (first_start - process_started).total_seconds())
    phases["other"] = max(0.0, process_seconds - sum(v for k, v in phases.items() if k != "other"))
    return {k: round(v, 2) for k, v in phases.items()}, node_seconds


# Marts whose size the targets relate time to (customers, customer x snapshot rows).
COUNTED_MARTS = ("fct_customer_rfm", "fct_customer_segment_history")


def mart_rows(warehouse: Path) -> dict[str, int]:
    """Row counts of :data:`COUNTED_MARTS` in a product's warehouse (empty when unreadable)."""
    import duckdb

    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            return {
                name: connection.execute(f"select count(*) from main.{name}").fetchone()[0]
                for name in COUNTED_MARTS
            }
    except duckdb.Error:
        return {}


def code_digest() -> str:
    """Short digest of everything the product and the clustering call run: the project and the
    library can change between runs (they are developed alongside), and a table mixing versions
    must say so."""
    digest = hashlib.sha256()
    roots = [PROJECT_DIR / name for name in ("models", "macros", "seeds", "tests/dbt")]
    files = [PROJECT_DIR / "dbt_project.yml", PROJECT_DIR / "profiles.yml"]
    files += sorted((PROJECT_DIR / "python" / "customer_segments").glob("*.py"))
    for root in roots:
        files += sorted(p for p in root.rglob("*") if p.is_file())
    for path in files:
        digest.update(str(path.relative_to(PROJECT_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def baseline_split(log_path: Path, process_seconds: float) -> dict[str, float]:
    """A baseline's own split (it prints rfm_seconds and total_seconds): start-up, RFM, clustering."""
    found = dict(re.findall(r"(rfm_seconds|total_seconds)=([0-9.]+)", log_path.read_text()))
    if len(found) != 2:
        return {}
    rfm, total = float(found["rfm_seconds"]), float(found["total_seconds"])
    return {
        "startup": round(max(0.0, process_seconds - total), 2),
        "rfm": round(rfm, 2),
        "clustering": round(total - rfm, 2),
    }


def run_one(
    side: str,
    fmt: str,
    lines: int,
    run_number: int,
    *,
    memory_limit: str | None,
    timeout: float,
    memory_guard_mb: float,
    data_dir: Path,
    keep: bool,
    invocation: str,
    dbt_args: str = "",
) -> Run:
    data = ensure_dataset(lines, fmt, data_dir=data_dir)
    work_dir = Path(tempfile.mkdtemp(prefix=f"bench_{side}_{lines}_"))
    env = dict(os.environ)
    if side == "dbt":
        write_profiles(work_dir, memory_limit)
        env["RAW_ORDERS_PATH"] = str(data)
        env["SEGMENTS_DUCKDB_PATH"] = str(work_dir / "segments.duckdb")
    if side == "spark":
        # A fresh warehouse and metastore per run, as the DuckDB side gets a fresh file.
        env["RAW_ORDERS_PATH"] = str(data)
        env["SEGMENTS_SPARK_WAREHOUSE_DIR"] = str(work_dir / "spark-warehouse")
        env["SEGMENTS_SPARK_METASTORE_DIR"] = str(work_dir / "metastore_db")
    dbt_args = dbt_args if side in PRODUCT_SIDES else ""
    command = side_command(side, data, work_dir, dbt_args)
    label = f"{side} {fmt} {size_label(lines)} run {run_number}"
    code_before = code_digest()
    (work_dir / "process_started_at").write_text(dt.datetime.now(dt.UTC).isoformat())
    status, seconds, peak, detail = run_process(
        command,
        env=env,
        cwd=PROJECT_DIR,
        log_path=work_dir / "output.log",
        timeout=timeout,
        memory_guard_mb=memory_guard_mb,
        label=label,
    )
    code = code_before
    if code_digest() != code_before:
        code += "*"  # the code changed while this run was going
    phases, node_seconds = {}, {}
    rows = {}
    if side == "dbt" and status == "ok":
        phases, node_seconds = dbt_phases(work_dir, seconds)
        rows = mart_rows(work_dir / "segments.duckdb")
    elif status == "ok":
        phases = baseline_split(work_dir / "output.log", seconds)
    shown_env = ""
    if side == "dbt":
        shown_env = f"RAW_ORDERS_PATH={data} SEGMENTS_DUCKDB_PATH=<tmp>/segments.duckdb "
    if side == "spark":
        shown_env = (
            f"RAW_ORDERS_PATH={data} SEGMENTS_SPARK_WAREHOUSE_DIR=<tmp>/spark-warehouse "
            "SEGMENTS_SPARK_METASTORE_DIR=<tmp>/metastore_db "
        )
    record = Run(
        side=side,
        fmt=fmt,
        lines=lines,
        memory_limit=memory_limit if side == "dbt" else None,
        run=run_number,
        status=status,
        seconds=round(seconds, 2),
        peak_rss_mb=round(peak, 1) if peak else None,
        phases=phases,
        node_seconds=node_seconds,
        command=(shown_env + shlex.join(command))
        .replace(str(work_dir), "<tmp>")
        .replace(str(PROJECT_DIR) + "/", ""),
        invocation=invocation,
        detail=detail,
        measured_at=dt.datetime.now().isoformat(timespec="seconds"),
        code=code,
        dbt_args=dbt_args,
        rows=rows,
    )
    if status == "ok" and not keep:
        subprocess.run(["rm", "-rf", str(work_dir)], check=False)
    else:
        record.kept_dir = str(work_dir)
    return record


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except FileNotFoundError:
        pass
    ram_gb = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_gb = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except FileNotFoundError:
        pass
    return {"cpu": cpu, "cores": str(os.cpu_count()), "ram": ram_gb, "os": platform.platform()}


def versions() -> dict[str, str]:
    from importlib.metadata import version

    found = {"python": platform.python_version()}
    for package in (
        "duckdb",
        "dbt-core",
        "dbt-duckdb",
        "scikit-learn",
        "pandas",
        "numpy",
        "pyarrow",
    ):
        try:
            found[package] = version(package)
        except Exception:
            found[package] = "not installed"
    return found


def load_runs(log_path: Path) -> list[Run]:
    if not log_path.exists():
        return []
    return [Run(**json.loads(line)) for line in log_path.read_text().splitlines() if line.strip()]


def latest_series(runs: list[Run]) -> dict[tuple, list[Run]]:
    """The runs of the newest invocation for each (side, format, size, memory limit, dbt args)."""
    newest: dict[tuple, tuple[str, str]] = {}
    for run in runs:
        key = (run.side, run.fmt, run.lines, run.memory_limit, run.dbt_args)
        newest[key] = max(newest.get(key, ("", "")), (run.measured_at, run.invocation))
    newest = {key: invocation for key, (_, invocation) in newest.items()}
    series: dict[tuple, list[Run]] = {}
    for run in runs:
        key = (run.side, run.fmt, run.lines, run.memory_limit, run.dbt_args)
        if run.invocation == newest[key]:
            series.setdefault(key, []).append(run)
    return series


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.1f}" if seconds < 100 else f"{seconds:.0f}"


def summarize(runs: list[Run]) -> dict:
    ok = [r for r in runs if r.status == "ok"]
    failed = [r for r in runs if r.status != "ok"]
    summary = {"n": len(runs), "ok": len(ok)}
    if ok:
        times = [r.seconds for r in ok]
        summary.update(median=statistics.median(times), min=min(times), max=max(times))
        summary["by_run"] = {r.run: r.seconds for r in ok}
        summary["invocation"] = ok[0].invocation
        peaks = [r.peak_rss_mb for r in ok if r.peak_rss_mb]
        summary["peak_mb"] = max(peaks) if peaks else None
        if ok[0].rows:
            summary["rows"] = ok[0].rows  # the same input gives the same marts
        if ok[0].side == "dbt" and ok[0].phases:
            summary["phases"] = {
                p: statistics.median(r.phases.get(p, 0.0) for r in ok) for p in PHASES
            }
            models = sorted(
                {m for r in ok for m in r.node_seconds if not m.startswith(("test:", "hook:"))}
            )
            summary["models"] = {
                m: statistics.median(r.node_seconds.get(m, 0.0) for r in ok) for m in models
            }
        elif all(r.phases for r in ok):
            summary["split"] = {
                p: statistics.median(r.phases[p] for r in ok)
                for p in ("startup", "rfm", "clustering")
            }
    if failed:
        first = failed[0]
        if first.status == "timeout":
            summary["failure"] = f"over {first.seconds / 60:.0f} min"
        elif first.status == "oom":
            peak = f" at {first.peak_rss_mb / 1024:.1f} GB" if first.peak_rss_mb else ""
            summary["failure"] = f"OOM{peak}"
        else:
            summary["failure"] = f"error ({first.detail})"
    return summary


def _cell_time(s: dict) -> str:
    if "median" not in s:
        return s.get("failure", "-")
    text = f"{_fmt_s(s['median'])} ({_fmt_s(s['min'])}-{_fmt_s(s['max'])})"
    if "failure" in s:
        text += f"; {s['n'] - s['ok']} of {s['n']}: {s['failure']}"
    return text


def _cell_mem(s: dict) -> str:
    if s.get("peak_mb"):
        return f"{s['peak_mb'] / 1024:.2f}"
    return "-"


def _series_label(key: tuple) -> str:
    side, fmt, _, memory_limit, dbt_args = key
    label = f"{SIDE_NAMES[side]}"
    if memory_limit:
        label += f", memory_limit {memory_limit}"
    if dbt_args:
        label += f", `{dbt_args}`"
    return f"{label} | {fmt}"


def _judged_span(sizes) -> tuple[int, int]:
    """The sizes a growth target compares: the largest, and the largest at most a fifth of it
    (the issue asks 10M -> 100M), or the smallest when no size is that far below."""
    large = max(sizes)
    return max([n for n in sizes if n * 5 <= large] or [min(sizes)]), large


# What a variant of the product's build leaves out, recognised in its --dbt-args, and the most
# that part may add to the build without it (None: reported, not judged).
# The phase of the default build that holds the part's own models (None: no phase of its own).
VARIANTS = (
    (
        "history_months: 0",
        "the history (12 monthly snapshots, transitions, drift)",
        0.30,
        "history",
    ),
    (
        "prediction_horizon_days: 3650",
        "the backtest (a second fit at the cutoff, the purchase "
        "model's comparison and its calibration)",
        0.25,
        "backtest",
    ),
    (
        "unit_test",
        "the dbt unit tests (left out of `make build`, run by `make test` and CI)",
        None,
        None,
    ),
)


def variant_cost(full: dict, variant: dict) -> tuple[float, float, str]:
    """What the default build costs more than a variant: (seconds, share of the variant, how).

    When both were measured in one invocation, their runs took turns: the cost is the median of
    the differences run by run (run n of the build minus run n of the variant), which a drift in
    the machine's speed over minutes hits on both sides alike. Otherwise, the medians' difference.
    """
    paired = sorted(set(full.get("by_run", {})) & set(variant.get("by_run", {})))
    if paired and full.get("invocation") and full.get("invocation") == variant.get("invocation"):
        differences = [full["by_run"][n] - variant["by_run"][n] for n in paired]
        shares = [d / variant["by_run"][n] for d, n in zip(differences, paired, strict=True)]
        how = (
            f"median of {len(paired)} paired runs, from {min(differences):+.1f} "
            f"to {max(differences):+.1f} s"
        )
        return statistics.median(differences), statistics.median(shares), how
    cost = full["median"] - variant["median"]
    return cost, cost / variant["median"], "difference of medians of separate series"


def variant_targets(series: dict[tuple, dict]) -> list[str]:
    """For each variant series, what the part it leaves out costs the default build."""
    found = []
    for key, variant in sorted(series.items(), key=lambda item: (item[0][2], item[0][4])):
        side, fmt, lines, memory_limit, dbt_args = key
        full = series.get((side, fmt, lines, memory_limit, ""), {})
        if side != "dbt" or not dbt_args or "median" not in variant or "median" not in full:
            continue
        for marker, part, ceiling, phase in VARIANTS:
            if marker not in dbt_args:
                continue
            cost, share, how = variant_cost(full, variant)
            own = full.get("phases", {}).get(phase) if phase else None
            text = (
                f"- {size_label(lines)} {fmt}: {part} adds {cost:.1f} s to the build "
                f"({_fmt_s(full['median'])} s with it, {_fmt_s(variant['median'])} s with "
                f"`{dbt_args}`; {how}), {share:+.0%}"
                + (
                    f"; its own models take {own:.1f} s of the build "
                    f"({own / (full['median'] - own):.0%} on top of the rest)"
                    if own
                    else ""
                )
            )
            if ceiling is not None:
                text += f" (at most {ceiling:.0%}): **{'met' if share <= ceiling else 'MISSED'}**"
            found.append(text)
    return found


def history_growth_target(series: dict[tuple, dict]) -> list[str]:
    """The history's cost (its phase) against its size (customers x snapshot dates), from the
    smallest to the largest default CSV build: it must grow at most linearly (x1.25 slack)."""
    measured = {
        lines: s
        for (side, fmt, lines, ml, args), s in series.items()
        if side == "dbt"
        and fmt == "csv"
        and not ml
        and not args
        and s.get("rows", {}).get("fct_customer_segment_history")
        and s.get("phases", {}).get("history")
    }
    if len(measured) < 2:
        return []
    small, large = min(measured), max(measured)
    rows = [measured[n]["rows"]["fct_customer_segment_history"] for n in (small, large)]
    cost = [measured[n]["phases"]["history"] for n in (small, large)]
    growth, size_growth = cost[1] / cost[0], rows[1] / rows[0]
    return [
        f"- history grows linearly in customers x snapshots: {rows[0]:,} -> {rows[1]:,} rows "
        f"(x{size_growth:.1f}) from {size_label(small)} to {size_label(large)}, its phase "
        f"{cost[0]:.1f} -> {cost[1]:.1f} s (x{growth:.1f}): "
        f"**{'met' if growth <= 1.25 * size_growth else 'MISSED'}**"
    ]


def targets(series: dict[tuple, dict]) -> list[str]:
    """Each target of the issue, evaluated on what was measured (CSV input)."""
    lines_out = []

    def get(side, lines, fmt="csv", memory_limit=None, dbt_args=""):
        return series.get((side, fmt, lines, memory_limit, dbt_args), {})

    sizes = sorted({k[2] for k in series})
    for fmt in ("csv", "parquet"):
        for lines in sizes:
            product, floor = get("dbt", lines, fmt), get("duckdb", lines, fmt)
            if "median" in product and "median" in floor and "phases" in product:
                startup = product["phases"]["startup"]
                bound = 1.5 * floor["median"] + startup
                verdict = "met" if product["median"] <= bound else "MISSED"
                lines_out.append(
                    f"- product <= 1.5 x B + dbt start-up, {size_label(lines)} {fmt}: "
                    f"{_fmt_s(product['median'])} s vs 1.5 x {_fmt_s(floor['median'])} + "
                    f"{startup:.1f} = {_fmt_s(bound)} s: **{verdict}** "
                    f"(product / B = {product['median'] / floor['median']:.1f}x)"
                )
    product, notebook = get("dbt", 5_000_000), get("notebook", 5_000_000)
    if "median" in product and "median" in notebook:
        speedup = notebook["median"] / product["median"]
        lines_out.append(
            f"- 5M: product >= 3x faster than A: {speedup:.2f}x: "
            f"**{'met' if speedup >= 3 else 'MISSED'}**"
        )
        if product.get("peak_mb") and notebook.get("peak_mb"):
            ratio = product["peak_mb"] / notebook["peak_mb"]
            lines_out.append(
                f"- 5M: product peak memory <= 1/3 of A: {ratio:.2f} of A "
                f"({product['peak_mb'] / 1024:.2f} vs {notebook['peak_mb'] / 1024:.2f}"
                f" GB): **{'met' if ratio <= 1 / 3 else 'MISSED'}**"
            )
    for fmt in ("csv", "parquet"):
        product = get("dbt", 50_000_000, fmt)
        if not product:
            continue
        if "median" in product:
            verdict = "met" if product["median"] < 60 else "MISSED"
            lines_out.append(
                f"- 50M {fmt}: product under a minute: {_fmt_s(product['median'])} s: **{verdict}**"
            )
        else:
            lines_out.append(
                f"- 50M {fmt}: product under a minute: {product.get('failure')}: **MISSED**"
            )
    lines_out += variant_targets(series)
    lines_out += history_growth_target(series)
    for fmt in ("csv", "parquet"):
        for lines in sizes:
            spark, duck = get("spark", lines, fmt), get("dbt", lines, fmt)
            if "median" in spark and "median" in duck:
                lines_out.append(
                    f"- {size_label(lines)} {fmt}: the product on local Spark takes "
                    f"{_fmt_s(spark['median'])} s, {spark['median'] / duck['median']:.1f}x "
                    f"DuckDB's {_fmt_s(duck['median'])} s (reported, not judged: see "
                    "docs/spark.md on what changes on a cluster)"
                )
    limited = {k: v for k, v in series.items() if k[0] == "dbt" and k[3] and not k[4]}
    for key, summary in sorted(limited.items()):
        verdict = "met" if summary.get("ok") else "MISSED"
        outcome = (
            f"{_fmt_s(summary['median'])} s, peak {_cell_mem(summary)} GB"
            if "median" in summary
            else summary.get("failure")
        )
        lines_out.append(
            f"- {size_label(key[2])} {key[1]} with memory_limit {key[3]}: {outcome}: **{verdict}**"
        )
    product_csv = {
        lines: s
        for (side, fmt, lines, ml, args), s in series.items()
        if side == "dbt" and fmt == "csv" and not ml and not args and "median" in s
    }
    # Linearity on the work that scales (the run less dbt's start-up), over a 5x+ span ending at
    # the largest size, for each memory limit measured (the issue asks 10M -> 100M at 4 GB).
    for limit in sorted({k[3] for k in series if k[0] == "dbt"}, key=str):
        group = {
            lines: s
            for (side, fmt, lines, ml, args), s in series.items()
            if side == "dbt" and fmt == "csv" and ml == limit and not args and "median" in s
        }
        if len(group) < 2:
            continue
        small, large = _judged_span(group)
        s_small, s_large = group[small], group[large]
        work_small = s_small["median"] - s_small.get("phases", {}).get("startup", 0.0)
        work_large = s_large["median"] - s_large.get("phases", {}).get("startup", 0.0)
        growth, size_growth = work_large / work_small, large / small
        limit_text = f", memory_limit {limit}" if limit else ""
        lines_out.append(
            f"- linear scaling (product, CSV{limit_text}, {size_label(small)} -> "
            f"{size_label(large)}, time less start-up): x{growth:.1f} for x{size_growth:.0f} "
            f"lines (per-line cost x{growth / size_growth:.2f}): "
            f"**{'met' if growth <= 1.25 * size_growth else 'MISSED'}**"
        )
    # The k evaluation: the Python model int_cluster_k_evaluation (cluster_k_evaluation before
    # the clustering steps became intermediate models; its mart is now a plain select).
    k_eval = {
        lines: s["models"].get("int_cluster_k_evaluation", s["models"].get("cluster_k_evaluation"))
        for lines, s in product_csv.items()
        if {"int_cluster_k_evaluation", "cluster_k_evaluation"} & set(s.get("models", {}))
    }
    if k_eval:
        shown = ", ".join(f"{size_label(n)} {v:.1f} s" for n, v in sorted(k_eval.items()))
        sizes_k = sorted(k_eval)
        if len(sizes_k) >= 2:
            # Bounded and not dominating: over a span of 5x+ lines ending at the largest size
            # (as for linearity), the cost grows at most a quarter as fast as the lines (only
            # reading the customers grows with them; the evaluation itself is capped at
            # max_samples), and it is at most a tenth of the run at the largest size.
            small, large = _judged_span(sizes_k)
            ratio = k_eval[large] / max(k_eval[small], 1e-9)
            share = k_eval[large] / product_csv[large]["median"]
            verdict = "met" if ratio <= 0.25 * large / small and share <= 0.10 else "MISSED"
            shown += (
                f"; x{ratio:.1f} for x{large / small:.0f} lines from {size_label(small)} "
                f"to {size_label(large)}, {share:.0%} of the run at {size_label(large)}"
            )
        else:
            verdict = "not judged (one size)"
        lines_out.append(
            f"- k selection cost bounded (int_cluster_k_evaluation): {shown}: **{verdict}**"
        )
    return lines_out


def model_seconds(models: dict[str, float], model: str) -> str:
    """A model's median seconds in one series, or ``-`` where the series has no such model (a
    model added after those runs: not a model that took no time)."""
    return f"{models[model]:.2f}" if model in models else "-"


def render(runs: list[Run]) -> str:
    series_runs = latest_series(runs)
    series = {key: summarize(rs) for key, rs in series_runs.items()}
    order = sorted(series, key=lambda k: (k[2], k[1], SIDES.index(k[0]), k[3] or "", k[4]))
    out = ["# Benchmark results", ""]
    out += [
        "Generated by `bench/run.py`; do not edit by hand. Each run is a whole process "
        "(interpreter start, imports, reading the file, cleaning, RFM, clustering, writing "
        "results); the product is `dbt build` (every model, seed, data test and unit test, "
        "unless the row names arguments that leave some out) in a fresh temporary folder, so "
        "dbt parses the project cold every run.",
        "",
        "Time in seconds: median (min-max) over the runs. Peak memory: maximum resident set "
        "size of the process (`/usr/bin/time -v`; dbt runs its Python models in-process), "
        "in GB.",
        "",
        "Code: digest of the project and library code at the start of the runs (`*`: it "
        "changed during a run; `?`: not recorded); rows are comparable only with the same code.",
        "",
        "| lines | side | input | runs | time s | peak GB | code | measured |",
        "| ---: | --- | --- | ---: | --- | ---: | --- | --- |",
    ]
    for key in order:
        s = series[key]
        rs = series_runs[key]
        codes = ",".join(sorted({r.code or "?" for r in rs}))
        out.append(
            f"| {size_label(key[2])} | {_series_label(key)} | {s['n']} | {_cell_time(s)} "
            f"| {_cell_mem(s)} | {codes} | {rs[0].measured_at[:16]} |"
        )
    phased = [k for k in order if "phases" in series[k]]
    if phased:
        out += [
            "",
            "## Product phases (median s, from dbt's run_results.json)",
            "",
            "start-up = process start to the first node (interpreter, dbt imports, project "
            "parse, connection); load+seeds = the on-run-start hooks (checking the vars, loading "
            "the raw file into raw.online_retail_order_lines_loaded) and the seeds; "
            "cleaning = staging, the classified order lines and the audit; rfm = the RFM of "
            "every snapshot date (as_of_date, the history's month starts, the backtest's "
            "cutoffs) and its marts; clustering = the segmentation models (transform, k "
            "evaluation, centroids, conditions, assignment); backtest = the backtest and the "
            "purchase probability; history = the history marts (segments per snapshot, "
            "transitions, moves, drift); marts = the segment marts; tests = every data and "
            "unit test; other = the remainder (dbt's bookkeeping between nodes, artifacts, "
            "exit).",
            "",
            "| lines | input | memory_limit | dbt args | total | " + " | ".join(PHASES) + " |",
            "| ---: | --- | --- | --- | ---: | " + " | ".join("---:" for _ in PHASES) + " |",
        ]
        for key in phased:
            s = series[key]
            out.append(
                f"| {size_label(key[2])} | {key[1]} | {key[3] or '-'} | "
                f"{f'`{key[4]}`' if key[4] else '-'} | {_fmt_s(s['median'])} | "
                + " | ".join(f"{s['phases'].get(p, 0.0):.1f}" for p in PHASES)
                + " |"
            )
        models = sorted({m for k in phased for m in series[k]["models"]})
        out += [
            "",
            "### Product models (median execution s)",
            "",
            "| model | "
            + " | ".join(
                f"{size_label(k[2])} {k[1]}{' ' + k[3] if k[3] else ''}"
                f"{f' `{k[4]}`' if k[4] else ''}"
                for k in phased
            )
            + " |",
            "| --- | " + " | ".join("---:" for _ in phased) + " |",
        ]
        for model in models:
            out.append(
                f"| {model} | "
                + " | ".join(model_seconds(series[k]["models"], model) for k in phased)
                + " |"
            )
    split = [k for k in order if "split" in series[k]]
    if split:
        out += [
            "",
            "## Baselines' own split (median s, as the scripts time themselves)",
            "",
            "start-up = interpreter and imports; rfm = reading the file to the RFM table; "
            "clustering = the shared `run_segmentation` call and writing its output.",
            "",
            "| lines | side | input | total | start-up | rfm | clustering |",
            "| ---: | --- | --- | ---: | ---: | ---: | ---: |",
        ]
        for key in split:
            s = series[key]
            out.append(
                f"| {size_label(key[2])} | {SIDE_NAMES[key[0]]} | {key[1]} | "
                f"{_fmt_s(s['median'])} | "
                + " | ".join(f"{s['split'][p]:.1f}" for p in ("startup", "rfm", "clustering"))
                + " |"
            )
    found = targets(series)
    if found:
        out += ["", "## Targets", "", *found]
    out += ["", "## Machine", ""]
    out += [f"- {name}: {value}" for name, value in machine().items()]
    out += ["", "## Versions", ""]
    out += [f"- {name}: {value}" for name, value in versions().items()]
    invocations = sorted({r.invocation for rs in series_runs.values() for r in rs})
    out += [
        "",
        "## Reproduce",
        "",
        "From the project folder (data is generated into `bench/out/data` on first use, seed 42):",
        "",
        "```sh",
    ]
    out += invocations
    out += [
        "```",
        "",
        "One run of each side, as executed (`<tmp>` is a fresh temporary folder):",
        "",
        "```sh",
    ]
    seen = set()
    for key in order:
        command = series_runs[key][0].command
        if command not in seen:
            seen.add(command)
            out.append(command)
    out += ["```", ""]
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------
def variants_for(side: str, dbt_args: list[str] | None) -> list[str]:
    """The product's variants to run (its dbt arguments); the baselines take none."""
    if side not in PRODUCT_SIDES:
        return [""]
    return list(dict.fromkeys(dbt_args)) if dbt_args else [""]


def interleaved_runs(variants: list[str], runs: int) -> list[tuple[int, str]]:
    """(run number, variant) in the order to run them: the variants take turns, run after run,
    so that a machine that slows down for a while slows every variant alike and the difference
    between two variants is the feature, not the moment it was measured. Each round starts one
    variant later than the one before, so no variant is always first (or last) of its round."""
    order = []
    for number in range(1, runs + 1):
        start = (number - 1) % len(variants)
        order += [(number, variant) for variant in variants[start:] + variants[:start]]
    return order


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0.5M,5M", help="comma-separated lines, e.g. 0.5M,5M")
    parser.add_argument(
        "--sides",
        default="notebook,duckdb,dbt",
        help="notebook,duckdb,dbt (default) and spark (needs Java and the spark extra)",
    )
    parser.add_argument("--formats", default="csv", help="csv,parquet (notebook: csv only)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument(
        "--memory-guard-gb",
        type=float,
        default=20.0,
        help="stop a run whose process tree passes this resident size (OOM)",
    )
    parser.add_argument(
        "--memory-limit", default=None, help="DuckDB memory_limit for the product, e.g. 4GB"
    )
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--results-log", type=Path, default=RESULTS_LOG)
    parser.add_argument("--results-md", type=Path, default=RESULTS_MD)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument(
        "--dbt-args",
        action="append",
        default=None,
        help="more arguments for the product's dbt build, e.g. \"--vars '{history_months: 0}'\" "
        "or '--exclude-resource-type unit_test' (a series of its own); give it several times "
        '("" for the plain build) and the variants\' runs take turns',
    )
    args = parser.parse_args(argv)

    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    unknown = set(sides) - set(SIDES)
    if unknown:
        parser.error(f"unknown side(s) {', '.join(sorted(unknown))}; choose from {SIDES}")
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    formats = [f.strip() for f in args.formats.split(",")]
    invocation = ".venv/bin/python -m bench.run " + shlex.join(
        argv if argv is not None else sys.argv[1:]
    )
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    args.results_log.parent.mkdir(parents=True, exist_ok=True)
    stopped: set[tuple[int, str, str, str]] = set()  # (lines, format, side, dbt args)
    for lines in sizes:
        for fmt in formats:
            ensure_dataset(lines, fmt, data_dir=args.data_dir)
            for side in sides:
                if side == "notebook" and fmt != "csv":
                    continue
                variants = variants_for(side, args.dbt_args)
                for number, dbt_args in interleaved_runs(variants, args.runs):
                    if (lines, fmt, side, dbt_args) in stopped:
                        continue  # a variant that timed out or ran out of memory would again
                    variant = f" {dbt_args}" if dbt_args else ""
                    print(
                        f"{stamp} | {side} {fmt} {size_label(lines)}{variant} "
                        f"run {number}/{args.runs}",
                        flush=True,
                    )
                    record = run_one(
                        side,
                        fmt,
                        lines,
                        number,
                        memory_limit=args.memory_limit,
                        timeout=args.timeout,
                        memory_guard_mb=args.memory_guard_gb * 1024,
                        data_dir=args.data_dir,
                        keep=args.keep,
                        invocation=f"{invocation}  # {stamp}",
                        dbt_args=dbt_args,
                    )
                    peak = f"{record.peak_rss_mb / 1024:.2f} GB" if record.peak_rss_mb else "-"
                    print(
                        f"    {record.status} {record.seconds:.1f} s, peak {peak} "
                        f"{record.detail} {record.kept_dir}",
                        flush=True,
                    )
                    with open(args.results_log, "a") as handle:
                        handle.write(json.dumps(asdict(record)) + "\n")
                    if record.status in ("timeout", "oom"):
                        stopped.add((lines, fmt, side, dbt_args))
    args.results_md.write_text(render(load_runs(args.results_log)))
    print(f"wrote {args.results_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
