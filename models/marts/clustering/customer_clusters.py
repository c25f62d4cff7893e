"""Each customer's cluster and persona, with the distance to its centroid and the margin to the next.

Thin adapter: customers are assigned to the stored centroids with the stored transform, exactly as
new customers would be, without refitting (customer_segments.clustering.build_customer_clusters).
"""

from customer_segments.clustering import build_customer_clusters


def model(dbt, session):
    dbt.config(materialized="table")
    return build_customer_clusters(
        dbt.ref("fct_customer_rfm").df(),
        dbt.ref("cluster_feature_transform").df(),
        dbt.ref("cluster_centroids").df(),
    )
