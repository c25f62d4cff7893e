"""The fitted feature transform: fences, skew transform and robust standardisation per feature.

Thin adapter over customer_segments.clustering.build_feature_transform (pure, tested with
pytest): fitted on the customers of as_of_date that are clustered (no rule persona), with the
features of the var cluster_features.
"""

from customer_segments.clustering import build_feature_transform
from customer_segments.features import feature_specs
from customer_segments.settings import SegmentationSettings, snapshot_customers


def model(dbt, session):
    dbt.config(materialized="table")
    settings = SegmentationSettings.from_table(dbt.ref("int_segmentation_settings").df())
    customers = snapshot_customers(dbt.ref("int_customer_purchase_snapshots").df(), "as_of_date")
    return build_feature_transform(
        customers,
        dbt.ref("cluster_personas").df(),
        min_customers=settings.min_customers,
        features=feature_specs(dbt.ref("int_cluster_features").df()),
    )
