"""The fitted feature transform: clipping bounds, log transforms and standardisation per feature.

Thin adapter: the logic is customer_segments.features (pure, tested with pytest).
"""

from customer_segments.features import fit_feature_transform


def model(dbt, session):
    dbt.config(materialized="table")
    rfm = dbt.ref("fct_customer_rfm").df()
    return fit_feature_transform(rfm)
