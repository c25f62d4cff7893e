"""The backtest's segments: the pipeline refitted as of the cutoff, with what customers did next.

Thin adapter over customer_segments.clustering.build_backtest_segments: transform, k-means at the
k chosen as of as_of_date, and names earned by conditions, all fitted on the customers of the
cutoff (as_of_date - prediction_horizon_days) from the lines before it; beside each customer's
persona, whether they bought in the horizon after the cutoff and their net revenue there, and
the persona's repeat rate measured on the other half of the customers (persona_score, the
persona's ranking for the AUC without in-sample optimism). Empty when the build has no backtest
(int_backtest_status says why).
"""

from customer_segments.backtest import backtest_segment_scores
from customer_segments.clustering import build_backtest_segments
from customer_segments.features import feature_specs
from customer_segments.selection import chosen_k
from customer_segments.settings import SegmentationSettings, snapshot_customers


def model(dbt, session):
    dbt.config(materialized="table")
    settings = SegmentationSettings.from_table(dbt.ref("int_segmentation_settings").df())
    status = dbt.ref("int_backtest_status").df().iloc[0]
    customers = snapshot_customers(
        dbt.ref("int_customer_purchase_snapshots").df(), "backtest_cutoff"
    )
    segments = None
    if bool(status["is_computed"]):
        segments = build_backtest_segments(
            customers,
            dbt.ref("cluster_personas").df(),
            chosen_k(dbt.ref("int_cluster_k_evaluation").df()),
            settings=settings.persona,
            random_state=settings.random_state,
            n_init=settings.n_init,
            min_customers=settings.min_customers,
            min_share_meeting_conditions=settings.min_share_meeting_conditions,
            features=feature_specs(dbt.ref("cluster_feature_transform").df()),
        )
    return backtest_segment_scores(segments, random_state=settings.random_state)
