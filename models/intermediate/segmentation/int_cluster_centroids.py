"""The clusters of the chosen k-means, named by the personas whose conditions they meet.

Thin adapter over customer_segments.clustering.build_centroids. Published, with its contract, as
cluster_centroids.
"""

from customer_segments.clustering import build_centroids
from customer_segments.settings import SegmentationSettings, snapshot_customers


def model(dbt, session):
    dbt.config(materialized="table")
    settings = SegmentationSettings.from_table(dbt.ref("int_segmentation_settings").df())
    return build_centroids(
        snapshot_customers(dbt.ref("int_customer_purchase_snapshots").df(), "as_of_date"),
        dbt.ref("cluster_feature_transform").df(),
        dbt.ref("int_cluster_k_evaluation").df(),
        dbt.ref("cluster_personas").df(),
        settings=settings.persona,
        random_state=settings.random_state,
        n_init=settings.n_init,
        min_customers=settings.min_customers,
        min_share_meeting_conditions=settings.min_share_meeting_conditions,
    )
