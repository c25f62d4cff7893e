"""Benchmark inputs: generated order lines at any size, CSV or Parquet, cached in ``bench/out/data``.

The generator is deterministic (same seed and size give identical files), so a cached file is
reused. A file made by another version of the generator is still used (all sides read the same
file) but flagged: ``--regenerate`` rebuilds it.

    python -m bench.data --sizes 0.5M,5M --formats csv,parquet
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

from bench.common import PROJECT_DIR

DATA_DIR = PROJECT_DIR / "bench" / "out" / "data"
GENERATOR = PROJECT_DIR / "python" / "online_retail_generator" / "generate.py"
SEED = 42
FORMATS = ("csv", "parquet")


def parse_size(text: str) -> int:
    """'0.5M' -> 500000, '50k' -> 50000, '1200' -> 1200."""
    text = text.strip().upper().replace("_", "")
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if scale > 1 else text
    return round(float(number) * scale)


def size_label(lines: int) -> str:
    """500000 -> '0.5M', 50000 -> '50k'."""
    if lines >= 100_000:
        return f"{lines / 1_000_000:g}M"
    if lines >= 1_000:
        return f"{lines / 1_000:g}k"
    return str(lines)


def generator_digest() -> str:
    return hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:12]


def dataset_path(lines: int, fmt: str, data_dir: Path = DATA_DIR) -> Path:
    return data_dir / f"lines_{lines}.{fmt}"


def ensure_dataset(
    lines: int,
    fmt: str = "csv",
    *,
    data_dir: Path = DATA_DIR,
    seed: int = SEED,
    regenerate: bool = False,
    log=print,
) -> Path:
    """Return the path of the order lines file of ``lines`` lines, generating it when missing.

    Writes ``<file>.json`` beside it with the generator's digest, the seed and the generation time.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    path = dataset_path(lines, fmt, data_dir)
    meta_path = path.with_name(path.name + ".json")
    if path.exists() and not regenerate:
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
            if meta.get("generator") != generator_digest():
                log(
                    f"note: {path.name} was made by another version of the generator "
                    "(pass --regenerate to rebuild)"
                )
        return path
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    personas = data_dir / f"personas_{lines}.csv"
    log(f"generating {size_label(lines)} lines as {fmt} -> {path}")
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "online_retail_generator",
            "--seed",
            str(seed),
            "--lines",
            str(lines),
            "--out",
            str(partial),
            "--personas-out",
            str(personas),
            "--format",
            fmt,
        ],
        check=True,
        cwd=PROJECT_DIR,
    )
    partial.replace(path)
    meta = {
        "lines": lines,
        "format": fmt,
        "seed": seed,
        "generator": generator_digest(),
        "seconds": round(time.perf_counter() - started, 1),
        "bytes": path.stat().st_size,
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.data", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", default="0.5M,5M", help="comma-separated, e.g. 0.5M,5M,50M")
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    for size in args.sizes.split(","):
        for fmt in args.formats.split(","):
            print(
                ensure_dataset(
                    parse_size(size), fmt, data_dir=args.data_dir, regenerate=args.regenerate
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
