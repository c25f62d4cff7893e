"""How much of the purchase probability's out-of-time calibration gap is the season? (docs/calibration.md)

Run from the project folder (not collected by pytest; about a minute)::

    .venv/bin/python tests/python/evaluate_season.py

Writes the default data (seed 42, 541,909 lines) twice into a temporary folder, as ``make
build`` does and once more with customers who buy as often in every month of the year (the
generator's ``PURCHASE_SEASON_EXPONENT`` set to 0 for that run: the calendar, baskets and guest
checkouts keep their season), builds each with ``customer_segments.publish`` and prints, for each,
the backtest's calibration of every candidate method out of time (trained as of ``as_of - 180``
days, judged as of ``as_of - 90`` on the next 90 days), and that of the chosen one out of time
and cross-validated within the last horizon.
Markdown on stdout.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb

from customer_segments import publish
from online_retail_generator import generate

PROJECT = Path(__file__).resolve().parents[2]
SEED = 42


def build(folder: Path, season_exponent: float) -> Path:
    """The default data with this season exponent, built; returns the warehouse."""
    folder.mkdir(parents=True)
    lines = folder / "online_retail.csv"
    saved = generate.PURCHASE_SEASON_EXPONENT
    generate.PURCHASE_SEASON_EXPONENT = season_exponent
    try:
        generate.write_dataset(lines, folder / "personas.csv", generate.DEFAULT_LINES, SEED)
    finally:
        generate.PURCHASE_SEASON_EXPONENT = saved
    warehouse = folder / "segments.duckdb"
    os.environ["RAW_ORDERS_PATH"] = str(lines)
    code = publish.main(["--warehouse", str(warehouse), "--project-dir", str(PROJECT)])
    if code != 0:
        raise SystemExit(f"the build of {lines} failed ({code})")
    return warehouse


def report(name: str, warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql(
            "select method, validation, auc, mean_predicted, observed_rate,"
            " max_abs_decile_gap, deciles_outside_sampling_error, is_chosen"
            " from main.fct_purchase_model_comparison order by validation desc, method"
        ).fetchall()
        deciles = con.sql(
            "select validation, max(abs(gap)), count(*) filter (not is_gap_within_sampling_error)"
            " from main.fct_backtest_calibration group by validation order by validation desc"
        ).fetchall()
        [(base_rate,)] = con.sql(
            "select base_rate from main.fct_backtest_summary"
            " where ranking = 'next_purchase_probability'"
        ).fetchall()
    print(f"\n{name} (base rate {base_rate:.3f})\n")
    print("| method | validation | AUC | predicted | observed | largest gap | deciles off |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for method, validation, auc, predicted, observed, gap, off, chosen in rows:
        label = f"**{method}** (chosen)" if chosen else method
        print(
            f"| {label} | {validation} | {auc:.3f} | {predicted:.3f} | {observed:.3f} "
            f"| {gap:.3f} | {off} |"
        )
    print("\nThe published method's deciles (fct_backtest_calibration):\n")
    print("| validation | largest gap | deciles off |")
    print("| --- | ---: | ---: |")
    for validation, gap, off in deciles:
        print(f"| {validation} | {gap:.3f} | {off} |")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for name, exponent in (
            ("default data: the real file's season", generate.PURCHASE_SEASON_EXPONENT),
            ("the same shop without a season", 0.0),
        ):
            report(name, build(Path(tmp) / f"season_{exponent}", exponent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
