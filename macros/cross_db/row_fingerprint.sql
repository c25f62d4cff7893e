{#-
    A number (or text) that is equal for rows equal in every one of `columns`, NULLs included.
    Different rows may share a fingerprint (a hash collision), so it may only narrow a search
    that is then settled on the columns themselves, as int_order_lines_cleaned does for
    duplicates. DuckDB hashes the values natively (a 64-bit number, several times cheaper than
    grouping by eight wide columns); the default is dbt's cross-database md5 of the values as
    text.
-#}
{% macro row_fingerprint(columns) %}
    {{ return(adapter.dispatch("row_fingerprint", "customer_segments")(columns)) }}
{% endmacro %}

{% macro default__row_fingerprint(columns) %}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(" ~ dbt.safe_cast(column, string_type()) ~ ", '')") -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{% endmacro %}

{% macro duckdb__row_fingerprint(columns) %}
    hash({{ columns | join(", ") }})
{% endmacro %}

{#- Spark's 64-bit xxHash of the values (NULLs are skipped, which only adds collisions). -#}
{% macro spark__row_fingerprint(columns) %}
    xxhash64({{ columns | join(", ") }})
{% endmacro %}
