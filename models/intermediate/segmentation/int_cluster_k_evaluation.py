"""One row per candidate k with every criterion, and which k was chosen and why.

Thin adapter over customer_segments.clustering.build_k_evaluation: the geometric criteria and the
label stability on the customers of as_of_date, the backtest separation on those of the cutoff
(as_of_date - prediction_horizon_days, with what they did in the horizon after it). Published,
with its contract, as cluster_k_evaluation.
"""

from customer_segments.clustering import build_k_evaluation
from customer_segments.settings import SegmentationSettings, snapshot_customers


def model(dbt, session):
    dbt.config(materialized="table")
    settings = SegmentationSettings.from_table(dbt.ref("int_segmentation_settings").df())
    snapshots = dbt.ref("int_customer_purchase_snapshots").df()
    return build_k_evaluation(
        snapshot_customers(snapshots, "as_of_date"),
        dbt.ref("cluster_feature_transform").df(),
        dbt.ref("cluster_personas").df(),
        k=settings.k,
        k_min=settings.k_min,
        k_max=settings.k_max,
        backtest_rfm=snapshot_customers(snapshots, "backtest_cutoff"),
        random_state=settings.random_state,
        n_init=settings.n_init,
        min_customers=settings.min_customers,
        settings=settings.persona,
        min_share_meeting_conditions=settings.min_share_meeting_conditions,
    )
