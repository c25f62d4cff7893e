"""The fitted feature transform: clipping bounds, skew transform and standardisation per feature.

Thin adapter: the logic is customer_segments.features (pure, tested with pytest); the features
are the var cluster_features, through int_cluster_features.
"""

from customer_segments.features import feature_specs, fit_feature_transform


def model(dbt, session):
    dbt.config(materialized="table")
    features = feature_specs(dbt.ref("int_cluster_features").df())
    return fit_feature_transform(dbt.ref("fct_customer_rfm").df(), features)
