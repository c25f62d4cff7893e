{#
    The model's features, from the var `cluster_features`, checked: a list of
    {name, source_column, transform, floor_negative} naming each of recency, frequency, monetary
    and tenure once (the published tables have a column for each), a numeric source column of
    fct_customer_rfm, a transform of identity / sqrt / log1p and floor_negative true or false;
    an unknown key stops the build too. The SQL that applies the fitted transform
    (nearest_centroid_ctes) loops over this list; the dbt Python models read the same list from
    int_cluster_features. Changing it changes the model (refit on the next build).
#}
{% macro cluster_feature_list() %}
    {%- set features = var("cluster_features") -%}
    {%- set transforms = ["identity", "sqrt", "log1p"] -%}
    {#- The published tables (cluster_centroids, cluster_feature_transform) have a column per
        feature under these names; what each is computed from (source_column, transform,
        floor_negative) can change. -#}
    {%- set feature_names = ["recency", "frequency", "monetary", "tenure"] -%}
    {#- Numeric columns of fct_customer_rfm that every customer with a purchase has. -#}
    {%- set source_columns = ["recency_days", "tenure_days", "frequency", "monetary",
        "gross_revenue", "returned_revenue", "average_order_value", "recency_score",
        "frequency_score", "monetary_score"] -%}
    {%- set keys = ["name", "source_column", "transform", "floor_negative"] -%}
    {%- if features is string or features is mapping or features is not iterable
            or (features | length) == 0 -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var cluster_features must be a non-empty list of "
            ~ "{name, source_column, transform} entries; got: "
            ~ (features | string | truncate(120, true, "..."))) -%}
    {%- endif -%}
    {%- set checked, names = [], [] -%}
    {%- for feature in features -%}
        {%- if feature is mapping and (feature.keys() | reject("in", keys) | list) -%}
            {%- do exceptions.raise_compiler_error(
                "The dbt var cluster_features: entry " ~ loop.index ~ " has unknown key(s) "
                ~ (feature.keys() | reject("in", keys) | join(", ")) ~ "; the keys are "
                ~ (keys | join(", ")) ~ "; got: " ~ (feature | string | truncate(120, true, "..."))) -%}
        {%- endif -%}
        {%- if feature is mapping and "floor_negative" in feature
                and feature["floor_negative"] is not sameas true
                and feature["floor_negative"] is not sameas false -%}
            {%- do exceptions.raise_compiler_error(
                "The dbt var cluster_features: entry " ~ loop.index ~ ": floor_negative must be "
                ~ "true or false; got: " ~ (feature["floor_negative"] | string | truncate(40, true, "..."))) -%}
        {%- endif -%}
        {%- if feature is mapping and (feature.get("name") not in feature_names
                or feature.get("source_column") not in source_columns) -%}
            {%- do exceptions.raise_compiler_error(
                "The dbt var cluster_features: entry " ~ loop.index ~ " must be named one of "
                ~ (feature_names | join(", ")) ~ " (the published tables have a column for each; "
                ~ "what it is computed from can change) with a source_column among "
                ~ (source_columns | join(", ")) ~ "; got: "
                ~ (feature | string | truncate(120, true, "..."))) -%}
        {%- endif -%}
        {#- name and source_column are checked against their lists above. -#}
        {%- if feature is not mapping
                or feature.get("transform", "identity") not in transforms
                or feature.get("name") in names -%}
            {%- do exceptions.raise_compiler_error(
                "The dbt var cluster_features: entry " ~ loop.index ~ " must have a distinct "
                ~ "lower-case name, a source_column of fct_customer_rfm and a transform among "
                ~ (transforms | join(", ")) ~ "; got: "
                ~ (feature | string | truncate(120, true, "..."))) -%}
        {%- endif -%}
        {%- do names.append(feature["name"]) -%}
        {%- do checked.append({
            "position": loop.index0,
            "name": feature["name"],
            "source_column": feature["source_column"],
            "transform": feature.get("transform", "identity"),
            "floor_negative": feature.get("floor_negative", false) is sameas true,
        }) -%}
    {%- endfor -%}
    {%- if (names | sort) != (feature_names | sort) -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var cluster_features must list each of " ~ (feature_names | join(", "))
            ~ " once (the published tables have a column for each); got: "
            ~ (names | join(", "))) -%}
    {%- endif -%}
    {{ return(checked) }}
{% endmacro %}
