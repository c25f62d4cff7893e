"""One row per candidate k with every metric, and which k was chosen and why.

Thin adapter: the logic is customer_segments.clustering.build_k_evaluation.
"""

from customer_segments.clustering import build_k_evaluation


def _k_setting(value):
    """The dbt var cluster_k: 'auto' or a whole number."""
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise ValueError(f"The dbt var cluster_k must be 'auto' or a whole number >= 2; got {value!r}")


def model(dbt, session):
    dbt.config(materialized="table")
    rfm = dbt.ref("fct_customer_rfm").df()
    params = dbt.ref("cluster_feature_transform").df()
    personas = dbt.ref("cluster_personas").df()
    return build_k_evaluation(
        rfm,
        params,
        k=_k_setting(dbt.config.get("cluster_k")),
        max_k=len(personas),
        random_state=int(dbt.config.get("cluster_random_state")),
        n_init=int(dbt.config.get("cluster_n_init")),
    )
