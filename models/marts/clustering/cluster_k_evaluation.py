"""One row per candidate k with every metric, and which k was chosen and why.

Thin adapter: the logic is customer_segments.clustering.build_k_evaluation. The settings (the
vars cluster_k, cluster_random_state, cluster_n_init, checked by the on-run-start hook
validate_vars) come from int_segmentation_settings.
"""

from customer_segments.clustering import build_k_evaluation


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.ref("int_segmentation_settings").df().iloc[0]
    personas = dbt.ref("cluster_personas").df()
    k_setting = str(settings["cluster_k"]).strip().lower()
    return build_k_evaluation(
        dbt.ref("fct_customer_rfm").df(),
        dbt.ref("cluster_feature_transform").df(),
        k="auto" if k_setting == "auto" else int(k_setting),
        max_k=len(personas),
        random_state=int(settings["cluster_random_state"]),
        n_init=int(settings["cluster_n_init"]),
    )
