"""Evaluate personas, k and the purchase probability on retailers the product was not tuned on.

Run from the project folder (not collected by pytest)::

    .venv/bin/python tests/python/evaluate_shapes.py                 # the synthetic shapes
    .venv/bin/python tests/python/evaluate_shapes.py --default-data  # and data/online_retail.csv

For each data set: the k chosen (as of the as-of date, with the backtest as of the cutoff), the
personas with their sizes and the share of members who meet their persona's conditions, and the
backtest as of the cutoff ``as_of - 90 days``: AUC for "bought in the next 90 days" of the purchase
probability (trained on the snapshot one horizon earlier), of the R+F+M score, of the persona
(the same pipeline fitted at the cutoff, each customer scored by their persona's repeat rate) and
of recency; the probability's largest calibration gap over deciles. Markdown on stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "integration")]

import shapes  # noqa: E402
from customer_segments.backtest import (  # noqa: E402
    calibration_deciles,
    group_rate_scores,
    ranking_auc,
    rfm_score,
)
from customer_segments.clustering import run_segmentation  # noqa: E402
from customer_segments.probability import (  # noqa: E402
    build_purchase_probability,
    compare_purchase_models,
)

PERSONAS = HERE.parents[1] / "seeds" / "cluster_personas.csv"


def _scores_at_cutoff(recent: pd.DataFrame, personas: pd.DataFrame, earlier: pd.DataFrame):
    """Persona of every customer as of the cutoff (the pipeline fitted on the cutoff data)."""
    tables = run_segmentation(recent, personas, backtest_rfm=earlier)
    labels = tables["customer_clusters"].set_index("customer_id")["persona_key"]
    return labels.reindex(recent["customer_id"]).to_numpy(), tables


def evaluate(name: str, orders: pd.DataFrame, as_of: pd.Timestamp) -> dict:
    personas = pd.read_csv(PERSONAS)
    snaps = shapes.snapshots(orders, as_of)
    current, recent, earlier = snaps["current"], snaps["recent"], snaps["earlier"]
    started = time.process_time()
    tables = run_segmentation(current, personas, backtest_rfm=recent)
    seconds = time.process_time() - started
    evaluation, centroids = tables["k_evaluation"], tables["centroids"]
    chosen = evaluation.loc[evaluation["is_chosen"]].iloc[0]
    labels = tables["customer_clusters"]["persona_key"]

    y = recent["has_next_period_purchase"].to_numpy(dtype=bool)
    try:
        persona_at_cutoff, _ = _scores_at_cutoff(recent, personas, earlier)
        auc_persona = ranking_auc(group_rate_scores(persona_at_cutoff, y), y)
    except ValueError as error:  # e.g. too few customers at the cutoff to cluster
        auc_persona, persona_note = float("nan"), str(error).split(":")[0]
    else:
        persona_note = ""
    started = time.process_time()
    probability = build_purchase_probability(current, recent, earlier)
    probability_seconds = time.process_time() - started
    backtest = probability["backtest_predictions"]
    comparison = probability["model_comparison"]
    bought = recent["frequency"].to_numpy() >= 1
    score = np.zeros(len(recent))
    score[bought] = rfm_score(recent.loc[bought])
    recency = -recent["recency_days"].fillna(10**6).to_numpy(dtype=float)
    deciles = calibration_deciles(backtest["next_purchase_probability"], y)
    method = comparison.loc[comparison["is_chosen"], "method"].iloc[0]
    # The same method cross-validated within the recent horizon: calibration without drift.
    in_time = compare_purchase_models(None, recent, methods=[method])[0].iloc[0]
    return {
        "name": name,
        "customers": len(current),
        "clustered": int(centroids["customer_count"].sum()),
        "k": int(chosen["k"]),
        "reason": chosen["reason"],
        "evaluation": evaluation,
        "centroids": centroids,
        "rule_counts": labels[~labels.isin(centroids["persona_key"])].value_counts(),
        "seconds": seconds,
        "probability_seconds": probability_seconds,
        "base_rate": float(y.mean()),
        "auc_probability": ranking_auc(backtest["next_purchase_probability"], y),
        "auc_rfm": ranking_auc(score, y),
        "auc_persona": auc_persona,
        "persona_note": persona_note,
        "auc_recency": ranking_auc(recency, y),
        "method": method,
        "in_time_max_gap": float(in_time["max_abs_decile_gap"]),
        "in_time_auc": float(in_time["auc"]),
        "comparison": comparison,
        "max_gap": float(deciles["gap"].abs().max()),
        "deciles": deciles,
    }


def report(result: dict) -> str:
    lines = [f"### {result['name']}", ""]
    lines.append(
        f"{result['customers']:,} customers ({result['clustered']:,} clustered); k = "
        f"{result['k']}; segmentation {result['seconds']:.1f} s CPU, the probability "
        f"{result['probability_seconds']:.1f} s CPU."
    )
    lines += ["", f"Reason: {result['reason']}", ""]
    lines.append("| k | silhouette | stability ARI | backtest AUC | unnamed clusters | votes |")
    lines.append("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in result["evaluation"].itertuples():
        lines.append(
            f"| {row.k} | {row.silhouette:.3f} | {row.stability_ari:.3f} | "
            f"{row.backtest_auc:.3f} | {row.unnamed_clusters:.0f} | {row.votes} |"
        )
    lines += ["", "| persona | customers | members meeting its conditions | median R / F / M / T |"]
    lines.append("| --- | ---: | ---: | --- |")
    for row in result["centroids"].itertuples():
        share = (
            "-" if np.isnan(row.share_meeting_conditions) else f"{row.share_meeting_conditions:.0%}"
        )
        lines.append(
            f"| {row.persona_key} | {row.customer_count:,} | {share} | "
            f"{row.median_recency_days:.0f} / {row.median_frequency:g} / "
            f"{row.median_monetary:,.0f} / {row.median_tenure_days:.0f} |"
        )
    for key, count in result["rule_counts"].items():
        lines.append(f"| {key} (rule) | {count:,} | 100% | |")
    lines += [
        "",
        f"Backtest (base rate {result['base_rate']:.3f}): AUC probability "
        f"{result['auc_probability']:.3f} ({result['method']}), R+F+M score "
        f"{result['auc_rfm']:.3f}, persona {result['auc_persona']:.3f}, recency "
        f"{result['auc_recency']:.3f}; largest decile calibration gap {result['max_gap']:.3f} "
        f"(cross-validated within the horizon: AUC {result['in_time_auc']:.3f}, largest gap "
        f"{result['in_time_max_gap']:.3f})."
        + (f" Persona at the cutoff: {result['persona_note']}." if result["persona_note"] else ""),
        "",
        "| method | AUC | Brier | largest decile gap |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in result["comparison"].itertuples():
        lines.append(
            f"| {row.method} | {row.auc:.3f} | {row.brier_score:.4f} | {row.max_abs_decile_gap:.3f} |"
        )
    lines += ["", "| decile | customers | predicted | observed |", "| ---: | ---: | ---: | ---: |"]
    for row in result["deciles"].itertuples():
        lines.append(
            f"| {row.decile} | {row.customers} | {row.mean_predicted:.3f} | {row.observed_rate:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--default-data",
        action="store_true",
        help="also evaluate data/online_retail.csv (make data)",
    )
    parser.add_argument("--only", nargs="*", default=None, help="shape names to run")
    args = parser.parse_args(argv)
    names = args.only or list(shapes.SHAPES)
    for name in names:
        if name == "default":
            continue
        print(
            report(evaluate(name, shapes.invoices(shapes.SHAPES[name]), shapes.AS_OF)), flush=True
        )
    if args.default_data or (args.only and "default" in args.only):
        import independent_cleaning

        path = HERE.parents[1] / "data" / "online_retail.csv"
        lines = independent_cleaning.classify(independent_cleaning.read_raw(path))
        orders = shapes.online_retail_invoices(lines)
        as_of = orders["invoice_date"].max() + pd.Timedelta(days=1)
        print(report(evaluate("default data (online_retail.csv)", orders, as_of)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
