{#-
    dbt's listagg on Spark, picked up through the `dispatch` setting in dbt_project.yml.
    dbt-spark's own drops `order_by_clause` with a warning (collect_list keeps no order), so
    fct_segment_summary's "most common first" came out in any order. Here each value is
    collected with its sort keys and the array sorted before joining. `order_by_clause` is
    `order by <expr> [asc|desc], ...` with expressions free of commas.
-#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if not order_by_clause -%}
        {%- set collected = "collect_list(" ~ measure ~ ")" -%}
    {%- else -%}
        {%- set keys = modules.re.sub("(?i)^\\s*order\\s+by\\s+", "", order_by_clause).split(",") -%}
        {%- set fields, comparisons = [], [] -%}
        {%- for key in keys -%}
            {%- set parts = modules.re.match("(?is)^\\s*(.+?)(\\s+(asc|desc))?\\s*$", key) -%}
            {%- set before = "1" if (parts.group(3) or "asc") | lower == "desc" else "-1" -%}
            {%- do fields.append(parts.group(1) ~ " as k" ~ loop.index0) -%}
            {%- do comparisons.append(
                "when l.k" ~ loop.index0 ~ " < r.k" ~ loop.index0 ~ " then " ~ before
                ~ " when l.k" ~ loop.index0 ~ " > r.k" ~ loop.index0 ~ " then " ~ (0 - before | int)) -%}
        {%- endfor -%}
        {%- set collected -%}
            transform(
                array_sort(
                    collect_list(struct({{ fields | join(", ") }}, {{ measure }} as v)),
                    (l, r) -> case {{ comparisons | join(" ") }} else 0 end
                ),
                entry -> entry.v
            )
        {%- endset -%}
    {%- endif -%}
    {%- if limit_num -%}
        {%- set collected = "slice(" ~ collected ~ ", 1, " ~ limit_num ~ ")" -%}
    {%- endif -%}
    array_join({{ collected }}, {{ delimiter_text }})
{%- endmacro %}
