{#
    The model's features, from the var `cluster_features`, checked: a list of
    {name, source_column, transform, floor_negative} with a plain-identifier name and source
    column, a transform of identity / sqrt / log1p. The SQL that applies the fitted transform
    (nearest_centroid_ctes) loops over this list; the dbt Python models read the same list from
    int_cluster_features. Changing it changes the model (refit on the next build).
#}
{% macro cluster_feature_list() %}
    {%- set features = var("cluster_features") -%}
    {%- set transforms = ["identity", "sqrt", "log1p"] -%}
    {%- set identifier = "[a-z][a-z0-9_]{0,62}" -%}
    {%- if features is string or features is mapping or features is not iterable
            or (features | length) == 0 -%}
        {%- do exceptions.raise_compiler_error(
            "The dbt var cluster_features must be a non-empty list of "
            ~ "{name, source_column, transform} entries; got: "
            ~ (features | string | truncate(120, true, "..."))) -%}
    {%- endif -%}
    {%- set checked, names = [], [] -%}
    {%- for feature in features -%}
        {%- if feature is not mapping
                or not modules.re.fullmatch(identifier, feature.get("name", "") | string)
                or not modules.re.fullmatch(identifier, feature.get("source_column", "") | string)
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
    {{ return(checked) }}
{% endmacro %}
