"""Every persona's conditions with their thresholds as of as_of_date, in original units.

Thin adapter over customer_segments.clustering.build_persona_conditions: the seed's rules with
the population statistics (medians, quartiles) of the clustered customers filled in.
"""

from customer_segments.clustering import build_persona_conditions
from customer_segments.settings import SegmentationSettings, snapshot_customers


def model(dbt, session):
    dbt.config(materialized="table")
    settings = SegmentationSettings.from_table(dbt.ref("int_segmentation_settings").df())
    customers = snapshot_customers(dbt.ref("int_customer_purchase_snapshots").df(), "as_of_date")
    return build_persona_conditions(
        customers,
        dbt.ref("cluster_personas").df(),
        settings=settings.persona,
        min_customers=settings.min_customers,
    )
