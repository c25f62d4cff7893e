"""Centroids of the chosen k-means, in original units and in model space, named by persona.

Thin adapter: the logic is customer_segments.clustering.build_centroids; the settings come from
int_segmentation_settings.
"""

from customer_segments.clustering import build_centroids


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.ref("int_segmentation_settings").df().iloc[0]
    return build_centroids(
        dbt.ref("fct_customer_rfm").df(),
        dbt.ref("cluster_feature_transform").df(),
        dbt.ref("cluster_k_evaluation").df(),
        dbt.ref("cluster_personas").df(),
        random_state=int(settings["cluster_random_state"]),
        n_init=int(settings["cluster_n_init"]),
    )
