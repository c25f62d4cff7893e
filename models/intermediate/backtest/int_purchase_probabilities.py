"""The chosen purchase model's probabilities: for every customer as of as_of_date (production),
and for the cutoff's customers out of time and cross-validated (the backtest's evidence).

Thin adapter over customer_segments.probability.purchase_probabilities. Empty when the build has
no backtest: the method is chosen by it. Without the as_of_date rows when the chosen method's
backtest AUC is not above 0.5 (it ranks buyers no better than chance: not published).
"""

import pandas as pd

from customer_segments.probability import (
    PROBABILITY_COLUMNS,
    purchase_probabilities,
    ranks_better_than_chance,
)
from customer_segments.settings import SegmentationSettings, snapshot_customers


def model(dbt, session):
    dbt.config(materialized="table")
    settings = SegmentationSettings.from_table(dbt.ref("int_segmentation_settings").df())
    comparison = dbt.ref("int_purchase_model_comparison").df()
    chosen = comparison.loc[comparison["is_chosen"].astype(bool), "method"]
    if chosen.empty:
        return pd.DataFrame(
            {
                column: pd.Series(dtype=dtype)
                for column, dtype in zip(
                    PROBABILITY_COLUMNS,
                    ["string", "string", "int64", "string", "float64"],
                    strict=True,
                )
            }
        )
    snapshots = dbt.ref("int_customer_purchase_snapshots").df()
    return purchase_probabilities(
        snapshot_customers(snapshots, "as_of_date"),
        snapshot_customers(snapshots, "backtest_cutoff"),
        snapshot_customers(snapshots, "training_cutoff"),
        str(chosen.iloc[0]),
        random_state=settings.random_state,
        production=ranks_better_than_chance(comparison),
    )
