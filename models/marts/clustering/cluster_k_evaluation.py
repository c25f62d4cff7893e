"""One row per candidate k with every metric, and which k was chosen and why.

Thin adapter: the logic is customer_segments.clustering.build_k_evaluation. The var cluster_k
reaches this model as config (see _clustering__models.yml), already checked by the
on-run-start hook validate_vars.
"""

from customer_segments.clustering import build_k_evaluation


def model(dbt, session):
    dbt.config(materialized="table")
    personas = dbt.ref("cluster_personas").df()
    k_setting = str(dbt.config.get("cluster_k")).strip().lower()
    return build_k_evaluation(
        dbt.ref("fct_customer_rfm").df(),
        dbt.ref("cluster_feature_transform").df(),
        k="auto" if k_setting == "auto" else int(k_setting),
        max_k=len(personas),
        random_state=int(dbt.config.get("cluster_random_state")),
        n_init=int(dbt.config.get("cluster_n_init")),
    )
