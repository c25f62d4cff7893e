"""The purchase-probability candidates, each trained one horizon before the cutoff and judged on
what the cutoff's customers did next (out of time), and which one the build uses.

Thin adapter over customer_segments.probability.compare_purchase_models and
choose_purchase_model. Empty when the build has no backtest (int_backtest_status says why).
"""

from customer_segments.probability import model_comparison_table
from customer_segments.settings import SegmentationSettings, snapshot_customers


def model(dbt, session):
    dbt.config(materialized="table")
    settings = SegmentationSettings.from_table(dbt.ref("int_segmentation_settings").df())
    status = dbt.ref("int_backtest_status").df().iloc[0]
    snapshots = dbt.ref("int_customer_purchase_snapshots").df()
    if not bool(status["is_computed"]):
        return model_comparison_table(None, None, random_state=settings.random_state)
    return model_comparison_table(
        snapshot_customers(snapshots, "training_cutoff"),
        snapshot_customers(snapshots, "backtest_cutoff"),
        random_state=settings.random_state,
    )
